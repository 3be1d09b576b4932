/**
 * scripts/results-discovery.ts end to end on tiny configurations (issue 15, items 3 and 4): two
 * searches on the `simulated` task (through the CLI, as the real runs go), the transfer of S1's
 * winner and default with a tiny FCOS for a few iterations on a small generated mnist-det, and the
 * efficiency runs (cse and vanilla), and the multi-fidelity twins (--early-stop): S1's without
 * early stopping, S2's with configs/discovery.yaml's earlyStop (a simulated proxy never stops, so
 * the two runs must agree). Checks summary.json's shape and its numbers against the
 * journals and the runs' own metrics.json, the generated DISCOVERY.md (table, Welch t by
 * compareMeans, winner in infix and LaTeX, the SVG), and that a second call trains nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExpr, PRESETS, printInfix, printLatex } from '../../src/loss/index.js';
import type { SearchSummary } from '../../src/search/evolution.js';
import { Journal } from '../../src/search/journal.js';
import { buildReport } from '../../src/search/report.js';
import { compareMeans } from '../../src/search/stats.js';
import type { MultiFidelity } from '../../scripts/multi-fidelity.js';
import { machineId, machineKey, machineKeyText } from '../../src/util/provenance.js';

const dir = mkdtempSync(join(tmpdir(), 'cse-discovery-'));
const cfgDir = join(dir, 'cfg');
const root = join(dir, 'results');
const docs = join(dir, 'docs', 'DISCOVERY.md');
mkdirSync(cfgDir);
const S1 = `mode: bcls
seed: 0
population: { size: 12, maxSize: 20, minDepth: 2, maxDepth: 4, maxDraws: 20000, maxOffspringTries: 400, seedWith: [bce] }
evolution: { generations: 2, parents: 3, elites: 1 }
mos: { level1: { samples: 16, steps: 20, threshold: 0 } }
proxy: { topK: 3, task: { kind: simulated, iters: 30 }, earlyStop: { fraction: 0.5, minRatio: 0.8 } }
final: { top: 2, published: true, seeds: [0, 1, 2], task: { kind: simulated, iters: 40 } }
pool: { workers: 0 }
`;
writeFileSync(join(cfgDir, 'search.yaml'), S1);
writeFileSync(
  join(cfgDir, 'discovery-s2.yaml'),
  S1.replace('mode: bcls', 'mode: cls')
    .replace(', earlyStop: { fraction: 0.5, minRatio: 0.8 }', '')
    .replace('seedWith: [bce]', 'seedWith: []')
    .replace('kind: simulated, iters: 40', 'kind: simulated, detector: faster-rcnn, iters: 40'),
);
writeFileSync(
  join(cfgDir, 'discovery.yaml'),
  `transfer:
  settings: [S1]
  dataset: { kind: mnist-det, images: 60, size: 64, seed: 7, valFraction: 0.25 }
  dataDir: ${join(dir, 'data')}
  preset: tiny
  seeds: [0]
  iters: 3
  warmupIters: 0
  inputSize: 64
efficiency:
  seeds: [0, 1]
  budget: 3
earlyStop: { fraction: 0.5, minRatio: 0.3 }
`,
);
/** A copy of the test's configs with discovery.yaml changed by `edit` (for the refusals). */
function cfgVariant(name: string, edit: (driverYaml: string) => string): string {
  const d = join(dir, name);
  cpSync(cfgDir, d, { recursive: true });
  writeFileSync(join(d, 'discovery.yaml'), edit(readFileSync(join(cfgDir, 'discovery.yaml'), 'utf8')));
  return d;
}
// a proxy study's summary (the shape scripts/results-proxy.ts writes): the search's proxy is simulated, so the study's choice is quoted
mkdirSync(join(root, 'proxy'), { recursive: true });
writeFileSync(
  join(root, 'proxy', 'summary.json'),
  JSON.stringify({
    S1: {
      chosen: 'p400-128',
      meetsTarget: true,
      proxies: [{ name: 'p400-128', n: 12, tau: 0.7, ci95: [0.4, 0.9], seedSd: 0.01, panelSd: 0.03, seconds: 100 }],
      mosTau: 0.2,
    },
  }),
);

/** The driver on this test's configs, with a results root and docs file (default: the test's own). */
function discovery(
  args: string[],
  at: { root: string; docs: string; cfg?: string } = { root, docs },
): { code: number | null; out: string } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/results-discovery.ts', '--config-dir', at.cfg ?? cfgDir, '--root', at.root, '--out', at.docs, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, CSE_THREADS: '1' },
      timeout: 240_000,
    },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}
const driver = (...extra: string[]) => discovery(['--efficiency', 'S1', '--early-stop', 'S1', '--generations', '2', ...extra]);

const disc = join(root, 'discovery');
const okAps = (a: (number | null)[]) => a.filter((x): x is number => x !== null);

/**
 * Marks a run's proxy records as trained on `machine` (a key, or one per fingerprint), as records
 * carry it (metrics.machine); `detector`: its config's proxy becomes a detector proxy; `running`:
 * its status 'running' (unfinished). Returns how many records it marked.
 */
function markRun(
  runDir: string,
  machine: number | ((fingerprint: string) => number),
  opts: { detector?: boolean; running?: boolean } = {},
): number {
  const db = new Database(join(runDir, 'journal.sqlite'));
  try {
    const rows = db.prepare("SELECT rowid, fingerprint, metrics FROM results WHERE stage = 'proxy'").all() as {
      rowid: number;
      fingerprint: string;
      metrics: string;
    }[];
    for (const r of rows) {
      const m = typeof machine === 'number' ? machine : machine(r.fingerprint);
      db.prepare('UPDATE results SET metrics = ? WHERE rowid = ?').run(JSON.stringify({ ...JSON.parse(r.metrics), machine: m }), r.rowid);
    }
    if (opts.detector) {
      const c = JSON.parse((db.prepare("SELECT value FROM meta WHERE key = 'config'").get() as { value: string }).value) as {
        proxy: { task: { kind: string } };
      };
      c.proxy.task.kind = 'detector';
      db.prepare("UPDATE meta SET value = ? WHERE key = 'config'").run(JSON.stringify(c));
    }
    if (opts.running) db.prepare("UPDATE meta SET value = 'running' WHERE key = 'status'").run();
    return rows.length;
  } finally {
    db.close();
  }
}

test(
  'results-discovery: tiny searches, transfer and efficiency; summary.json, DISCOVERY.md; a second call trains nothing',
  { timeout: 300_000 },
  () => {
    // one recorded start of the long runs before everything (scripts/long-runs.sh writes these lines)
    mkdirSync(disc, { recursive: true });
    writeFileSync(
      join(disc, 'machines.jsonl'),
      JSON.stringify({
        startedAt: '2020-01-01T00:00:00Z',
        family: '25',
        model: '1',
        stepping: '1',
        microcode: '0x1',
        flags: 'ab',
        openblasCore: 'Zen',
      }) + '\n',
    );
    const first = driver();
    assert.equal(first.code, 0, first.out);

    type Row = { loss: string; role: string; seeds: number[]; AP: (number | null)[]; AP50: (number | null)[]; dataset?: string };
    const summary = JSON.parse(readFileSync(join(disc, 'summary.json'), 'utf8')) as {
      commit: string | null;
      proxy: { name: string; kendallTau: number; ci95: [number, number]; panel: number } | null;
      searches: {
        name: string;
        dataset: string;
        detector: string;
        mode: string;
        winner: string | null;
        proxyEvaluations: number;
        generations: number;
        final: Row[];
        transfer: Row[];
      }[];
      efficiency: {
        setting: string;
        budget: number;
        cse: { seed: number; proxyEvaluations: number; reachedDefault: { proxyEvaluations: number } | null }[];
        vanilla: { seed: number; proxyEvaluations: number; reachedDefault: { proxyEvaluations: number } | null }[];
      } | null;
      provenance: { commit: string | null; command: string };
      multiFidelity: MultiFidelity | null;
    };
    assert.deepEqual(Object.keys(summary).sort(), ['commit', 'efficiency', 'multiFidelity', 'provenance', 'proxy', 'searches']);
    assert.deepEqual(summary.proxy, { name: 'p400-128', kendallTau: 0.7, ci95: [0.4, 0.9], panel: 12 });
    // the search's own proxy is simulated, not among the study's: its entry has none, and the docs say so
    assert.deepEqual(
      (summary as unknown as { searches: { proxy: unknown }[] }).searches.map((s) => s.proxy),
      [null, null],
    );
    assert.match(summary.provenance.command, /results-discovery\.ts/);
    assert.deepEqual(
      summary.searches.map((s) => [s.name, s.mode, s.detector, s.dataset]),
      [
        ['S1', 'bcls', 'fcos', 'simulated'],
        ['S2', 'cls', 'faster-rcnn', 'simulated'],
      ],
    );
    for (const s of summary.searches) {
      // the numbers are the journal's own final evaluation
      const j = Journal.open(join(disc, s.name, 'run'), { readonly: true });
      const js = JSON.parse(j.getMeta('summary')!) as SearchSummary;
      j.close();
      assert.equal(s.winner, js.verdict!.winner);
      assert.equal(s.proxyEvaluations, js.proxyEvaluations);
      assert.equal(s.generations, js.generations.length);
      assert.deepEqual(
        s.final.map((r) => r.role),
        js.final!.map((r) => r.role),
      );
      assert.deepEqual(
        s.final.map((r) => r.AP),
        js.final!.map((r) => r.aps),
      );
      assert.deepEqual(s.final[0]!.loss, s.mode === 'bcls' ? 'focal' : 'ce');
      assert.deepEqual(s.final[1], { ...s.final[1]!, loss: s.mode === 'bcls' ? 'cse-b-cls' : 'cse-a-cls', role: 'published' });
      for (const r of s.final) {
        assert.deepEqual(Object.keys(r).sort(), ['AP', 'AP50', 'loss', 'role', 'seeds']);
        assert.deepEqual(r.seeds, [0, 1, 2]);
        for (const v of r.AP50) assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `AP50 ${v}`);
        // each final run's file, with provenance
        for (const seed of r.seeds) {
          const slug = r.role === 'candidate' ? undefined : r.role;
          if (!slug) continue;
          const f = JSON.parse(readFileSync(join(disc, s.name, 'final', `${slug}-seed${seed}.json`), 'utf8')) as {
            AP: number;
            provenance: { commit: string | null; env: { cpu: string } };
          };
          assert.equal(f.AP, r.AP[seed]);
          assert.ok(f.provenance.env.cpu);
        }
      }
      for (const f of ['report.json', 'report.html', 'journal.sqlite']) assert.ok(existsSync(join(disc, s.name, f)), `${s.name}/${f}`);
    }
    // transfer: S1 only, winner and default, the runs' own metrics.json
    const s1 = summary.searches[0]!;
    assert.deepEqual(summary.searches[1]!.transfer, []);
    assert.deepEqual(
      s1.transfer.map((r) => [r.role, r.loss, r.dataset, r.seeds]),
      [
        ['winner', s1.winner, 'mnist-det', [0]],
        ['default', 'focal', 'mnist-det', [0]],
      ],
    );
    for (const r of s1.transfer) {
      const run = join(disc, 'S1', 'transfer', r.role, 'seed0');
      const m = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as {
        status: string;
        iters: number;
        clsLoss: string;
        metrics: { AP: number; AP50: number };
      };
      assert.equal(m.iters, 3);
      assert.equal(m.status, 'ok');
      assert.deepEqual([r.AP[0], r.AP50[0]], [m.metrics.AP, m.metrics.AP50]);
      assert.ok(existsSync(join(run, 'provenance.json')));
    }
    // efficiency: two seeds per strategy, the report's reachedDefault; cse seed 0 is S1's own search
    // (cse, seed 0, the same config but for generations and final): its 2 generations, not run twice
    const eff = summary.efficiency!;
    assert.equal(eff.setting, 'S1');
    assert.equal(eff.budget, 3);
    for (const strategy of ['cse', 'vanilla'] as const) {
      assert.deepEqual(
        eff[strategy].map((r) => r.seed),
        [0, 1],
      );
      for (const [i, r] of eff[strategy].entries()) {
        const fromMain = strategy === 'cse' && i === 0;
        const runDir = fromMain ? join(disc, 'S1', 'run') : join(disc, 'efficiency', 'S1', `${strategy}-seed${i}`, 'run');
        assert.equal(existsSync(join(disc, 'efficiency', 'S1', `${strategy}-seed${i}`, 'run')), !fromMain);
        assert.equal((r as { from?: string }).from, fromMain ? runDir : undefined);
        const rep = buildReport(runDir);
        assert.equal(rep.strategy, strategy);
        if (!fromMain) assert.equal(rep.final, null, 'final disabled');
        // budget 3, topK 3: one generation; S1's own search has two, of which the first counts
        assert.equal(rep.generations.length, fromMain ? 2 : 1);
        assert.equal((r as unknown as { generations: number }).generations, 1);
        assert.ok(rep.generations[0]!.proxyTotal >= 3, 'the budget of proxy evaluations is spent');
        assert.equal(r.proxyEvaluations, rep.generations[0]!.proxyTotal);
        const reached = rep.reachedDefault && rep.reachedDefault.gen < 1 ? rep.reachedDefault : null;
        assert.equal(r.reachedDefault?.proxyEvaluations ?? null, reached?.proxyEvaluations ?? null);
        // its best so far at the end of the generations it counts (the loop's hall of fame)
        assert.equal((r as { bestFitness?: number | null }).bestFitness, rep.generations[0]!.bestEverFitness);
        // DISCOVERY.md's line for the run: when it reached the default, and how close it came when it did not
        const pc = (x: number) => (100 * x).toFixed(1);
        const line = readFileSync(docs, 'utf8')
          .split('\n')
          .find((l) => l.startsWith(`- ${strategy} seed ${i}`))!;
        assert.ok(
          line.includes(
            reached
              ? `reached the default after ${reached.proxyEvaluations} evaluations`
              : `never reached the default (its best proxy AP ${pc(rep.generations[0]!.bestEverFitness!)} against its default's ${pc(rep.default!.fitness)})`,
          ),
          line,
        );
        // an efficiency run of its own stops once it reaches the default (S1's search goes on)
        assert.equal(rep.config.evolution.stopAtDefault, fromMain ? undefined : true);
        assert.equal((r as { stoppedAtDefault?: true }).stoppedAtDefault, !fromMain && reached ? true : undefined);
        const j = Journal.open(runDir, { readonly: true });
        const wall = fromMain ? j.generation(0)!.elapsedMs : Number(j.getMeta('elapsed_ms'));
        j.close();
        assert.equal((r as unknown as { wallSeconds: number }).wallSeconds, wall / 1000);
      }
    }

    // multi-fidelity: S1's twin without early stopping, 2 generations, final disabled, the same seed
    const mf = summary.multiFidelity!;
    assert.deepEqual([mf.setting, mf.generations, mf.measuredGenerations], ['S1', 2, 2]);
    assert.equal(mf.with.runDir, join(disc, 'S1', 'run'));
    assert.equal(mf.without.runDir, join(disc, 'S1-no-early-stop', 'run'));
    const twin = buildReport(mf.without.runDir);
    const main = buildReport(mf.with.runDir);
    assert.equal(twin.config.proxy.earlyStop, undefined);
    assert.deepEqual(main.config.proxy.earlyStop, { fraction: 0.5, minRatio: 0.8 });
    assert.deepEqual([twin.config.seed, twin.config.evolution.generations, twin.config.final.enabled, twin.final], [0, 2, false, null]);
    // a simulated proxy never stops: the same populations, evaluations and best on both sides
    assert.equal(mf.firstDivergentGeneration, null);
    assert.deepEqual([mf.with.stoppedEarly, mf.without.stoppedEarly, mf.stoppedMatched, mf.falseStops], [0, 0, 0, []]);
    assert.equal(mf.bestDiffers, false);
    assert.deepEqual(mf.notes, []);
    for (const [side, rep] of [
      [mf.with, main],
      [mf.without, twin],
    ] as const) {
      assert.equal(side.proxyEvaluations, rep.generations[1]!.proxyTotal);
      assert.deepEqual(
        side.perGeneration.map((g) => [g.proxyEvaluations, g.bestFitness, g.hofTop]),
        rep.generations.slice(0, 2).map((g) => [g.proxyNew, g.bestEverFitness, g.bestEverLoss]),
      );
    }
    assert.equal(mf.proxyTimeRatio, mf.with.proxySeconds / mf.without.proxySeconds);

    // DISCOVERY.md: generated from those numbers
    const md = readFileSync(docs, 'utf8');
    assert.ok(md.includes('- Proxy of S1: not in the proxy study ('), 'the simulated proxy is not quoted as measured');
    assert.match(md, /## What the runs show/);
    // each final's runs mapped to that start's machine (the simulated task records no key of its own)
    const machineLines = md.match(/^Machines: .*$/gm) ?? [];
    assert.equal(machineLines.length, 2, 'one line per search');
    for (const l of machineLines)
      assert.match(
        l,
        /^Machines: all \d+ recorded run\(s\) trained on one machine \(family 25 model 1 stepping 1 microcode 0x1 flags ab OpenBLAS Zen\)\.$/,
      );
    for (const s of summary.searches) {
      const w = s.final.find((r) => r.role === 'winner')!;
      const d = s.final.find((r) => r.role === 'default')!;
      const c = compareMeans(okAps(w.AP), okAps(d.AP));
      const row = md.split('\n').find((l) => l.startsWith(`| \`${w.loss}\` | winner |`));
      assert.ok(row, `${s.name}: the winner's row`);
      assert.ok(row.includes(`| ${c.t!.toFixed(2)} |`), `${s.name}: Welch t ${c.t} in ${row}`);
      const e = parseExpr(s.mode as 'cls' | 'bcls', s.winner!);
      assert.ok(md.includes(`infix: \`${printInfix(e)}\``));
      assert.ok(md.includes(`$${printLatex(e)}$`));
      // the nearest presets by gradient: every expression preset of the mode, nearest first, positive | negative side
      const near = /^- nearest presets by gradient \(.*\): (.*)$/m.exec(md.slice(md.indexOf(`infix: \`${printInfix(e)}\``)));
      assert.ok(near, 'the nearest-presets line');
      const rows = near[1]!.split(', ').map((x) => /^(\S+) (\d+\.\d{3}) \| (\d+\.\d{3})$/.exec(x));
      assert.ok(
        rows.every((r) => r !== null),
        near[1],
      );
      const expected = Object.entries(PRESETS)
        .filter(([, p]) => p.mode === s.mode && p.text)
        .map(([n]) => n);
      assert.deepEqual(rows.map((r) => r![1]).sort(), expected.sort());
      const means = rows.map((r) => (Number(r![2]) + Number(r![3])) / 2);
      assert.deepEqual(
        means,
        [...means].sort((a, b) => a - b),
        'nearest first',
      );
      // the lineage line: report.json's founders and per-generation counts
      const lin = buildReport(join(disc, s.name, 'run')).lineage;
      const linLine = md.split('\n').find((l) => l.startsWith('Lineage') && md.indexOf(l) > md.indexOf(`## ${s.name}:`));
      assert.ok(linLine, `${s.name}: the lineage line`);
      assert.ok(linLine.includes(`descend from ${lin.founders.length} founder`), linLine);
      for (const f of lin.founders) assert.ok(linLine.includes(`${f.id} \`${f.loss}\``), `${f.id} in ${linLine}`);
      assert.ok(
        linLine.includes(
          `proxy evaluations: ${lin.generations
            .filter((g) => g.proxied)
            .map((g) => `${g.founders} of ${g.proxied}`)
            .join(', ')} (`,
        ),
        linLine,
      );
      const target = 100 * c.diff >= 1 && c.t !== null && c.t >= 3;
      // a missed target says what held it back: the proxy's view of the best candidate, and the lineage
      const rep = buildReport(join(disc, s.name, 'run'));
      // this search's bullet of "What the runs show": up to the next bullet or the blank line after the list
      const from = md.indexOf(`- **${s.name}**`);
      const ends = [md.indexOf('\n- **', from + 1), md.indexOf('\n\n', from)].filter((x) => x > from);
      const bullet = md.slice(from, Math.min(...ends));
      const heldHere = bullet.split('\n').find((l) => l.startsWith('  What held it back:'));
      if (target) assert.equal(heldHere, undefined, `${s.name}: met, nothing held it back`);
      else {
        assert.ok(heldHere, `${s.name}: the held-back line`);
        const d = rep.hallOfFame[0]!.fitness - rep.default!.fitness;
        assert.ok(
          heldHere.includes(`scored ${d < 0 ? '−' : '+'}${Math.abs(100 * d).toFixed(1)} AP ×100 against the default's own proxy run`),
          heldHere,
        );
        assert.ok(heldHere.includes('the proxy study has not measured this proxy'), 'a simulated proxy: no seed noise quoted');
        assert.ok(heldHere.includes(`the hall of fame from ${lin.founders.length}`), heldHere);
      }
      assert.match(md, new RegExp(`\\*\\*${s.name}\\*\\*[^\\n]*\\*\\*Target ${target ? 'met' : 'missed'}`));
      const svg = readFileSync(join(dir, 'docs', 'img', 'discovery', `${s.name}-winner.svg`), 'utf8');
      assert.match(svg, /^<svg[^>]*>[\s\S]*polyline[\s\S]*<\/svg>\n$/);
      assert.doesNotMatch(svg, />rival /, 'no confirm.rivals here: the winner and the default only');
      assert.ok(md.includes(`](img/discovery/${s.name}-winner.svg)`));
    }
    assert.match(md, /Transfer to mnist-det \(`tiny`\)/);
    assert.match(md, /## Efficiency against vanilla/);
    assert.match(
      md,
      /- cse seed 0 \(the first 1 generations of the S1 search above, `[^`]*S1\/run` at commit [0-9a-f]{7}: the same strategy, seed and config but for generations and final/,
    );
    assert.match(md, /- cse seed 1: /);
    assert.match(md, /Ratio vanilla \/ cse: (not determined|[\d.]+x proxy evaluations)/);
    assert.match(md, /## Multi-fidelity: early stopping, measured/);
    assert.match(md, /Populations: the same in all 2 generation\(s\)/);
    assert.match(md, /False stops: 0 of the 0 stopped/);

    // a second call: everything is finished, nothing runs again, the files are the same runs
    const stamp = (f: string) => statSync(f).mtimeMs;
    const files = [
      join(disc, 'S1', 'run', 'journal.sqlite'),
      join(disc, 'S2', 'run', 'journal.sqlite'),
      join(disc, 'S1', 'transfer', 'winner', 'seed0', 'metrics.json'),
      join(disc, 'efficiency', 'S1', 'vanilla-seed0', 'run', 'journal.sqlite'),
      join(disc, 'S1-no-early-stop', 'run', 'journal.sqlite'),
      // result files the collect writes: left as they are when their content (but for the writer's provenance) is the same
      ...readdirSync(join(disc, 'S1', 'final')).map((f) => join(disc, 'S1', 'final', f)),
      join(disc, 'efficiency', 'S1.json'),
    ];
    const before = files.map(stamp);
    // before any efficiency run of its own, --efficiency already reports the run that S1's search is
    {
      const root2 = join(dir, 'results-prefix-only');
      cpSync(join(disc, 'S1'), join(root2, 'discovery', 'S1'), { recursive: true });
      const c = discovery(['--collect-only', '--efficiency', 'S1'], { root: root2, docs: join(dir, 'D2.md') });
      assert.equal(c.code, 0, c.out);
      const e2 = (
        JSON.parse(readFileSync(join(root2, 'discovery', 'summary.json'), 'utf8')) as {
          efficiency: { cse: { seed: number; from?: string }[]; vanilla: unknown[] };
        }
      ).efficiency;
      assert.deepEqual(
        e2.cse.map((x) => [x.seed, x.from]),
        [[0, join(root2, 'discovery', 'S1', 'run')]],
      );
      assert.deepEqual(e2.vanilla, []);
    }
    // a fresh clone: the run folders (kept out of git) are gone, only the committed files are there;
    // the collect restores each finished search's run folder from its journal copy and shows the same results
    {
      const root4 = join(dir, 'results-fresh-clone');
      for (const name of ['S1', 'S2']) {
        const to = join(root4, 'discovery', name);
        mkdirSync(to, { recursive: true });
        for (const f of readdirSync(join(disc, name)).filter((f) => f !== 'run'))
          cpSync(join(disc, name, f), join(to, f), { recursive: true });
      }
      assert.ok(!existsSync(join(root4, 'discovery', 'S1', 'run')));
      const c = discovery(['--collect-only', '--efficiency', 'S1'], { root: root4, docs: join(dir, 'D4.md') });
      assert.equal(c.code, 0, c.out);
      for (const name of ['S1', 'S2']) {
        assert.ok(c.out.includes(`restored ${join(root4, 'discovery', name, 'run')} from the committed journal copy`), c.out);
        assert.deepEqual(
          readFileSync(join(root4, 'discovery', name, 'run', 'journal.sqlite')),
          readFileSync(join(disc, name, 'journal.sqlite')),
        );
      }
      const s4 = JSON.parse(readFileSync(join(root4, 'discovery', 'summary.json'), 'utf8')) as typeof summary;
      assert.deepEqual(s4.searches, summary.searches);
      assert.equal(s4.efficiency?.cse.length, 1, "cse seed 0 is S1's own search, found in the restored run folder");
      const md4 = readFileSync(join(dir, 'D4.md'), 'utf8');
      assert.ok(md4.includes(`- **S1** (`) && !md4.includes('not started'), md4);
      // a second collect leaves a run folder that has a journal as it is
      const again = discovery(['--collect-only'], { root: root4, docs: join(dir, 'D4.md') });
      assert.equal(again.code, 0, again.out);
      assert.doesNotMatch(again.out, /restored/);
    }
    const second = driver();
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, /0 step\(s\) run in this call/);
    assert.doesNotMatch(second.out, /cse-autoloss search|\[transfer/);
    assert.deepEqual(files.map(stamp), before);
    assert.equal(readFileSync(docs, 'utf8'), md, 'the docs are the same');

    // the twin was run with 2 generations: asking for 3 is refused before anything runs, naming the folder
    const other = discovery(['--early-stop', 'S1', '--generations', '3']);
    assert.equal(other.code, 2, other.out);
    assert.match(other.out, /S1-no-early-stop\/run was run with 2 generations, not 3; use --generations 2, or remove that folder/);
    assert.deepEqual(files.map(stamp), before);

    // the winner among all the presets: the proxy study's full-schedule seed-0 runs count only when
    // its default run is bit-identical to the final evaluation's seed 0 (and the machine the same)
    const j1 = Journal.open(join(disc, 'S1', 'run'), { readonly: true });
    const env = (JSON.parse(j1.getMeta('provenance')!) as { env: Record<string, unknown> }).env;
    j1.close();
    const defAp = s1.final.find((r) => r.role === 'default')!.AP[0]!;
    const winAp = s1.final.find((r) => r.role === 'winner')!.AP[0]!;
    const study = join(root, 'proxy', 'S1', 'full');
    mkdirSync(study, { recursive: true });
    // the study's files record the thread count of their own training (2); the search's coordinator records none (null)
    assert.equal(env.threads, null);
    const studyEnv = { ...env, threads: 2 };
    const studyRun = (lossName: string, role: string, AP: number, e: Record<string, unknown> = studyEnv) =>
      writeFileSync(join(study, `${lossName}-seed0.json`), JSON.stringify({ lossName, role, status: 'ok', AP, provenance: { env: e } }));
    studyRun('focal', 'default', defAp);
    studyRun('bce', 'preset', winAp + 0.02);
    studyRun('m1', 'offspring', 0.99); // not a preset: not shown
    const ctx = () => {
      const r = discovery(['--collect-only']);
      assert.equal(r.code, 0, r.out);
      return readFileSync(docs, 'utf8')
        .split('\n')
        .find((l) => l.includes('Among'));
    };
    const pc = (x: number) => (100 * x).toFixed(1);
    let line = ctx()!;
    assert.ok(line.includes(`, 2 of 3 (not run: cse-b-cls): bce ${pc(winAp + 0.02)}, focal ${pc(defAp)};`), line);
    assert.ok(!line.includes('m1'), line);
    assert.match(line, new RegExp(`the winner's seed 0: ${pc(winAp).replace('.', '\\.')}, −2\\.0 against the best preset, bce`));
    // a preset trained on another CPU, and an unreadable file, are counted, not shown
    studyRun('bce', 'preset', winAp + 0.02, { ...studyEnv, cpu: 'another CPU' });
    writeFileSync(join(study, 'cse-b-cls-seed0.json'), '{"lossName": "cse-b-');
    line = ctx()!;
    assert.ok(line.includes(`, 1 of 3 (another machine: bce; unreadable: cse-b-cls): focal ${pc(defAp)};`), line);
    // the default's seed 0 not bit-identical: nothing compared, both values in full
    studyRun('focal', 'default', defAp + 1e-12);
    assert.ok(
      ctx()!.includes(
        `not comparable here. The proxy study's full-schedule run of the default (seed 0) gave AP ${defAp + 1e-12} and this final evaluation's ${defAp};`,
      ),
    );
    assert.match(ctx()!, /Among the other presets: not comparable here/);
    // the default bit-identical but trained on another CPU: not comparable, and the line says why
    studyRun('focal', 'default', defAp, { ...studyEnv, cpu: 'another CPU' });
    line = ctx()!;
    assert.match(line, /Among the other presets: not comparable here/);
    assert.ok(line.includes(`(CPU 'another CPU' here, '${String(env.cpu)}' in the search)`), line);
  },
);

test('results-discovery --early-stop S2: a setting searched without early stopping gets a twin with it (discovery.yaml earlyStop), compared with its first generations', () => {
  // S2 of the test above (finished, 2 generations, no proxy.earlyStop): its search is not run again
  const out5 = join(dir, 'D5.md');
  const before = statSync(join(disc, 'S2', 'run', 'journal.sqlite')).mtimeMs;
  const r = discovery(['--settings', 'S2', '--early-stop', 'S2', '--generations', '2'], { root, docs: out5 });
  assert.equal(r.code, 0, r.out);
  assert.equal(statSync(join(disc, 'S2', 'run', 'journal.sqlite')).mtimeMs, before, "S2's own search is not run again");
  const summary = JSON.parse(readFileSync(join(disc, 'summary.json'), 'utf8')) as {
    multiFidelity: MultiFidelity & { twin: string; earlyStop: unknown };
  };
  const mf = summary.multiFidelity;
  assert.deepEqual([mf.setting, mf.generations, mf.measuredGenerations, mf.twin], ['S2', 2, 2, 'with']);
  assert.deepEqual(mf.earlyStop, { fraction: 0.5, minRatio: 0.3 });
  // the twin is the run with early stopping; the main search (without) is the other side
  assert.equal(mf.with.runDir, join(disc, 'S2-early-stop', 'run'));
  assert.equal(mf.without.runDir, join(disc, 'S2', 'run'));
  assert.ok(!existsSync(join(disc, 'S2-no-early-stop')));
  const twin = buildReport(mf.with.runDir);
  const main = buildReport(mf.without.runDir);
  assert.deepEqual(twin.config.proxy.earlyStop, { fraction: 0.5, minRatio: 0.3 });
  assert.equal(main.config.proxy.earlyStop, undefined);
  assert.deepEqual([twin.config.seed, twin.config.evolution.generations, twin.config.final.enabled, twin.final], [0, 2, false, null]);
  assert.equal(twin.config.mode, 'cls');
  // a simulated proxy ignores the check: the twin is the main search's first generations, candidate for candidate
  assert.equal(mf.firstDivergentGeneration, null);
  assert.deepEqual([mf.with.stoppedEarly, mf.stoppedMatched, mf.falseStops, mf.bestDiffers, mf.notes], [0, 0, [], false, []]);
  assert.equal(mf.with.defaultFitness, mf.without.defaultFitness);
  assert.deepEqual(
    mf.with.perGeneration.map((g) => [g.proxyEvaluations, g.bestFitness, g.hofTop]),
    main.generations.slice(0, 2).map((g) => [g.proxyNew, g.bestEverFitness, g.bestEverLoss]),
  );
  const md = readFileSync(out5, 'utf8');
  assert.ok(
    md.includes(
      `Setting S2, the first 2 generation(s), the same seed: the main search, which runs without early stopping (\`${join(disc, 'S2', 'run')}\`), against its twin with \`proxy.earlyStop { fraction: 0.5, minRatio: 0.3 }\`: a candidate's proxy training is scored after 50% of its iterations and stopped when its AP there is below 0.3 × the default's at the same point`,
    ),
    md,
  );
  assert.match(md, /Populations: the same in all 2 generation\(s\)/);
  // again: nothing runs; asked for another check, the twin is refused (remove it to measure that one)
  const again = discovery(['--settings', 'S2', '--early-stop', 'S2', '--generations', '2'], { root, docs: out5 });
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /0 step\(s\) run in this call/);
  const other = cfgVariant('cfg-other-es', (y) => y.replace('minRatio: 0.3', 'minRatio: 0.5'));
  const refused = discovery(['--settings', 'S2', '--early-stop', 'S2', '--generations', '2'], { root, docs: out5, cfg: other });
  assert.equal(refused.code, 2, refused.out);
  assert.match(
    refused.out,
    /S2-early-stop\/run was run with proxy\.earlyStop \{"fraction":0\.5,"minRatio":0\.3\}, not \{"fraction":0\.5,"minRatio":0\.5\}/,
  );
});

test('results-discovery --early-stop S2: a main search whose proxy trainings name another machine is not an arm; its kind of twin trains here too', () => {
  // the previous test's results (S2 finished, its twin with early stopping), with S2's proxy records
  // marked as trained on machine 000000000001: training is bit-identical only on one machine
  const root6 = join(dir, 'results6');
  cpSync(root, root6, { recursive: true });
  const disc6 = join(root6, 'discovery');
  assert.ok(markRun(join(disc6, 'S2', 'run'), 1) > 0);
  const out6 = join(dir, 'D6.md');
  const args = ['--settings', 'S2', '--early-stop', 'S2', '--generations', '2'];
  const plan = discovery([...args, '--plan'], { root: root6, docs: out6 });
  assert.equal(plan.code, 0, plan.out);
  assert.ok(
    plan.out.includes(
      `pending early-stop S2: 2 generation(s) without early stopping in ${join(disc6, 'S2-no-early-stop', 'run')} (the main search's arm, trained here: its proxy trainings are not all from this machine (`,
    ),
    plan.out,
  );
  assert.match(plan.out, /\): 000000000001\)/);
  assert.ok(!existsSync(join(disc6, 'S2-no-early-stop')), '--plan trains nothing');

  const r = discovery(args, { root: root6, docs: out6 });
  assert.equal(r.code, 0, r.out);
  assert.match(
    r.out,
    /early-stop S2: the main search's first 2 generation\(s\) are not compared: .*; its twin without early stopping trains here/,
  );
  const mf = (JSON.parse(readFileSync(join(disc6, 'summary.json'), 'utf8')) as { multiFidelity: MultiFidelity & { twin: string } })
    .multiFidelity;
  assert.deepEqual([mf.twin, mf.measuredGenerations], ['both', 2]);
  assert.equal(mf.with.runDir, join(disc6, 'S2-early-stop', 'run'));
  assert.equal(mf.without.runDir, join(disc6, 'S2-no-early-stop', 'run'));
  const wo = buildReport(mf.without.runDir);
  assert.equal(wo.config.proxy.earlyStop, undefined);
  assert.deepEqual([wo.config.seed, wo.config.evolution.generations, wo.config.final.enabled], [0, 2, false]);
  // the new arm is the main search's first generations again (a simulated proxy is the same on any machine)
  const main = buildReport(join(disc6, 'S2', 'run'));
  assert.deepEqual(
    wo.generations.map((g) => [g.proxyNew, g.bestEverFitness, g.bestEverLoss]),
    main.generations.slice(0, 2).map((g) => [g.proxyNew, g.bestEverFitness, g.bestEverLoss]),
  );
  assert.deepEqual([mf.firstDivergentGeneration, mf.notes], [null, []]);
  const md = readFileSync(out6, 'utf8');
  assert.ok(
    md.includes(
      `Setting S2, the first 2 generation(s), the same seed, both runs trained for this measurement, one after the other (the main search's own first generations trained on another machine, or recorded none, and training is bit-identical only on one): without early stopping (final disabled; \`${join(disc6, 'S2-no-early-stop', 'run')}\`) against with \`proxy.earlyStop { fraction: 0.5, minRatio: 0.3 }\``,
    ),
    md,
  );
  // again: nothing runs, and the plan shows both twins done
  const again = discovery(args, { root: root6, docs: out6 });
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /0 step\(s\) run in this call/);
  const plan2 = discovery([...args, '--plan'], { root: root6, docs: out6 });
  assert.match(plan2.out, /done {4}early-stop S2: 2 generation\(s\) with early stopping/);
  assert.match(plan2.out, /done {4}early-stop S2: 2 generation\(s\) without early stopping in .*S2-no-early-stop/);
});

test('results-discovery --early-stop S2: a twin trained on another machine is set aside and trained again here, so both arms share one', () => {
  // the previous test's twins (both finished), marked: the one with early stopping trained here, the one
  // without on machine 000000000001 with a detector proxy (training differs across machines)
  const root8 = join(dir, 'results8');
  cpSync(join(dir, 'results6'), root8, { recursive: true });
  const disc8 = join(root8, 'discovery');
  const here = machineKey(machineId()!);
  const mark = (twin: string, machine: number, detector: boolean) => markRun(join(disc8, twin, 'run'), machine, { detector });
  mark('S2-early-stop', here, false);
  mark('S2-no-early-stop', 1, true);
  const before = readFileSync(join(disc8, 'S2-early-stop', 'run', 'journal.sqlite'));
  const r = discovery(['--settings', 'S2', '--early-stop', 'S2', '--generations', '2'], { root: root8, docs: join(dir, 'D8.md') });
  assert.equal(r.code, 0, r.out);
  const moved =
    /early-stop S2: (\S+S2-no-early-stop) trained on 000000000001, not only on this machine \(([0-9a-f]{12})\): moved to (\S+); it trains again here/.exec(
      r.out,
    );
  assert.ok(moved, r.out);
  assert.equal(moved[2], machineKeyText(here));
  assert.ok(moved[3]!.startsWith(join(disc8, 'set-aside', 'S2-no-early-stop-')), moved[3]);
  assert.ok(existsSync(join(moved[3]!, 'run', 'journal.sqlite')), 'the set-aside run is kept');
  // trained again here (a simulated proxy: the same generations), the arm trained here kept as it was
  assert.match(r.out, /early-stop S2 \(without early stopping, the main search's arm\): starting the search in \S+S2-no-early-stop\/run/);
  const jn = Journal.open(join(disc8, 'S2-no-early-stop', 'run'), { readonly: true });
  assert.equal(jn.getMeta('status'), 'finished');
  jn.close();
  assert.ok(readFileSync(join(disc8, 'S2-early-stop', 'run', 'journal.sqlite')).equals(before));
  const mf = (JSON.parse(readFileSync(join(disc8, 'summary.json'), 'utf8')) as { multiFidelity: MultiFidelity & { twin: string } })
    .multiFidelity;
  assert.deepEqual([mf.twin, mf.measuredGenerations, mf.firstDivergentGeneration], ['both', 2, null]);
  // nothing to set aside any more (the new twin's simulated proxy is the same on every machine)
  const again = discovery(['--settings', 'S2', '--early-stop', 'S2', '--generations', '2'], { root: root8, docs: join(dir, 'D8.md') });
  assert.equal(again.code, 0, again.out);
  assert.doesNotMatch(again.out, /moved to/);
  assert.match(again.out, /0 step\(s\) run in this call/);
});

test('results-discovery --efficiency: an unfinished run begun on another machine is set aside and started again here', () => {
  // the first test's vanilla seed-0 run, turned into one begun elsewhere: unfinished, a detector proxy, machine 000000000001
  const root9 = join(dir, 'results9');
  cpSync(root, root9, { recursive: true });
  const effRun = join(root9, 'discovery', 'efficiency', 'S1', 'vanilla-seed0', 'run');
  markRun(effRun, 1, { detector: true, running: true });
  const r = discovery(['--efficiency', 'S1'], { root: root9, docs: join(dir, 'D9.md') });
  assert.equal(r.code, 0, r.out);
  const moved =
    /efficiency S1 vanilla seed 0: begun on 000000000001, not only on this machine \([0-9a-f]{12}\): moved to (\S+); it starts again here/.exec(
      r.out,
    );
  assert.ok(moved, r.out);
  assert.ok(moved[1]!.startsWith(join(root9, 'discovery', 'set-aside', 'efficiency-S1-vanilla-seed0-')), moved[1]);
  assert.ok(existsSync(join(moved[1]!, 'run', 'journal.sqlite')), 'the set-aside run is kept');
  assert.match(r.out, /efficiency S1 vanilla seed 0: starting the search in /);
  const j = Journal.open(effRun, { readonly: true });
  assert.equal(j.getMeta('status'), 'finished');
  j.close();
  // the other runs (finished) are not touched, and a second call moves nothing
  assert.doesNotMatch(r.out, /efficiency S1 (cse|vanilla) seed 1: (begun|starting)/);
  const again = discovery(['--efficiency', 'S1'], { root: root9, docs: join(dir, 'D9.md') });
  assert.equal(again.code, 0, again.out);
  assert.doesNotMatch(again.out, /moved to/);
});

test("results-discovery --efficiency: the setting's own search is an efficiency run only when it trained on this machine; else the run trains on its own here", () => {
  // the first test's S1 search (cse seed 0's efficiency run is its first generation), its proxy records marked as machine 000000000001
  const root10 = join(dir, 'results10');
  cpSync(root, root10, { recursive: true });
  const disc10 = join(root10, 'discovery');
  assert.ok(markRun(join(disc10, 'S1', 'run'), 1) > 0);
  const docs10 = join(dir, 'D10.md');
  const ownRun = join(disc10, 'efficiency', 'S1', 'cse-seed0', 'run');
  const why = `efficiency S1 cse seed 0: the first 1 generations of ${join(disc10, 'S1', 'run')} (the setting's own search) are not this machine's run (its proxy trainings are not all from this machine (`;
  const plan = discovery(['--efficiency', 'S1', '--plan'], { root: root10, docs: docs10 });
  assert.equal(plan.code, 0, plan.out);
  assert.ok(plan.out.includes(`  ${why}`), plan.out);
  assert.match(plan.out, /pending efficiency S1 cse seed 0\n/);
  assert.ok(!existsSync(ownRun), '--plan trains nothing');
  const r = discovery(['--efficiency', 'S1'], { root: root10, docs: docs10 });
  assert.equal(r.code, 0, r.out);
  assert.ok(r.out.includes(why), r.out);
  assert.match(r.out, /efficiency S1 cse seed 0: starting the search in /);
  // the other runs had their own folders (finished): not trained again
  assert.doesNotMatch(r.out, /efficiency S1 (vanilla seed [01]|cse seed 1): (begun|starting)/);
  const j = Journal.open(ownRun, { readonly: true });
  assert.equal(j.getMeta('status'), 'finished');
  j.close();
  const eff = (JSON.parse(readFileSync(join(disc10, 'summary.json'), 'utf8')) as { efficiency: { cse: { seed: number; from?: string }[] } })
    .efficiency;
  assert.deepEqual(
    eff.cse.map((x) => [x.seed, x.from]),
    [
      [0, undefined],
      [1, undefined],
    ],
  );
  // its own run is the same search as the prefix (a simulated proxy is the same on every machine): the same first generation
  const own = buildReport(ownRun);
  const main = buildReport(join(disc10, 'S1', 'run'));
  assert.deepEqual(
    [own.generations[0]!.proxyTotal, own.generations[0]!.bestEverLoss, own.generations[0]!.bestEverFitness],
    [main.generations[0]!.proxyTotal, main.generations[0]!.bestEverLoss, main.generations[0]!.bestEverFitness],
  );
  // its own folder is used from now on: a second call trains nothing
  const again = discovery(['--efficiency', 'S1'], { root: root10, docs: docs10 });
  assert.equal(again.code, 0, again.out);
  assert.doesNotMatch(again.out, /starting the search|not this machine's run/);
  assert.match(again.out, /0 step\(s\) run in this call/);
});

test('results-discovery: the transfer compares only runs of one machine, and names the seeds left out; each efficiency run names its machines', () => {
  // the first test's transfer (S1, seed 0, both runs trained here), collected again in a copy
  const root7 = join(dir, 'results7');
  cpSync(root, root7, { recursive: true });
  const out7 = join(dir, 'D7.md');
  const here = machineKeyText(machineKey(machineId()!));
  const collect = (line = '  Transfer to mnist-det:') => {
    const r = discovery(['--collect-only', '--efficiency', 'S1'], { root: root7, docs: out7 });
    assert.equal(r.code, 0, r.out);
    return readFileSync(out7, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(line))!;
  };
  // the efficiency runs' proxy is simulated: no machine in the records, and machines.jsonl's one line has no key
  assert.ok(collect('- vanilla seed 0').endsWith('; machine not recorded'));
  // vanilla seed 0's proxy records marked: the default's on machine 5, every candidate's on 7
  const vRun = join(root7, 'discovery', 'efficiency', 'S1', 'vanilla-seed0', 'run');
  const vdb = new Database(join(vRun, 'journal.sqlite'), { readonly: true });
  const defFp = (
    JSON.parse((vdb.prepare("SELECT value FROM meta WHERE key = 'default'").get() as { value: string }).value) as { fingerprint: string }
  ).fingerprint;
  vdb.close();
  markRun(vRun, (fp) => (fp === defFp ? 5 : 7));
  assert.ok(
    collect('- vanilla seed 0').endsWith(
      '; **its proxy trainings ran on 2 machines** (000000000005, 000000000007), so its candidates met a default trained elsewhere',
    ),
  );
  // the other efficiency runs' simulated proxy records name no machine: counted beside the two machines
  const effRuns = () => {
    const e = (
      JSON.parse(readFileSync(join(root7, 'discovery', 'summary.json'), 'utf8')) as {
        efficiency: { cse: { seed: number }[]; vanilla: { seed: number }[] };
      }
    ).efficiency;
    return [...e.cse.map((r) => `cse seed ${r.seed}`), ...e.vanilla.map((r) => `vanilla seed ${r.seed}`)];
  };
  const others = effRuns().filter((r) => r !== 'vanilla seed 0');
  assert.ok(others.length >= 3, others.join(', '));
  assert.ok(
    readFileSync(out7, 'utf8').includes(
      `The runs trained on 2 machines (000000000005, 000000000007), and ${others.length} run(s) recorded none: proxy evaluations compare across them`,
    ),
  );
  // all of vanilla seed 0's records on machine 7: one machine named, the runs without one listed
  markRun(vRun, 7);
  assert.ok(collect('- vanilla seed 0').endsWith('; machine 000000000007'));
  assert.ok(
    readFileSync(out7, 'utf8').includes(
      `${others.length} run(s) recorded no machine (${others.join(', ')}), the others ran on 000000000007: proxy evaluations compare across them (each run's default is its own); wall times may compare machines too.`,
    ),
  );
  const one = collect();
  assert.ok(one.endsWith(` (all on one machine, ${here}).`), one);
  // the default's run marked as trained on machine 000000000001: its seed is not compared
  const f = join(root7, 'discovery', 'S1', 'transfer', 'default', 'seed0', 'metrics.json');
  const m = JSON.parse(readFileSync(f, 'utf8')) as { metrics: Record<string, number> };
  m.metrics.machine = 1;
  writeFileSync(f, JSON.stringify(m));
  const two = collect();
  assert.ok(
    two.includes(
      `**the runs trained on 2 machines**, and training differs across machines; over the seeds whose two runs trained on one (none): nothing to compare; left out: seed 0 (the winner on ${here}, the default on 000000000001). Over all seeds: the winner `,
    ),
    two,
  );
});

test('results-discovery: a search stopped in its final evaluation shows its hall of fame and the final runs so far, no verdict', () => {
  // S1's finished run (the test above), turned back into one stopped after 4 final runs: the
  // summary removed, the status 'running' (no owner: shown as interrupted), the later final records deleted
  const root3 = join(dir, 'results3');
  const run3 = join(root3, 'discovery', 'S1', 'run');
  cpSync(join(disc, 'S1', 'run'), run3, { recursive: true });
  const full = JSON.parse(readFileSync(join(disc, 'S1', 'report.json'), 'utf8')) as {
    final: { loss: string; role: string; aps: (number | null)[] }[];
    hallOfFame: { loss: string; fitness: number }[];
  };
  const db = new Database(join(run3, 'journal.sqlite'));
  const seqs = (db.prepare("SELECT seq FROM results WHERE stage = 'final' ORDER BY seq").all() as { seq: number }[]).map((r) => r.seq);
  const rows = full.final.length;
  assert.equal(seqs.length, rows * 3);
  db.prepare("DELETE FROM results WHERE stage = 'final' AND seq > ?").run(seqs[3]);
  db.prepare("DELETE FROM meta WHERE key = 'summary'").run();
  db.prepare("UPDATE meta SET value = 'running' WHERE key = 'status'").run();
  const kept = db.prepare("SELECT loss, score FROM results WHERE stage = 'final' ORDER BY seq").all() as { loss: string; score: number }[];
  db.close();
  const out3 = join(dir, 'D3.md');
  const r = discovery(['--collect-only', '--settings', 'S1'], { root: root3, docs: out3 });
  assert.equal(r.code, 0, r.out);
  const md = readFileSync(out3, 'utf8');
  assert.match(
    md,
    new RegExp(
      `- \\*\\*S1\\*\\*: pending \\(interrupted: \\d+ generation\\(s\\), \\d+ proxy evaluations so far; final evaluation 4 of ${rows * 3} runs\\)`,
    ),
  );
  assert.ok(md.includes(`Final evaluation so far: 4 of ${rows * 3} runs finished`), md);
  assert.doesNotMatch(md, /Target (met|missed)|Winner:/);
  // the hall of fame's best under the proxy, as in the finished run's report
  const pc = (x: number) => (100 * x).toFixed(1);
  assert.ok(md.includes(`1. ${pc(full.hallOfFame[0]!.fitness)} \`${full.hallOfFame[0]!.loss}\``), md);
  // the table: one row per final row of the finished run, in its order; the kept runs' APs in their rows, the rest not run yet
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Final evaluation so far'));
  const table = lines.slice(start + 4, start + 4 + rows);
  assert.equal(table.length, rows);
  let notRun = 0;
  full.final.forEach((f, i) => {
    const cells = table[i]!.split(' | ');
    const shown = f.role === 'default' ? 'focal' : f.role === 'published' ? 'cse-b-cls' : `\`${f.loss}\``;
    assert.equal(cells[0], `| ${shown}`, table[i]);
    const mine = kept.filter((k) => k.loss === f.loss).map((k) => pc(k.score));
    const seeds = cells[2]!.split(', ');
    assert.equal(seeds.length, 3);
    assert.deepEqual(
      seeds.filter((x) => x !== 'not run yet'),
      mine,
      table[i],
    );
    notRun += seeds.filter((x) => x === 'not run yet').length;
  });
  assert.equal(notRun, rows * 3 - 4);
});

test('results-discovery: usage errors exit 2 and name the problem; --plan runs nothing', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/results-discovery.ts', '--settings', 'S9', '--config-dir', cfgDir, '--root', join(dir, 'none')],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--settings: unknown setting 'S9'/);
  const bad = (args: string[], re: RegExp, cfg = cfgDir) => {
    const x = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/results-discovery.ts', '--config-dir', cfg, '--root', join(dir, 'none'), ...args],
      { encoding: 'utf8' },
    );
    assert.equal(x.status, 2, `${args.join(' ')}: ${x.stderr}`);
    assert.match(x.stderr, re);
  };
  bad(['--generations', '2'], /--generations goes with --early-stop NAME/);
  bad(['--early-stop', 'S1', '--generations', '0'], /--generations: '0' is not an integer >= 1/);
  // S2 searches without early stopping: its twin adds discovery.yaml's earlyStop, and without one there is nothing to compare
  const noEs = cfgVariant('cfg-no-es', (y) => y.replace(/^earlyStop:.*\n/m, ''));
  bad(
    ['--early-stop', 'S2', '--settings', 'S2'],
    /--early-stop S2: .*discovery-s2\.yaml has no proxy\.earlyStop and .*cfg-no-es\/discovery\.yaml no earlyStop to add/,
    noEs,
  );
  const badEs = cfgVariant('cfg-bad-es', (y) => y.replace(/^earlyStop:.*$/m, 'earlyStop: { fraction: 1.5, minRatio: 0.3 }'));
  bad(['--collect-only'], /discovery\.yaml:\n {2}earlyStop: needs fraction \(0 < fraction < 1\) and minRatio/, badEs);
  assert.ok(!existsSync(join(dir, 'none', 'discovery', 'S2', 'run')), 'refused before anything ran');
  assert.ok(!existsSync(join(dir, 'none', 'discovery', 'S2-early-stop')), 'refused before anything ran');
  const p = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/results-discovery.ts',
      '--plan',
      '--early-stop',
      'S1',
      '--config-dir',
      cfgDir,
      '--root',
      join(dir, 'plan'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /S1: search not started/);
  assert.match(p.stdout, /pending early-stop S1: 3 generation\(s\) without early stopping/);
  assert.ok(!existsSync(join(dir, 'plan', 'discovery', 'S1', 'run', 'journal.sqlite')));
  const p2 = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/results-discovery.ts',
      '--plan',
      '--settings',
      'S2',
      '--early-stop',
      'S2',
      '--config-dir',
      cfgDir,
      '--root',
      join(dir, 'plan'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(p2.status, 0, p2.stderr);
  assert.ok(
    p2.stdout.includes(
      `pending early-stop S2: 3 generation(s) with early stopping (fraction 0.5, minRatio 0.3) in ${join(dir, 'plan', 'discovery', 'S2-early-stop', 'run')}`,
    ),
    p2.stdout,
  );
  assert.ok(!existsSync(join(dir, 'plan', 'discovery', 'S2-early-stop')));
});

test('configs/discovery-s2.yaml is S1 with Faster R-CNN and cls (the cpu-small schedule in the final); discovery-s2b.yaml is S2 with another seed and population; discovery-s3.yaml is FCOS reg on mnist-det', async () => {
  const { configDiff, loadConfig } = await import('../../src/search/config.js');
  const { resolveTrainConfig } = await import('../../src/detect/index.js');
  const file = (n: string) => new URL(`../../configs/${n}`, import.meta.url).pathname;
  const s1 = loadConfig({ file: file('search.yaml') });
  const s2 = loadConfig({ file: file('discovery-s2.yaml') });
  const frcnnIters = resolveTrainConfig({ detector: 'faster-rcnn', data: '-', preset: 'cpu-small' }, 1).schedule.iters;
  assert.equal(s2.final.task.iters, frcnnIters);
  // Both use MOS level 1's detection problem (docs/SEARCH.md): it is not in the diff.
  assert.equal(s2.mos.level1.problem, 'detection');
  assert.deepEqual(configDiff(s1, s2), [
    `final.task.detector: "fcos" → "faster-rcnn"`,
    `final.task.iters: 4000 → ${frcnnIters}`,
    'mode: "bcls" → "cls"',
    'proxy.task.detector: "fcos" → "faster-rcnn"',
    // each setting's proxy is its own study's (docs/PROXY.md); S2's is provisional until its study is done
    ...(s1.proxy.task.iters === s2.proxy.task.iters ? [] : [`proxy.task.iters: ${s1.proxy.task.iters} → ${s2.proxy.task.iters}`]),
  ]);
  const s3 = loadConfig({ file: file('discovery-s3.yaml') });
  assert.deepEqual(
    [s3.mode, s3.proxy.task.detector, s3.dataset?.kind, s3.proxy.task.dataDir, s3.final.task.dataDir],
    ['reg', 'fcos', 'mnist-det', 'data/mnist-det-128', 'data/mnist-det-128'],
  );
  // S2b: S2 again, with another seed (other founders) and a larger population, nothing else
  const s2b = loadConfig({ file: file('discovery-s2b.yaml') });
  assert.deepEqual(configDiff(s2, s2b), ['population.maxDraws: 2000000 → 4000000', 'population.size: 300 → 1000', 'seed: 0 → 1']);
  for (const c of [s2, s2b, s3])
    assert.ok(c.evolution.generations >= 8 && c.evolution.generations * c.proxy.topK >= 48 && c.population.seedWith.length === 0);
});
