/**
 * The search's claims on the simulated task (issue 17 item 8), over four seeds, with a
 * deliberately weak default loss (the GIoU loss's enclosing-box penalty alone, (E − U)/E, which
 * barely moves the boxes onto their targets):
 *  - the best loss a cse search finds beats the default's proxy fitness;
 *  - cse reaches the default's fitness in fewer proxy evaluations than vanilla EA on the same
 *    seed (vanilla: the first K new random candidates; never reaching it counts as the budget + 1);
 *  - selection works: over the seeds, the hall of fame's best after the last generation is above
 *    the best of the first generation.
 * The reference counts come from the report (src/search/report.ts `reachedDefault`, the same
 * numbers `cse-autoloss compare` prints). About 1 minute on one core.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runSearch } from '../../src/search/evolution.js';
import { buildReport } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { smallConfig, tmpDir } from './helpers.js';

const WEAK_DEFAULT = 'Div(Sub(E,U),E)';
const SEEDS = [1, 2, 3, 4];
const base = tmpDir('cse-discovery-');

async function run(seed: number, strategy: 'cse' | 'vanilla') {
  const dir = join(base, `${strategy}-${seed}`);
  const config = smallConfig({
    seed,
    strategy,
    defaultLoss: WEAK_DEFAULT,
    population: { size: 80 },
    evolution: { generations: 3, parents: 4, elites: 2 },
    proxy: { topK: 6 },
    final: { enabled: false },
  });
  const summary = await runSearch({ config, runDir: dir, transport: new InProcessTransport(runStage) });
  const reached = buildReport(dir).reachedDefault;
  return { summary, evaluationsToDefault: reached ? reached.proxyEvaluations : summary.proxyEvaluations + 1 };
}

test('with a weak default, cse finds a better loss, reaches the default sooner than vanilla, and improves on its first generation', async () => {
  const improvements: number[] = [];
  for (const seed of SEEDS) {
    const cse = await run(seed, 'cse');
    const vanilla = await run(seed, 'vanilla');
    const s = cse.summary;
    assert.equal(s.defaultFitness, vanilla.summary.defaultFitness, 'both strategies measure the same default');
    assert.equal(s.proxyEvaluations, vanilla.summary.proxyEvaluations, 'the same proxy budget');
    const best = s.hallOfFame[0]!.fitness;
    assert.ok(best > s.defaultFitness, `seed ${seed}: the best loss found (${best}) beats the default (${s.defaultFitness})`);
    assert.ok(
      cse.evaluationsToDefault < vanilla.evaluationsToDefault,
      `seed ${seed}: cse reached the default after ${cse.evaluationsToDefault} proxy evaluations, vanilla after ${vanilla.evaluationsToDefault}`,
    );
    improvements.push(s.generations.at(-1)!.bestEverFitness! - s.generations[0]!.bestEverFitness!);
  }
  assert.ok(
    improvements.filter((d) => d > 0).length >= SEEDS.length / 2,
    `the best after the last generation is above the first generation's best in at least half the seeds: ${improvements.join(', ')}`,
  );
});
