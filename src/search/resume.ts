/**
 * Starting and resuming a run, in one place: the run folder's journal opened and owned by this
 * process, the checks that a resume continues the same config on the same code, the sessions
 * record, and the config a bare `--resume` continues with (the journal's own).
 */
import { mkdirSync } from 'node:fs';
import { acquireRunLock } from '../util/runlock.js';
import { provenance, type Provenance } from '../util/provenance.js';
import { configDiff, configHash, deepMerge, parseConfig, setPath, type SearchConfig } from './config.js';
import { SearchError } from './errors.js';
import { Journal, JournalError } from './journal.js';

/** One session of a run (its start, or a resume) as the journal's meta `sessions` records it. */
export interface RunSession {
  startedAt: string;
  resumed: boolean;
  /** --allow-code-change was given. */
  allowCodeChange: boolean;
  /** When this session's src/ differs from the previous session's: that session's commit and src/ hash. */
  codeChangedFrom?: { commit: string | null; srcHash: string; dirty: boolean | null };
  provenance: Provenance;
}

const codeText = (p: { commit: string | null; srcHash: string; dirty: boolean | null }) =>
  `commit ${p.commit ?? '(not a git checkout)'}${p.dirty ? ' with uncommitted changes in src/' : ''} (src/ hash ${p.srcHash})`;

/** What opening a run's journal needs (a subset of SearchOptions). */
export interface JournalOptions {
  config: SearchConfig;
  runDir: string;
  resume?: boolean;
  maxJournalPages?: number;
  allowCodeChange?: boolean;
  provenance?: Provenance;
}

/**
 * The config a `--resume` without a config file continues with: the journal's own, with the
 * given overrides (dotted paths; undefined ones skipped) applied and the result validated, so a
 * flag that changes a result-bearing field is refused by the resume check.
 */
export function resumeConfig(runDir: string, overrides: Record<string, unknown>): SearchConfig {
  let stored: string | null = null;
  if (Journal.exists(runDir)) {
    const j = Journal.open(runDir, { readonly: true });
    stored = j.getMeta('config');
    j.close();
  }
  if (!stored) throw new SearchError(`--resume: ${runDir} has no journal to resume`);
  const obj = deepMerge({}, JSON.parse(stored)) as Record<string, unknown>;
  for (const [p, v] of Object.entries(overrides)) if (v !== undefined) setPath(obj, p, v);
  return parseConfig(obj, 'config');
}

/** Opens the run's journal, owned by this process (RUN_DIR/owner.lock) until `release`. */
export function openRunJournal(opts: JournalOptions): { journal: Journal; release: () => void } {
  const exists = Journal.exists(opts.runDir);
  if (opts.resume && !exists) throw new SearchError(`--resume: ${opts.runDir} has no journal to resume`);
  if (!opts.resume && exists)
    throw new SearchError(`${opts.runDir} already holds a run (journal.sqlite); use --resume to continue it, or another --out`);
  mkdirSync(opts.runDir, { recursive: true });
  const release = acquireRunLock(opts.runDir);
  try {
    return { journal: openOwnedJournal(opts, exists), release };
  } catch (e) {
    release();
    throw e;
  }
}

function openOwnedJournal(opts: JournalOptions, exists: boolean): Journal {
  const prov = opts.provenance ?? provenance();
  if (opts.resume) {
    const j = Journal.open(opts.runDir);
    const stored = j.getMeta('config');
    if (!stored) {
      j.close();
      throw new JournalError(`journal in ${opts.runDir} has no config; it was not modified`);
    }
    // A config stored by an older version lacks newer fields: compare with their defaults filled in.
    let old = JSON.parse(stored) as SearchConfig;
    try {
      old = parseConfig(old);
    } catch {
      // not valid for this version: compared as stored (and refused below if it differs)
    }
    if (configHash(old) !== configHash(opts.config)) {
      const diff = configDiff(old, opts.config);
      j.close();
      throw new SearchError(
        `${opts.runDir} holds a run of another config; refusing to resume. Differences (journal → now):\n  ${diff.join('\n  ')}`,
      );
    }
    // The code must be the one that wrote the journal (a replay on other code can give other results).
    const sessions = JSON.parse(j.getMeta('sessions') ?? '[]') as RunSession[];
    const last = sessions.at(-1)?.provenance ?? (JSON.parse(j.getMeta('provenance') ?? 'null') as Provenance | null);
    const changed = last !== null && last.srcHash !== prov.srcHash;
    if (changed && !opts.allowCodeChange) {
      j.close();
      throw new SearchError(
        `${opts.runDir} was written by ${codeText(last)}; this is ${codeText(prov)}. Refusing to resume on different src/ code ` +
          '(the replay could differ). Resume with --allow-code-change to continue anyway (recorded in the journal).',
      );
    }
    const session: RunSession = {
      startedAt: new Date().toISOString(),
      resumed: true,
      allowCodeChange: !!opts.allowCodeChange,
      provenance: prov,
    };
    if (changed) session.codeChangedFrom = { commit: last.commit, srcHash: last.srcHash, dirty: last.dirty };
    j.setMeta('sessions', JSON.stringify([...sessions, session]));
    if (opts.maxJournalPages) j.setMaxPages(opts.maxJournalPages);
    return j;
  }
  // Another process may have created it between the check and the lock.
  if (exists || Journal.exists(opts.runDir))
    throw new SearchError(`${opts.runDir} already holds a run (journal.sqlite); use --resume to continue it, or another --out`);
  const j = Journal.open(opts.runDir, { create: true });
  j.setMeta('config', JSON.stringify(opts.config));
  j.setMeta('config_hash', configHash(opts.config));
  j.setMeta('created_at', new Date().toISOString());
  j.setMeta('elapsed_ms', '0');
  j.setMeta('status', 'running');
  j.setMeta('provenance', JSON.stringify(prov));
  j.setMeta(
    'sessions',
    JSON.stringify([
      {
        startedAt: new Date().toISOString(),
        resumed: false,
        allowCodeChange: !!opts.allowCodeChange,
        provenance: prov,
      } satisfies RunSession,
    ]),
  );
  if (opts.maxJournalPages) j.setMaxPages(opts.maxJournalPages);
  return j;
}
