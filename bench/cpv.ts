/**
 * CPV benchmark: convergence property verification over 10,000 random candidates per mode on
 * one thread (ramped half-and-half, default bounds, seed 2021). Prints candidates per second,
 * the pass rate and the first failed property per mode, and the ratio to the 5,000/s target.
 * Generation is timed apart from checking.
 *
 *   npm run bench:cpv [-- --n 10000 --seed 2021]
 */
import { Rng } from '../src/util/rng.js';
import { convergenceChecks, cpvGridSizes, randomTree, treeSize, MODES, RANDOM_TREE_DEFAULTS, type Expr } from '../src/loss/index.js';

const TARGET = 5000;
const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const N = flag('n', 10000);
const SEED = flag('seed', 2021);

const sizes = cpvGridSizes();
console.log(
  `CPV benchmark: ${N} random candidates per mode, seed ${SEED}, trees depth ${RANDOM_TREE_DEFAULTS.minDepth}..${RANDOM_TREE_DEFAULTS.maxDepth}, size ≤ ${RANDOM_TREE_DEFAULTS.maxSize}; node ${process.version}, one thread`,
);
console.log(`grids: cls ${sizes.cls.rows}x${sizes.cls.cols}, bcls ${sizes.bcls.rows}x${sizes.bcls.cols}, reg ${sizes.reg.rows} box pairs`);
console.log('');
console.log('mode  gen/s     cpv/s     x target  pass          mean size  first failed property');
let totalN = 0;
let totalMs = 0;
for (const mode of MODES) {
  const rng = new Rng(SEED);
  const t0 = performance.now();
  const trees: Expr[] = [];
  for (let i = 0; i < N; i++) trees.push(randomTree(mode, rng));
  const genMs = performance.now() - t0;
  // Warm-up on a separate stream so the JIT state is comparable across modes.
  const warm = new Rng(SEED + 1);
  for (let i = 0; i < 500; i++) convergenceChecks(mode, randomTree(mode, warm));
  const t1 = performance.now();
  let pass = 0;
  const failed: Record<string, number> = {};
  for (const t of trees) {
    const r = convergenceChecks(mode, t);
    if (r.pass) pass++;
    else failed[r.failed!] = (failed[r.failed!] ?? 0) + 1;
  }
  const ms = performance.now() - t1;
  totalN += N;
  totalMs += ms;
  const rate = (N / ms) * 1000;
  const meanSize = trees.reduce((s, t) => s + treeSize(t), 0) / N;
  const fails = Object.entries(failed)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${((100 * v) / N).toFixed(1)}%`)
    .join(', ');
  console.log(
    `${mode.padEnd(5)} ${((N / genMs) * 1000).toFixed(0).padStart(7)}   ${rate.toFixed(0).padStart(7)}   ${(rate / TARGET).toFixed(2).padStart(6)}    ${`${pass} (${((100 * pass) / N).toFixed(2)}%)`.padEnd(13)} ${meanSize.toFixed(1).padStart(9)}  ${fails}`,
  );
}
console.log('');
console.log(
  `all modes: ${((totalN / totalMs) * 1000).toFixed(0)} candidates/s (target ${TARGET}/s: ratio ${(((totalN / totalMs) * 1000) / TARGET).toFixed(2)})`,
);
