/** src/util/svg.ts: round axis ticks (niceTicks) and the chart's use of them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineChartSvg, niceTicks } from '../../src/util/svg.js';

test('niceTicks: steps of 1, 2, 2.5 or 5 x 10^k, the multiples inside the range; widen makes both ends ticks', () => {
  // probability axis of the discovery plots: 0.98 / 4 = 0.245 -> 0.25
  assert.deepEqual(niceTicks(0.01, 0.99), { lo: 0.01, hi: 0.99, step: 0.25, ticks: [0.25, 0.5, 0.75] });
  // iterations: 4000 / 4 = 1000
  assert.deepEqual(niceTicks(0, 4000).ticks, [0, 1000, 2000, 3000, 4000]);
  // a gradient from -1.13 to just below 0: step 0.5, widened to [-1.5, 0]
  assert.deepEqual(niceTicks(-1.13, -3e-6, 4, true), { lo: -1.5, hi: 0, step: 0.5, ticks: [-1.5, -1, -0.5, 0] });
  // no float residue: 0.1 x 3 is 0.3, not 0.30000000000000004
  assert.deepEqual(niceTicks(0, 0.4).ticks, [0, 0.1, 0.2, 0.3, 0.4]);
  // 7.04 / 4 = 1.76 -> 2, widened to [0, 8]
  assert.deepEqual(niceTicks(0, 7.04, 4, true).ticks, [0, 2, 4, 6, 8]);
  // every step is one of the allowed mantissas, and the tick count stays near the target
  for (const [lo, hi] of [
    [0, 1],
    [-3, 17],
    [0.002, 0.0031],
    [1e5, 3.7e5],
    [-0.5, 0.5],
  ] as const) {
    const r = niceTicks(lo, hi, 4, true);
    const mant = r.step / 10 ** Math.floor(Math.log10(r.step) + 1e-9);
    assert.ok(
      [1, 2, 2.5, 5].some((m) => Math.abs(m - mant) < 1e-9),
      `${lo}..${hi}: step ${r.step}`,
    );
    assert.ok(r.lo <= lo && r.hi >= hi, `${lo}..${hi}: widened to ${r.lo}..${r.hi}`);
    assert.ok(r.ticks.length >= 3 && r.ticks.length <= 7, `${lo}..${hi}: ${r.ticks.length} ticks`);
    assert.equal(r.ticks[0], r.lo);
    assert.equal(r.ticks.at(-1), r.hi);
  }
  // an empty or degenerate range: its one end
  assert.deepEqual(niceTicks(2, 2).ticks, [2]);
});

test('lineChartSvg labels its axes with round ticks and widens a data-derived y range to them', () => {
  const svg = lineChartSvg({
    title: 't',
    xLabel: 'p',
    yLabel: 'g',
    series: [
      {
        name: 'a',
        points: [
          [0.01, -1.13],
          [0.99, -3e-6],
        ],
      },
    ],
  });
  const yLabels = [...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1]);
  assert.deepEqual(yLabels, ['-1.5', '-1', '-0.5', '0']);
  const xLabels = [...svg.matchAll(/y="370" text-anchor="middle">([^<]*)</g)].map((m) => m[1]);
  assert.deepEqual(xLabels, ['0.25', '0.5', '0.75']);
  // the top tick (0) sits on the top of the plot area (y = 30), the bottom one (-1.5) on the x axis (y = 355)
  assert.match(svg, /<text x="55" y="34" text-anchor="end">0</);
  assert.match(svg, /<text x="55" y="359" text-anchor="end">-1.5</);
});
