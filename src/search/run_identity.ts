/**
 * What identifies a search run: the hash of the result-determining config fields (the resume
 * check) and the differences between two configs, as the refusal of a resume with another
 * config lists them. Pool layout and timeouts do not change a result and are left out.
 */
import { createHash } from 'node:crypto';
import type { SearchConfig } from './config.js';

/** Fields that do not change any result (excluded from the resume check). */
const RESULT_NEUTRAL = ['pool', 'proxy.task.timeoutSeconds', 'mos.level2.task.timeoutSeconds', 'final.task.timeoutSeconds'];

function stripNeutral(c: SearchConfig): Record<string, unknown> {
  const o = structuredClone(c) as unknown as Record<string, unknown>;
  for (const p of RESULT_NEUTRAL) {
    const keys = p.split('.');
    let x: Record<string, unknown> | undefined = o;
    for (const k of keys.slice(0, -1)) x = x?.[k] as Record<string, unknown> | undefined;
    if (x) delete x[keys[keys.length - 1]!];
  }
  return o;
}

/** Stable JSON (sorted keys). */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const keys = Object.keys(v as object).sort();
  return `{${keys
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

export function hashOf(v: unknown): string {
  return createHash('sha256').update(stableStringify(v)).digest('hex').slice(0, 16);
}

/** Hash of what determines the results (pool layout and timeouts excluded). */
export function configHash(c: SearchConfig): string {
  return hashOf(stripNeutral(c));
}

/** Differences in the result-determining fields, as 'path: old → new' lines. */
export function configDiff(a: SearchConfig, b: SearchConfig): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (isObj(x) && isObj(y)) {
      const keys = new Set([...Object.keys(x as object), ...Object.keys(y as object)]);
      for (const k of [...keys].sort())
        walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      return;
    }
    if (stableStringify(x) !== stableStringify(y)) out.push(`${path}: ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
  };
  walk(stripNeutral(a), stripNeutral(b), '');
  return out;
}
