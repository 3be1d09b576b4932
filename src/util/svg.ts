/** The project's one SVG line chart (training loss and AP curves, precision-recall plots) and its escaping. */

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One palette for every chart. */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export interface Series {
  name: string;
  /** [x, y] pairs; non-finite points are skipped. */
  points: [number, number][];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Fixed axis ranges; by default x spans the data and y spans min(0, data)..max(data). */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Width of the legend column on the right (default 130). */
  legendWidth?: number;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

/**
 * Round tick values for an axis over [lo, hi]: the multiples of a step of 1, 2, 2.5 or 5 x 10^k,
 * chosen so that about `target` intervals fit, that lie inside the range (a millionth of a step of
 * tolerance at the ends). With `widen`, the range first grows outwards to the enclosing multiples
 * of that step, so that both ends are ticks; `lo` and `hi` are the range used.
 */
export function niceTicks(lo: number, hi: number, target = 4, widen = false): { lo: number; hi: number; step: number; ticks: number[] } {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return { lo, hi, step: 0, ticks: [lo] };
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw * 0.999)!;
  const eps = step * 1e-6;
  const first = widen ? Math.floor((lo + eps) / step) : Math.ceil((lo - eps) / step);
  const last = widen ? Math.ceil((hi - eps) / step) : Math.floor((hi + eps) / step);
  // each tick from its integer multiple (no accumulated rounding); -0 as 0
  const at = (k: number) => Number((k * step).toPrecision(12)) || 0;
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(at(k));
  return { lo: widen ? at(first) : lo, hi: widen ? at(last) : hi, step, ticks };
}

/** A dependency-free SVG line chart: axes with round ticks (niceTicks), one polyline (or a dot) per series, a legend on the right. */
export function lineChartSvg(opts: LineChartOptions): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 400;
  const m = { l: 60, r: opts.legendWidth ?? 130, t: 30, b: 45 };
  const pts = opts.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const [x0, x1Data] = opts.xRange ?? [
    pts.length ? Math.min(...pts.map((p) => p[0])) : 0,
    pts.length ? Math.max(...pts.map((p) => p[0])) : 1,
  ];
  const [y0Data, y1Data] = opts.yRange ?? [
    pts.length ? Math.min(0, ...pts.map((p) => p[1])) : 0,
    pts.length ? Math.max(...pts.map((p) => p[1])) : 1,
  ];
  const x1 = x1Data === x0 ? x0 + 1 : x1Data;
  const y1Raw = y1Data === y0Data ? y0Data + 1 : y1Data;
  // a y range from the data widens to round values; a given range and x stay as they are
  const yAxis = niceTicks(y0Data, y1Raw, 4, !opts.yRange);
  const [y0, y1, yTicks] = [yAxis.lo, yAxis.hi, yAxis.ticks];
  const xTicks = niceTicks(x0, x1).ticks;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(opts.title)}</text>`);
  out.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`);
  out.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`);
  for (const xv of xTicks) out.push(`<text x="${sx(xv)}" y="${H - m.b + 15}" text-anchor="middle">${fmt(xv)}</text>`);
  for (const yv of yTicks) {
    out.push(`<text x="${m.l - 5}" y="${sy(yv) + 4}" text-anchor="end">${fmt(yv)}</text>`);
    out.push(`<line x1="${m.l}" y1="${sy(yv)}" x2="${W - m.r}" y2="${sy(yv)}" stroke="#eee"/>`);
  }
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  out.push(`<text x="14" y="${H / 2}" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">${escapeXml(opts.yLabel)}</text>`);
  opts.series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length]!;
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (p.length === 1) out.push(`<circle cx="${sx(p[0]![0])}" cy="${sy(p[0]![1])}" r="3" fill="${c}"/>`);
    else if (p.length > 1)
      out.push(
        `<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
    out.push(`<rect x="${W - m.r + 10}" y="${m.t + 16 * i}" width="10" height="10" fill="${c}"/>`);
    out.push(`<text x="${W - m.r + 25}" y="${m.t + 16 * i + 9}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
