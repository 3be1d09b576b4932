/// <reference lib="dom" />
/** Charts of the dashboard and the report: thin wrappers over uPlot (canvas, ~50 kB). */
import uPlot from 'uplot';
import { h } from './dom.js';

export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface LineSeries {
  label: string;
  values: (number | null)[];
  color?: string;
  dash?: boolean;
  points?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  series: LineSeries[];
  /** Integer ticks only on the x axis (generations, evaluations). */
  integerX?: boolean;
  yRange?: [number, number];
  width?: number;
  height?: number;
}

const INT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

function chartWidth(): number {
  const main = document.querySelector('main');
  const w = main ? main.clientWidth : 900;
  return Math.max(320, Math.min(540, Math.floor((w - 24) / 2)));
}

function box(title: string): HTMLElement {
  return h('figure', { class: 'chart', 'data-chart': title });
}

/** A line chart; returns its container (the chart draws once the container is in the page). */
export function lineChart(o: LineChartOptions): HTMLElement {
  const el = box(o.title);
  const intAxis = o.integerX
    ? {
        incrs: INT_INCRS,
        values: (_u: uPlot, splits: number[]) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
      }
    : {};
  const xs = o.x;
  const lo = xs.length ? Math.min(...xs) : 0;
  const hi = xs.length ? Math.max(...xs) : 1;
  const opts: uPlot.Options = {
    title: o.title,
    width: o.width ?? chartWidth(),
    height: o.height ?? 240,
    scales: {
      x: { time: false, range: o.integerX ? () => [Math.floor(lo) - (lo === hi ? 1 : 0), Math.ceil(hi) + (lo === hi ? 1 : 0)] : undefined },
      y: o.yRange ? { range: () => o.yRange! } : {},
    },
    axes: [
      { label: o.xLabel, ...intAxis },
      { label: o.yLabel, size: 60 },
    ],
    legend: { live: false },
    series: [
      { label: o.xLabel },
      ...o.series.map((s, i) => ({
        label: s.label,
        stroke: s.color ?? COLORS[i % COLORS.length],
        width: 2,
        dash: s.dash ? [6, 4] : undefined,
        points: { show: s.points ?? xs.length < 40, size: 6 },
        spanGaps: false,
      })),
    ],
  };
  const data: uPlot.AlignedData = [xs, ...o.series.map((s) => s.values)] as uPlot.AlignedData;
  whenAttached(el, () => new uPlot(opts, data, el));
  return el;
}

export interface ScatterSeries {
  label: string;
  x: number[];
  y: number[];
  color?: string;
  line?: boolean;
}

/** Points (and optionally a connecting line) with independent x per series (uPlot mode 2). */
export function scatterChart(o: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ScatterSeries[];
  integerX?: boolean;
  onPoint?: (series: number, idx: number) => void;
}): HTMLElement {
  const el = box(o.title);
  const allX = o.series.flatMap((s) => s.x);
  const allY = o.series.flatMap((s) => s.y);
  const pad = (lo: number, hi: number, f: number): [number, number] =>
    lo === hi ? [lo - 1, hi + 1] : [lo - (hi - lo) * f, hi + (hi - lo) * f];
  const xr = allX.length ? pad(Math.min(...allX), Math.max(...allX), 0.05) : ([0, 1] as [number, number]);
  const yr = allY.length ? pad(Math.min(...allY), Math.max(...allY), 0.08) : ([0, 1] as [number, number]);
  const opts: uPlot.Options = {
    title: o.title,
    mode: 2,
    width: chartWidth(),
    height: 260,
    scales: { x: { time: false, range: () => (o.integerX ? [Math.floor(xr[0]), Math.ceil(xr[1])] : xr) }, y: { range: () => yr } },
    axes: [
      {
        label: o.xLabel,
        ...(o.integerX
          ? { incrs: INT_INCRS, values: (_u: uPlot, s: number[]) => s.map((v) => (Number.isInteger(v) ? String(v) : '')) }
          : {}),
      },
      { label: o.yLabel, size: 60 },
    ],
    cursor: { drag: { x: false, y: false } },
    legend: { live: false },
    series: [
      {},
      ...o.series.map((s, i) => ({
        label: s.label,
        stroke: s.color ?? COLORS[i % COLORS.length],
        width: s.line ? 2 : 0,
        paths: s.line ? undefined : () => null,
        // Mode 2 draws points over the visible index window of mode 1; list them all instead.
        points: { show: true, size: s.line ? 7 : 6, fill: s.color ?? COLORS[i % COLORS.length], filter: () => s.x.map((_, k) => k) },
        facets: [
          { scale: 'x', auto: false },
          { scale: 'y', auto: false },
        ],
      })),
    ] as uPlot.Series[],
  };
  const data = [null, ...o.series.map((s) => [s.x, s.y])] as unknown as uPlot.AlignedData;
  whenAttached(el, () => {
    const u = new uPlot(opts, data, el);
    if (o.onPoint) {
      u.over.addEventListener('click', () => {
        const si = o.series.findIndex((_, i) => u.cursor.idxs?.[i + 1] !== null && u.cursor.idxs?.[i + 1] !== undefined);
        const idx = si >= 0 ? u.cursor.idxs![si + 1] : null;
        if (si >= 0 && idx !== null && idx !== undefined) o.onPoint!(si, idx);
      });
    }
  });
  return el;
}

/** Runs `draw` once the element is attached to the document (uPlot measures its container). */
function whenAttached(el: HTMLElement, draw: () => void): void {
  let done = false;
  const tryDraw = () => {
    if (done || !el.isConnected) return false;
    done = true;
    draw();
    return true;
  };
  queueMicrotask(() => {
    if (!tryDraw()) requestAnimationFrame(() => void tryDraw());
  });
}
