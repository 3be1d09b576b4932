import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { int } from './flags.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConfigError, SearchConfig } from '../search/config.js';
import type { StageTransport } from '../search/transport/index.js';
import { UserError } from '../util/errors.js';

interface SearchFlags {
  config?: string;
  out: string;
  resume?: boolean;
  demo?: boolean;
  mode?: string;
  strategy?: string;
  seed?: number;
  generations?: number;
  population?: number;
  topK?: number;
  seedPopulation?: string;
  workers?: number;
  threads?: number;
  jsonLog?: boolean;
  report?: boolean;
  queue?: string;
  serve?: string | true;
  allowCodeChange?: boolean;
  retrainFinal?: boolean;
}

export function register(program: Command): void {
  program
    .command('search')
    .description('search a loss function (CSE-Autoloss evolution: CPV → MOS → proxy task); journal, report and resume in --out')
    .option('--config <file>', 'search config (YAML or JSON; see docs/SEARCH.md)')
    .requiredOption('--out <dir>', 'run folder (journal.sqlite, report.json, report.html)')
    .option('--resume', 'continue the run in --out (after a crash, Ctrl-C or kill -9), reusing every finished evaluation')
    .option(
      '--allow-code-change',
      'with --resume: continue even though src/ differs from the code that wrote the journal (recorded in the journal)',
    )
    .option(
      '--retrain-final',
      "with --resume: train the final evaluation's runs that trained on other machines (or recorded none) again on this one, keeping the old ones in the journal, so that the verdict compares runs of one machine",
    )
    .option(
      '--demo',
      'the small preset: reg-mode search with a tiny FCOS on a generated mnist-det dataset (in --out/data), about 5 minutes on 2 cores',
    )
    .option('--mode <mode>', 'cls | bcls | reg (config: mode)')
    .option('--strategy <s>', 'cse | vanilla (config: strategy)')
    .option('--seed <n>', 'random seed (config: seed)', int('seed'))
    .option('--generations <n>', 'generations (config: evolution.generations)', int('generations', 1))
    .option('--population <n>', 'candidates per generation (config: population.size)', int('population', 1))
    .option('--top-k <n>', 'candidates per generation to the proxy task (config: proxy.topK)', int('top-k', 1))
    .option('--seed-population <list>', 'comma-separated presets or expressions in the initial population (config: population.seedWith)')
    .option('--workers <n>', 'worker processes, 0 = in-process (config: pool.workers)', int('workers'))
    .option('--threads <n>', 'libtorch threads per worker (config: pool.threadsPerWorker)', int('threads', 1))
    .option('--queue <url>', 'run MOS and proxy evaluations on `cse-autoloss worker` processes via Redis: redis://HOST:PORT[/DB]')
    .option('--json-log', 'one JSON object per event on stdout instead of the progress display')
    .option('--no-report', 'do not write report.json / report.html at the end')
    .option(
      '--serve [port]',
      'also serve the live dashboard of this run on 127.0.0.1 (default port 8080; kept up after the search until Ctrl-C)',
    )
    .action(async (flags: SearchFlags) => {
      const { serveBeside, untilSignal } = await import('./serve.js');
      const srv = flags.serve !== undefined ? await serveBeside(flags.out, flags.serve) : null;
      let done = false;
      try {
        await search(flags);
        done = true;
      } catch (e) {
        // --json-log: an error that ends the command is an event on stdout too (the CLI prints it on stderr).
        if (flags.jsonLog) {
          const code = e instanceof UserError ? e.exitCode : 1;
          process.stdout.write(
            JSON.stringify({
              t: null,
              type: 'error',
              kind: code === 2 ? 'usage' : 'internal',
              message: (e as Error)?.message ?? String(e),
              exitCode: code,
            }) + '\n',
          );
        }
        throw e;
      } finally {
        if (srv && done && !process.exitCode) {
          process.stderr.write(`search finished; the dashboard stays at ${srv.url} until Ctrl-C\n`);
          await untilSignal();
        }
        await srv?.close();
      }
    });
}

function overridesOf(f: SearchFlags): Record<string, unknown> {
  // The demo trains on a dataset it generates inside the run folder.
  const demoData = f.demo ? resolve(f.out, 'data') : undefined;
  return {
    'proxy.task.dataDir': demoData,
    'final.task.dataDir': demoData,
    'mos.level2.task.dataDir': demoData,
    mode: f.mode,
    strategy: f.strategy,
    seed: f.seed,
    'evolution.generations': f.generations,
    'population.size': f.population,
    'proxy.topK': f.topK,
    'population.seedWith': f.seedPopulation
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    'pool.workers': f.workers,
    'pool.threadsPerWorker': f.threads,
  };
}

/** The flag behind each overridden config path (named in config errors). */
const FLAG_OF: Record<string, string> = {
  mode: '--mode',
  strategy: '--strategy',
  seed: '--seed',
  'evolution.generations': '--generations',
  'population.size': '--population',
  'proxy.topK': '--top-k',
  'population.seedWith': '--seed-population',
  'pool.workers': '--workers',
  'pool.threadsPerWorker': '--threads',
};

/** A config error whose bad fields came from flags names the flags too. */
function withFlags(e: ConfigError, f: SearchFlags): string {
  const given = Object.entries(overridesOf(f)).filter(([p, v]) => v !== undefined && FLAG_OF[p]);
  return e.message
    .split('\n')
    .map((line) => {
      const hit = given.find(([p]) => line.trimStart().startsWith(`${p}:`) || line.trimStart().startsWith(`${p}.`));
      return hit ? `${line} (from ${FLAG_OF[hit[0]]})` : line;
    })
    .join('\n');
}

async function resolveConfig(f: SearchFlags): Promise<SearchConfig> {
  const { ConfigError, loadConfig } = await import('../search/config.js');
  try {
    // Resume with the journal's own config (flags still override, and are checked against it).
    if (f.resume && !f.config && !f.demo) return (await import('../search/resume.js')).resumeConfig(f.out, overridesOf(f));
    return loadConfig({ file: f.config, demo: f.demo, overrides: overridesOf(f) });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(withFlags(e, f));
    throw e;
  }
}

/** Makes the config's dataset (`dataset`) in the dataDir of every detector task the run uses (a disabled final or level 2 is not) that does not hold one yet. */
async function ensureData(cfg: SearchConfig): Promise<void> {
  const tasks = [cfg.proxy.task, ...(cfg.final.enabled ? [cfg.final.task] : []), ...(cfg.mos.level2.enabled ? [cfg.mos.level2.task] : [])];
  const dirs = new Set(tasks.filter((t) => t.kind === 'detector').map((t) => t.dataDir));
  for (const dir of dirs) {
    if (existsSync(join(dir, 'train', 'annotations.json')) && existsSync(join(dir, 'val', 'annotations.json'))) continue;
    const d = cfg.dataset;
    if (!d) continue; // the proxy reports the missing folder as an environment error
    const { makeDataset } = await import('../data/make.js');
    process.stderr.write(`making the ${d.kind} dataset (${d.images} images, ${d.size} px, seed ${d.seed}) in ${dir} (config: dataset)\n`);
    await makeDataset(d.kind, { images: d.images, size: d.size, seed: d.seed, valFraction: d.valFraction, out: dir });
  }
}

/** Where stage evaluations run: the Redis queue, this process, or the local process pool. */
async function openTransport(
  queue: string | undefined,
  plan: { workers: number; threads: number },
  runTag: string,
): Promise<StageTransport> {
  if (queue) return (await import('../queue/index.js')).openQueueForSearch(queue, runTag, (m) => process.stderr.write(`queue: ${m}\n`));
  if (plan.workers === 0) {
    const [{ InProcessTransport }, { runStage }] = await Promise.all([
      import('../search/transport/index.js'),
      import('../search/stages/index.js'),
    ]);
    return new InProcessTransport(runStage);
  }
  const { ProcessPool } = await import('../search/transport/pool.js');
  return new ProcessPool({ workers: plan.workers, threadsPerWorker: plan.threads });
}

async function search(f: SearchFlags): Promise<void> {
  if (f.retrainFinal && !f.resume)
    throw new UsageError('--retrain-final goes with --resume: it retrains the final runs of the run in --out');
  // the queue's workers may be other machines: the runs to keep on this one train in its local pool
  if (f.retrainFinal && f.queue) throw new UsageError('--retrain-final trains the final runs on this machine: leave out --queue');
  const cfg = await resolveConfig(f);
  await ensureData(cfg);
  const [
    { configHash, planPool },
    { runSearch, SearchInterrupted, StageEnvironmentError },
    { JournalFullError },
    { Progress },
    { writeReport },
  ] = await Promise.all([
    import('../search/config.js'),
    import('../search/evolution.js'),
    import('../search/journal.js'),
    import('../search/progress.js'),
    import('../search/report.js'),
  ]);
  const transport = await openTransport(f.queue, planPool(cfg), configHash(cfg));
  const progress = new Progress({ json: !!f.jsonLog, generations: cfg.evolution.generations });
  const ac = new AbortController();
  const resumeHint = `cse-autoloss search --out ${f.out} --resume`;
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
    process.stderr.write(
      `\ninterrupted: stopping after the running evaluations (the journal keeps every finished one; a second signal exits at once). Continue with: ${resumeHint}\n`,
    );
  };
  // --json-log: the error as an event on stdout too, before the CLI prints it and exits.
  const errorEvent = (kind: string, message: string, exitCode: number) => {
    if (f.jsonLog)
      process.stdout.write(
        JSON.stringify({ t: null, type: 'error', kind, message, exitCode, resume: exitCode === 2 ? null : resumeHint }) + '\n',
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runSearch({
      config: cfg,
      runDir: f.out,
      resume: f.resume,
      allowCodeChange: !!f.allowCodeChange,
      retrainFinal: !!f.retrainFinal,
      transport,
      onEvent: progress.onEvent,
      signal: ac.signal,
    });
    if (f.report !== false) {
      const r = writeReport(f.out);
      if (!f.jsonLog) process.stderr.write(`report: ${r.html}, ${r.json}\n`);
    }
  } catch (e) {
    if (e instanceof SearchInterrupted) {
      errorEvent('interrupted', e.message, 130);
      process.exitCode = 130;
      return;
    }
    if (e instanceof JournalFullError || e instanceof StageEnvironmentError) {
      errorEvent(e instanceof JournalFullError ? 'disk-full' : 'environment', e.message, 1);
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw e; // the CLI's handler maps user errors (SearchError, JournalError, RunLockedError, ...) to their exit codes
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await transport.close();
  }
}
