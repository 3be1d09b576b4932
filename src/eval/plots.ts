import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CocoEvalResult } from './cocoeval.js';

/** One precision-recall curve: precision at each of the 101 recall thresholds. */
export interface PrCurve {
  label: string;
  precision: number[]; // [R], -1 where undefined
}

/**
 * Precision at each recall threshold for area 'all' and maxDets 100, averaged over the
 * classes with ground truth (k = null) or for one class index k; IoU threshold index t, or
 * the mean over all thresholds (t = null).
 */
export function precisionCurve(res: CocoEvalResult, k: number | null, t: number | null): number[] {
  const { T, R, K, A, M } = res.counts;
  const out: number[] = [];
  for (let ri = 0; ri < R; ri++) {
    let sum = 0;
    let n = 0;
    for (let ti = 0; ti < T; ti++) {
      if (t !== null && ti !== t) continue;
      for (let ki = 0; ki < K; ki++) {
        if (k !== null && ki !== k) continue;
        const v = res.precision[(((ti * R + ri) * K + ki) * A + 0) * M + (M - 1)]!;
        if (v > -1) {
          sum += v;
          n++;
        }
      }
    }
    out.push(n ? sum / n : -1);
  }
  return out;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A self-contained SVG line plot of precision against recall. */
export function prCurveSvg(title: string, recThrs: ArrayLike<number>, curves: PrCurve[]): string {
  const W = 480;
  const H = 400;
  const L = 56;
  const Rm = 16;
  const Tm = 36;
  const B = 48;
  const pw = W - L - Rm;
  const ph = H - Tm - B;
  const x = (v: number): number => L + v * pw;
  const y = (v: number): number => Tm + (1 - v) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    parts.push(`<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(1)}" stroke="#eee"/>`);
    parts.push(`<line x1="${x(0)}" y1="${y(v)}" x2="${x(1)}" y2="${y(v)}" stroke="#eee"/>`);
    if (i % 2 === 0) {
      parts.push(`<text x="${x(v)}" y="${y(0) + 16}" text-anchor="middle">${v.toFixed(1)}</text>`);
      parts.push(`<text x="${x(0) - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`);
    }
  }
  parts.push(`<rect x="${L}" y="${Tm}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 12}" text-anchor="middle">recall</text>`);
  parts.push(`<text x="14" y="${Tm + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${Tm + ph / 2})">precision</text>`);
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts: string[] = [];
    for (let r = 0; r < c.precision.length; r++) {
      const p = c.precision[r]!;
      if (p < 0) continue;
      pts.push(`${x(recThrs[r]!).toFixed(2)},${y(p).toFixed(2)}`);
    }
    if (pts.length) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts.join(' ')}"/>`);
    const ly = Tm + 14 + i * 16;
    parts.push(`<line x1="${x(1) - 150}" y1="${ly - 4}" x2="${x(1) - 130}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${x(1) - 124}" y="${ly}">${esc(c.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function curvesFor(res: CocoEvalResult, k: number | null): PrCurve[] {
  const ap = (p: number[]): string => {
    const v = p.filter((q) => q > -1);
    return v.length ? (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3) : 'n/a';
  };
  const c50 = precisionCurve(res, k, 0);
  const c75 = precisionCurve(res, k, 5);
  const cAll = precisionCurve(res, k, null);
  return [
    { label: `IoU 0.50 (AP ${ap(c50)})`, precision: c50 },
    { label: `IoU 0.75 (AP ${ap(c75)})`, precision: c75 },
    { label: `IoU .50:.95 (AP ${ap(cAll)})`, precision: cAll },
  ];
}

/**
 * Writes precision-recall plots as SVG: `pr-all.svg` (classes averaged) and one
 * `pr-class-<id>.svg` per class with ground truth. Returns the files written.
 */
export async function writePrPlots(res: CocoEvalResult, dir: string, names?: Map<number, string>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const all = join(dir, 'pr-all.svg');
  await writeFile(all, prCurveSvg('Precision-recall, all classes (area all, maxDets 100)', res.recThrs, curvesFor(res, null)));
  files.push(all);
  for (let k = 0; k < res.catIds.length; k++) {
    const curves = curvesFor(res, k);
    if (curves[0]!.precision.every((p) => p < 0)) continue; // no ground truth for this class
    const id = res.catIds[k]!;
    const file = join(dir, `pr-class-${id}.svg`);
    await writeFile(file, prCurveSvg(`Precision-recall, class ${id}${names?.get(id) ? ` (${names.get(id)})` : ''}`, res.recThrs, curves));
    files.push(file);
  }
  return files;
}
