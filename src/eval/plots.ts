import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lineChartSvg, type Series } from '../util/svg.js';
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

/** An SVG line plot of precision against recall (points where precision is undefined are left out). */
export function prCurveSvg(title: string, recThrs: ArrayLike<number>, curves: PrCurve[]): string {
  const series: Series[] = curves.map((c) => ({
    name: c.label,
    points: c.precision.flatMap((p, r): [number, number][] => (p < 0 ? [] : [[recThrs[r]!, p]])),
  }));
  return (
    lineChartSvg({
      title,
      xLabel: 'recall',
      yLabel: 'precision',
      series,
      width: 640,
      height: 400,
      xRange: [0, 1],
      yRange: [0, 1],
      legendWidth: 170,
    }) + '\n'
  );
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
