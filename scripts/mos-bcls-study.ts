/**
 * MOS level 1 in bcls and cls: the original 'balanced' problem against the 'detection' problem
 * (src/search/stages/mos.ts), on the proxy study's S1 panel (bcls), the cls presets (three
 * seeds) and random CPV survivors of both modes.
 *
 *   npx tsx scripts/mos-bcls-study.ts [--root /work/main/results] [--survivors 2000] [--cls-survivors 300]
 *
 * Prints, per panel loss: both scores and the detector APs found under <root>/proxy/S1 (full
 * schedule and the p800-128 proxy); Kendall tau of each score against those APs; the pass rate of
 * the threshold rule (score ≥ 0.9 × the default's) over seeded random CPV-passing trees for both
 * problems (0.9 × focal in bcls, 0.9 × ce in cls); the time per evaluation. --survivors 0 or
 * --cls-survivors 0 skips that mode's random trees. Reads nothing else, writes nothing.
 * --help prints the options; an unknown option or a stray argument is an error, exit code 2
 * (scripts/cli.ts).
 */
import { parseCli } from './cli.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convergenceChecks, fingerprint, parseExpr, PRESETS, printOfficial, randomTree, type Expr, type Mode } from '../src/loss/index.js';
import { mos1 } from '../src/search/stages/mos.js';
import { kendallTau, mixSeed } from '../src/search/stats.js';
import type { Mos1Config } from '../src/search/types.js';
import { Rng } from '../src/util/rng.js';

const cli = parseCli({
  options: ['root', 'survivors', 'cls-survivors'],
  valued: ['root', 'survivors', 'cls-survivors'],
  usage: `usage: npx tsx scripts/mos-bcls-study.ts [options]
MOS level 1 in bcls and cls, the 'balanced' problem against the 'detection' problem: both scores
of the proxy study's S1 panel against its APs (read from <root>/proxy/S1), Kendall tau, the pass
rates over random CPV survivors, the time per evaluation. Prints; writes nothing.

Options:
  --root DIR            results root whose proxy/S1 is read (default: results)
  --survivors N         random bcls CPV survivors (default: 2000; 0 skips them)
  --cls-survivors N     random cls CPV survivors (default: 300; 0 skips them)
  -h, --help            print this and exit`,
});
function arg(name: string, def: string): string {
  return cli.value(name, def);
}
const root = arg('root', 'results');
const nSurvivors = Number(arg('survivors', '2000'));
const nClsSurvivors = Number(arg('cls-survivors', '300'));

// configs/search.yaml's level 1 and the search's level-1 seed (seed 0), as scripts/results-proxy.ts.
const base = { samples: 64, classes: 4, steps: 200, lr: 0.05 };
const balanced: Mos1Config = base;
const detection: Mos1Config = { ...base, problem: 'detection' };
const mosSeed = mixSeed(0, 'mos1');

let evals = 0;
let evalMs = 0;
const timed = (mode: Mode, e: Expr, cfg: Mos1Config, bucket: { n: number; ms: number }) => {
  const t0 = performance.now();
  const r = mos1(mode, e, cfg, mosSeed);
  const ms = performance.now() - t0;
  bucket.n++;
  bucket.ms += ms;
  evals++;
  evalMs += ms;
  return r.status === 'ok' ? r.score : 0;
};
const tBal = { n: 0, ms: 0 };
const tDet = { n: 0, ms: 0 };
const tCls = { n: 0, ms: 0 };
const tClsDet = { n: 0, ms: 0 };

/** The S1 panel's losses and APs (AP × 100) from the proxy study's result files. */
function panelRuns(): Map<string, { loss: string; full?: number; proxy?: number }> {
  const out = new Map<string, { loss: string; full?: number; proxy?: number }>();
  for (const sub of ['full', 'p800-128']) {
    const dir = join(root, 'proxy', 'S1', sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('-seed0.json'))) {
      const j = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { lossName: string; loss: string; status: string; AP: number };
      const row = out.get(j.lossName) ?? { loss: j.loss };
      const ap = j.status === 'ok' ? j.AP * 100 : 0;
      if (sub === 'full') row.full = ap;
      else row.proxy = ap;
      out.set(j.lossName, row);
    }
  }
  return out;
}

// The S1 panel of scripts/results-proxy.ts (its --plan lists it); the bcls presets first.
const PANEL: [string, string][] = [
  ...Object.entries(PRESETS)
    .filter(([, p]) => p.mode === 'bcls' && p.text)
    .map(([name, p]) => [name, p.text!] as [string, string]),
  ['r1', 'Salf(Salf(Div(Add(NY,X),Sub(NY,Q))))'],
  ['r2', 'Serf(Cos(Add(Neg(NY),Salf(X))))'],
  ['r3', 'Mul(Sin(Sin(Softmax(Sgdf(Sgdf(X))))),Sub(Sig(Sgdf(Serf(Sgdf(X)))),Neg(Sin(Mul(Log(2),Abs(2))))))'],
  ['m1', 'Add(Mul(PY,Mul(Add(Mul(Sub(1,Sig(X)),Sub(1,Sig(X))),2),Softplus(Neg(X)))),Mul(NY,Mul(Mul(Sig(X),Sig(X)),Softplus(X))))'],
  ['m2', 'Add(Mul(PY,Neg(X)),Mul(NY,Softplus(X)))'],
  [
    'm3',
    'Neg(Add(Mul(Q,Mul(Add(1,Serf(Sig(NY))),Log(Sig(X)))),Mul(Add(Sgdf(X),Neg(Q)),Mul(Add(Add(1,Neg(Q)),Add(1,Neg(Sig(X)))),Log(Add(1,Neg(Sig(X))))))))',
  ],
  ['m4', 'Add(Mul(PY,Softplus(Neg(X))),Mul(NY,Mul(Mul(Sig(X),Sig(X)),Softplus(X))))'],
  ['m5', 'Add(Mul(PY,Softplus(Neg(Softmax(X)))),Mul(NY,Softplus(X)))'],
  ['m6', 'Neg(Add(Mul(Q,Mul(Add(1,Serf(Sig(NY))),Log(Sig(X)))),Mul(Add(Sgdf(X),Neg(Q)),Neg(Sin(NY)))))'],
];

const runs = panelRuns();
const f2 = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(3));
const f1 = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
console.log(`MOS level 1, bcls, seed mixSeed(0,'mos1'), ${JSON.stringify(base)}; APs from ${root}/proxy/S1 (seed 0)`);
console.log('loss        balanced  detection  AP(full)  AP(p800-128)');
const rows: { name: string; bal: number; det: number; full?: number; proxy?: number }[] = [];
for (const [name, text] of PANEL) {
  const e = parseExpr('bcls', text);
  const bal = timed('bcls', e, balanced, tBal);
  const det = timed('bcls', e, detection, tDet);
  const r = runs.get(name);
  if (r && r.loss !== text) console.log(`  note: ${name}'s result file holds another loss: ${r.loss}`);
  rows.push({ name, bal, det, full: r?.full, proxy: r?.proxy });
  console.log(`${name.padEnd(12)}${f2(bal).padStart(8)}${f2(det).padStart(11)}${f1(r?.full).padStart(10)}${f1(r?.proxy).padStart(14)}`);
}
for (const key of ['full', 'proxy'] as const) {
  const have = rows.filter((r) => r[key] !== undefined);
  const ap = have.map((r) => r[key]!);
  const tb = kendallTau(
    have.map((r) => r.bal),
    ap,
  );
  const td = kendallTau(
    have.map((r) => r.det),
    ap,
  );
  console.log(
    `Kendall tau vs AP(${key === 'full' ? 'full' : 'p800-128'}) over ${have.length} losses: balanced ${f2(tb ?? undefined)}, detection ${f2(td ?? undefined)}`,
  );
}
const focal = rows.find((r) => r.name === 'focal')!;
const thrBal = 0.9 * focal.bal;
const thrDet = 0.9 * focal.det;
console.log(`threshold (0.9 × focal): balanced ${thrBal.toFixed(3)}, detection ${thrDet.toFixed(3)}`);
console.log(
  `panel passing: balanced ${rows
    .filter((r) => r.bal >= thrBal)
    .map((r) => r.name)
    .join(' ')}`,
);
console.log(
  `panel passing: detection ${rows
    .filter((r) => r.det >= thrDet)
    .map((r) => r.name)
    .join(' ')}`,
);

/** Seeded random CPV-passing distinct trees of a mode. */
function* survivors(mode: Mode, seedName: string): Generator<{ e: Expr; draws: number }> {
  const rng = new Rng(mixSeed(2027, seedName));
  const seen = new Set<string>();
  let draws = 0;
  for (;;) {
    draws++;
    const e = randomTree(mode, rng, { minDepth: 2, maxDepth: 6, maxSize: 40 });
    if (!convergenceChecks(mode, e).pass) continue;
    const fp = fingerprint(mode, e);
    if (seen.has(fp)) continue;
    seen.add(fp);
    yield { e, draws };
  }
}

if (nSurvivors > 0) {
  let k = 0;
  let passBal = 0;
  let passDet = 0;
  let both = 0;
  let draws = 0;
  const detScores: number[] = [];
  const t0 = performance.now();
  const examples: string[] = [];
  for (const s of survivors('bcls', 'mos-bcls-study')) {
    const bal = timed('bcls', s.e, balanced, tBal);
    const det = timed('bcls', s.e, detection, tDet);
    detScores.push(det);
    if (bal >= thrBal) passBal++;
    if (det >= thrDet) {
      passDet++;
      if (examples.length < 8) examples.push(`${det.toFixed(3)} ${printOfficial(s.e)}`);
    }
    if (bal >= thrBal && det >= thrDet) both++;
    draws = s.draws;
    if (++k >= nSurvivors) break;
    if (k % 250 === 0)
      console.error(
        `  ${k} survivors, ${draws} draws, pass balanced ${passBal} detection ${passDet}, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
  }
  detScores.sort((a, b) => a - b);
  const q = (p: number) => detScores[Math.min(detScores.length - 1, Math.floor(p * detScores.length))]!.toFixed(3);
  console.log(
    `bcls random CPV survivors: ${k} (from ${draws} draws, CPV + distinct rate ${((100 * k) / draws).toFixed(3)}%, seed mixSeed(2027,'mos-bcls-study'))`,
  );
  console.log(
    `  pass 0.9 × focal: balanced ${passBal} (${((100 * passBal) / k).toFixed(1)}%), detection ${passDet} (${((100 * passDet) / k).toFixed(1)}%), both ${both}`,
  );
  console.log(`  detection score quantiles: 10% ${q(0.1)}, 50% ${q(0.5)}, 90% ${q(0.9)}, 99% ${q(0.99)}, max ${q(1)}`);
  for (const x of examples) console.log(`  passes detection: ${x}`);
}

if (nClsSurvivors > 0) {
  // cls: the original problem (free logits, accuracy of argmax) against the detection problem
  // (a RoI-head-like linear classifier, mean per-class AP), both at configs/search.yaml's level 1.
  const clsDet: Mos1Config = { ...base, problem: 'detection' };
  const presets = Object.entries(PRESETS).filter(([, p]) => p.mode === 'cls' && p.text);
  const preset = (cfg: Mos1Config, seed: number) =>
    presets.map(([name, p]) => {
      const r = mos1('cls', parseExpr('cls', p.text!), cfg, seed);
      return { name, score: r.status === 'ok' ? r.score : 0 };
    });
  console.log(`cls level 1, ${JSON.stringify(base)}: the cls presets (score; ratio to ce, pass at ≥ 0.9)`);
  const seeds: [string, number][] = [
    ["mixSeed(0,'mos1')", mosSeed],
    ["mixSeed(1,'mos1')", mixSeed(1, 'mos1')],
    ["mixSeed(2,'mos1')", mixSeed(2, 'mos1')],
  ];
  for (const [label, seed] of seeds)
    for (const [pname, cfg] of [
      ['balanced', balanced],
      ['detection', clsDet],
    ] as const) {
      const r = preset(cfg, seed);
      const ce = r.find((x) => x.name === 'ce')!.score;
      console.log(
        `  seed ${label.padEnd(17)} ${pname.padEnd(10)} ${r.map((x) => `${x.name} ${x.score.toFixed(3)} (${(x.score / ce).toFixed(3)})`).join(', ')}`,
      );
    }
  const ceBal = timed('cls', parseExpr('cls', PRESETS.ce!.text!), balanced, tCls);
  const ceDet = timed('cls', parseExpr('cls', PRESETS.ce!.text!), clsDet, tClsDet);
  const thrB = 0.9 * ceBal;
  const thrD = 0.9 * ceDet;
  let k = 0;
  let passB = 0;
  let passD = 0;
  let both = 0;
  let draws = 0;
  const detScores: number[] = [];
  const examples: string[] = [];
  const t0 = performance.now();
  for (const s of survivors('cls', 'mos-cls-study')) {
    const b = timed('cls', s.e, balanced, tCls);
    const d = timed('cls', s.e, clsDet, tClsDet);
    detScores.push(d);
    if (b >= thrB) passB++;
    if (d >= thrD) {
      passD++;
      if (examples.length < 8) examples.push(`${d.toFixed(3)} ${printOfficial(s.e)}`);
    }
    if (b >= thrB && d >= thrD) both++;
    draws = s.draws;
    if (++k >= nClsSurvivors) break;
    if (k % 250 === 0)
      console.error(
        `  cls ${k} survivors, ${draws} draws, pass balanced ${passB} detection ${passD}, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
  }
  detScores.sort((a, b) => a - b);
  const q = (p: number) => detScores[Math.min(detScores.length - 1, Math.floor(p * detScores.length))]!.toFixed(3);
  console.log(`cls thresholds (0.9 × ce, seed mixSeed(0,'mos1')): balanced ${thrB.toFixed(3)}, detection ${thrD.toFixed(3)}`);
  console.log(
    `cls random CPV survivors: ${k} (from ${draws} draws, CPV + distinct rate ${((100 * k) / draws).toFixed(3)}%, seed mixSeed(2027,'mos-cls-study'))`,
  );
  console.log(
    `  pass 0.9 × ce: balanced ${passB} (${((100 * passB) / k).toFixed(1)}%), detection ${passD} (${((100 * passD) / k).toFixed(1)}%), both ${both}`,
  );
  console.log(`  detection score quantiles: 10% ${q(0.1)}, 50% ${q(0.5)}, 90% ${q(0.9)}, 99% ${q(0.99)}, max ${q(1)}`);
  for (const x of examples) console.log(`  passes detection: ${x}`);
}
const per = (t: { n: number; ms: number }) => (t.n ? `${(t.ms / t.n).toFixed(1)} ms over ${t.n}` : '-');
console.log(
  `time per evaluation (1 thread): bcls balanced ${per(tBal)}, bcls detection ${per(tDet)}, cls balanced ${per(tCls)}, cls detection ${per(tClsDet)}; total ${evals} evals, ${(evalMs / 1000).toFixed(1)} s`,
);
