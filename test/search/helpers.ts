/** Shared by the search tests: a small config and a result snapshot of a run folder. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseConfig, type SearchConfig } from '../../src/search/config.js';
import { Journal } from '../../src/search/journal.js';

/** The CLI entry point, bin/cse-autoloss.js. */
export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'cse-autoloss.js');

/** Makes the tests' tiny generated mnist-det (48 images, 64 px, seed 3) in `out` with `cse-autoloss data make`; throws with its stderr if that fails. */
export function makeTinyMnistDet(out: string): string {
  const r = spawnSync(
    process.execPath,
    [CLI, 'data', 'make', '--kind', 'mnist-det', '--images', '48', '--size', '64', '--seed', '3', '--out', out],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`data make failed (exit ${r.status}): ${r.stderr}`);
  return out;
}

export const tmpDir = (p = 'cse-search-') => mkdtempSync(join(tmpdir(), p));

export const SMALL = {
  mode: 'reg',
  seed: 1,
  population: { size: 250, maxSize: 25, minDepth: 2, maxDepth: 5 },
  evolution: { generations: 3, parents: 5, elites: 2 },
  mos: { level1: { samples: 32, steps: 60 } },
  proxy: { topK: 4, task: { iters: 60 } },
  final: { top: 2, seeds: [0, 1], task: { iters: 80 } },
  pool: { workers: 0 },
};

export function smallConfig(over: Record<string, unknown> = {}): SearchConfig {
  const merged = structuredClone(SMALL) as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    merged[k] = v && typeof v === 'object' && !Array.isArray(v) ? { ...(merged[k] as object), ...(v as object) } : v;
  }
  return parseConfig(merged);
}

/** Everything result-bearing in a run's journal (timings excluded). */
export function snapshot(dir: string): unknown {
  const j = Journal.open(dir, { readonly: true });
  try {
    const cands = j
      .candidates()
      .map((c) => [c.gen, c.idx, c.loss, c.fingerprint, c.parents.join('+'), c.origin, c.op, c.fate, c.mosScore, c.fitness]);
    const gens = j.generations().map((g) => {
      const rest = { ...(g.stats as Record<string, unknown>) };
      delete rest.stageSeconds;
      return rest;
    });
    const results = j
      .allResults()
      .map((r) => [r.fingerprint, r.stage, r.key, r.status, r.pass, r.score, JSON.stringify(r.metrics)].join('|'))
      .sort();
    const summary = JSON.parse(j.getMeta('summary') ?? 'null') as Record<string, unknown> | null;
    if (summary) {
      delete summary.elapsedMs;
      summary.generations = (summary.generations as Record<string, unknown>[]).map((g) => {
        const rest = { ...g };
        delete rest.stageSeconds;
        return rest;
      });
    }
    return { cands, gens, results, summary, default: j.getMeta('default'), status: j.getMeta('status') };
  } finally {
    j.close();
  }
}

/**
 * Starts `cse-autoloss search --config cfgFile --out out --json-log` in a child process and sends
 * `signals` once generation 1's MOS is under way; resolves when the process has closed.
 */
export async function interruptedSearch(
  cfgFile: string,
  out: string,
  signals: NodeJS.Signals[],
): Promise<{ code: number | null; stderr: string; lastEvent: Record<string, unknown> }> {
  const p = spawn(process.execPath, [CLI, 'search', '--config', cfgFile, '--out', out, '--json-log'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  // 'close', not 'exit': the exit can be seen before the last stderr lines (checked by the tests) are read
  const exit = new Promise<number | null>((r) => p.on('close', (c) => r(c)));
  let sent = false;
  let last: Record<string, unknown> = {};
  for await (const line of createInterface({ input: p.stdout! })) {
    last = JSON.parse(line) as Record<string, unknown>;
    if (!sent && last.type === 'stage' && last.gen === 1 && last.stage === 'mos1') {
      sent = true;
      for (const s of signals) p.kill(s);
    }
  }
  assert.ok(sent, 'the run reached generation 1');
  return { code: await exit, stderr, lastEvent: last };
}
