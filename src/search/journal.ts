/**
 * The run journal: one SQLite database (RUN_DIR/journal.sqlite, WAL) holding the config, every
 * candidate, every stage result and every generation, written as results arrive. Stage results
 * are keyed by (fingerprint, stage, key) where key hashes the stage config and seed, so a
 * resumed (or replayed) run reuses every finished evaluation. The coordinator is the only writer.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Candidate, Fate, StageName, StageRecord } from './types.js';
import { UserError } from '../util/errors.js';

export const JOURNAL_FILE = 'journal.sqlite';
const SCHEMA_VERSION = '1';

export class JournalError extends UserError {
  override name = 'JournalError';
}

/** Disk full (or the database size limit) while writing: the run stops, resumable (exit code 1). */
export class JournalFullError extends JournalError {
  override name = 'JournalFullError';
  constructor(message: string) {
    super(message, 1);
  }
}

export interface StoredResult extends StageRecord {
  fingerprint: string;
  stage: StageName;
  key: string;
  loss: string;
  finishedAt: number;
}

export interface CandidateRow extends Candidate {
  fate: Fate | null;
  mosScore: number | null;
  fitness: number | null;
}

export interface GenerationRow {
  gen: number;
  stats: Record<string, unknown>;
  /** Run wall time (ms, summed over sessions) when the generation finished. */
  elapsedMs: number;
}

function wrap<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'SQLITE_FULL' || err.code === 'SQLITE_IOERR_WRITE' || /disk is full|database or disk is full/i.test(err.message)) {
      throw new JournalFullError(
        `disk full while ${what} (${path}): the run stopped; everything before is kept. Free space and run again with --resume.`,
      );
    }
    if (err.code === 'SQLITE_CORRUPT' || err.code === 'SQLITE_NOTADB') {
      throw new JournalError(`the journal ${path} is corrupted (${shortReport(err.message)}) while ${what}; it was not modified`);
    }
    if (
      err.code?.startsWith('SQLITE_READONLY') ||
      err.code?.startsWith('SQLITE_CANTOPEN') ||
      err.code?.startsWith('SQLITE_PERM') ||
      err.code?.startsWith('SQLITE_IOERR')
    ) {
      throw new JournalError(
        `cannot write the journal ${path} while ${what} (${err.code}: ${err.message}): check that the file and its folder are writable; finished work is kept, continue with --resume`,
      );
    }
    throw e;
  }
}

/** The first lines of a (possibly 100-line) integrity report, and how many there were. */
export function shortReport(text: string, keep = 3): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length <= keep) return lines.join('; ');
  return `${lines.slice(0, keep).join('; ')}; … ${lines.length - keep} more problem line(s)`;
}

export class Journal {
  private constructor(
    readonly db: Database.Database,
    readonly path: string,
  ) {}

  /** True when RUN_DIR holds a journal. */
  static exists(runDir: string): boolean {
    return existsSync(join(runDir, JOURNAL_FILE));
  }

  /**
   * Opens (create: also creates) the journal of a run folder. A file that is not a healthy
   * journal of this schema is refused with a JournalError and left untouched.
   */
  static open(runDir: string, opts: { create?: boolean; readonly?: boolean } = {}): Journal {
    const path = join(runDir, JOURNAL_FILE);
    const exists = existsSync(path);
    if (!exists && !opts.create) throw new JournalError(`no journal in ${runDir} (expected ${path})`);
    if (!exists) mkdirSync(runDir, { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: !!opts.readonly && exists, fileMustExist: exists });
    } catch (e) {
      throw new JournalError(`cannot open journal ${path}: ${(e as Error).message}`);
    }
    if (exists) {
      try {
        // Checks before any write: a damaged file must not be touched (no WAL switch, no schema).
        const check = db.pragma('quick_check', { simple: true }) as string;
        if (check !== 'ok') throw new Error(shortReport(String(check)));
        const hasMeta = db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").get();
        if (!hasMeta) throw new Error('it has no meta table (not a cse-autoloss journal)');
        const v = (db.prepare("SELECT value FROM meta WHERE key='schema_version'").get() as { value: string } | undefined)?.value;
        if (v !== SCHEMA_VERSION) throw new Error(`schema version ${v ?? 'missing'}, expected ${SCHEMA_VERSION}`);
      } catch (e) {
        db.close();
        throw new JournalError(
          `journal ${path} is corrupted or not a cse-autoloss journal (${shortReport((e as Error).message)}); it was not modified. Move it away or use another RUN_DIR.`,
        );
      }
    }
    const j = new Journal(db, path);
    if (!opts.readonly) {
      try {
        wrap(path, 'opening it for writing', () => {
          db.pragma('journal_mode = WAL');
          db.pragma('synchronous = NORMAL');
          if (!exists) j.createSchema();
        });
      } catch (e) {
        db.close();
        throw e;
      }
    }
    return j;
  }

  private createSchema(): void {
    this.db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE candidates (
        gen INTEGER NOT NULL, idx INTEGER NOT NULL, loss TEXT NOT NULL, fingerprint TEXT NOT NULL,
        parents TEXT NOT NULL, origin TEXT NOT NULL, op TEXT, size INTEGER NOT NULL, depth INTEGER NOT NULL,
        fate TEXT, mos_score REAL, fitness REAL,
        PRIMARY KEY (gen, idx));
      CREATE INDEX candidates_fp ON candidates (fingerprint);
      CREATE TABLE results (
        fingerprint TEXT NOT NULL, stage TEXT NOT NULL, key TEXT NOT NULL, loss TEXT NOT NULL,
        status TEXT NOT NULL, pass INTEGER, score REAL, metrics TEXT NOT NULL, reason TEXT,
        seconds REAL NOT NULL, finished_at INTEGER NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (fingerprint, stage, key));
      CREATE TABLE generations (gen INTEGER PRIMARY KEY, stats TEXT NOT NULL, elapsed_ms REAL NOT NULL);
      INSERT INTO meta (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}');
    `);
  }

  /** Limits the database size in pages (tests use it to simulate a full disk). */
  setMaxPages(n: number): void {
    this.db.pragma(`max_page_count = ${n}`);
  }

  getMeta(key: string): string | null {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return r?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    wrap(this.path, `writing meta ${key}`, () =>
      this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value),
    );
  }

  /** Every stored result, for the in-memory cache of a (resumed) run. */
  allResults(): StoredResult[] {
    const rows = this.db.prepare('SELECT * FROM results ORDER BY seq').all() as Record<string, unknown>[];
    return rows.map((r) => ({
      fingerprint: r.fingerprint as string,
      stage: r.stage as StageName,
      key: r.key as string,
      loss: r.loss as string,
      status: r.status as StageRecord['status'],
      pass: r.pass === null ? null : r.pass === 1,
      score: r.score as number | null,
      metrics: JSON.parse(r.metrics as string) as Record<string, number>,
      reason: r.reason as string | null,
      seconds: r.seconds as number,
      finishedAt: r.finished_at as number,
    }));
  }

  private seq = -1;
  putResult(r: Omit<StoredResult, 'finishedAt'>): void {
    if (this.seq < 0) this.seq = ((this.db.prepare('SELECT MAX(seq) AS m FROM results').get() as { m: number | null }).m ?? 0) + 1;
    wrap(this.path, 'writing a stage result', () =>
      this.db
        .prepare(
          `INSERT OR IGNORE INTO results (fingerprint, stage, key, loss, status, pass, score, metrics, reason, seconds, finished_at, seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          r.fingerprint,
          r.stage,
          r.key,
          r.loss,
          r.status,
          r.pass === null ? null : r.pass ? 1 : 0,
          r.score,
          JSON.stringify(r.metrics),
          r.reason,
          r.seconds,
          Date.now(),
          this.seq++,
        ),
    );
  }

  /**
   * Moves the stored results that `pick` selects out of the results table (so that a resumed run
   * computes them again) into meta `set_aside`, a JSON list that keeps each one with its
   * finishedAt and `setAsideAt` and `why`: nothing computed is lost. One transaction.
   */
  setAsideResults(pick: (r: StoredResult) => boolean, why: string): StoredResult[] {
    const chosen = this.allResults().filter(pick);
    if (!chosen.length) return [];
    const del = this.db.prepare('DELETE FROM results WHERE fingerprint = ? AND stage = ? AND key = ?');
    wrap(this.path, 'setting results aside', () =>
      this.db.transaction(() => {
        const kept = JSON.parse(this.getMeta('set_aside') ?? '[]') as unknown[];
        const at = new Date().toISOString();
        this.setMeta('set_aside', JSON.stringify([...kept, ...chosen.map((r) => ({ ...r, setAsideAt: at, why }))]));
        for (const r of chosen) del.run(r.fingerprint, r.stage, r.key);
      })(),
    );
    return chosen;
  }

  /** Writes the candidates of a generation (a replay of a stored generation must produce the same ones). */
  putCandidates(cands: Candidate[]): void {
    const ins = this.db.prepare(
      `INSERT INTO candidates (gen, idx, loss, fingerprint, parents, origin, op, size, depth) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const get = this.db.prepare('SELECT loss, fingerprint FROM candidates WHERE gen = ? AND idx = ?');
    wrap(this.path, 'writing candidates', () =>
      this.db.transaction(() => {
        for (const c of cands) {
          const old = get.get(c.gen, c.idx) as { loss: string; fingerprint: string } | undefined;
          if (old) {
            if (old.loss !== c.loss || old.fingerprint !== c.fingerprint) {
              throw new JournalError(
                `the journal's generation ${c.gen} candidate ${c.idx} is ${old.loss}, but this run regenerated ${c.loss}: the journal was written by another version of the code or config`,
              );
            }
            continue;
          }
          ins.run(c.gen, c.idx, c.loss, c.fingerprint, JSON.stringify(c.parents), c.origin, c.op, c.size, c.depth);
        }
      })(),
    );
  }

  /** Records what happened to each candidate of a generation, and the generation's summary. */
  finishGeneration(
    gen: number,
    fates: { idx: number; fate: Fate; mosScore: number | null; fitness: number | null }[],
    stats: Record<string, unknown>,
    elapsedMs: number,
  ): void {
    const up = this.db.prepare('UPDATE candidates SET fate = ?, mos_score = ?, fitness = ? WHERE gen = ? AND idx = ?');
    wrap(this.path, `finishing generation ${gen}`, () =>
      this.db.transaction(() => {
        for (const f of fates) up.run(f.fate, f.mosScore, f.fitness, gen, f.idx);
        this.db
          .prepare(
            'INSERT INTO generations (gen, stats, elapsed_ms) VALUES (?, ?, ?) ON CONFLICT(gen) DO UPDATE SET stats = excluded.stats',
          )
          .run(gen, JSON.stringify(stats), elapsedMs);
      })(),
    );
  }

  generation(gen: number): GenerationRow | null {
    const r = this.db.prepare('SELECT * FROM generations WHERE gen = ?').get(gen) as
      { gen: number; stats: string; elapsed_ms: number } | undefined;
    return r ? { gen: r.gen, stats: JSON.parse(r.stats) as Record<string, unknown>, elapsedMs: r.elapsed_ms } : null;
  }

  generations(): GenerationRow[] {
    const rows = this.db.prepare('SELECT * FROM generations ORDER BY gen').all() as { gen: number; stats: string; elapsed_ms: number }[];
    return rows.map((r) => ({ gen: r.gen, stats: JSON.parse(r.stats) as Record<string, unknown>, elapsedMs: r.elapsed_ms }));
  }

  candidates(gen?: number): CandidateRow[] {
    const rows = (
      gen === undefined
        ? this.db.prepare('SELECT * FROM candidates ORDER BY gen, idx').all()
        : this.db.prepare('SELECT * FROM candidates WHERE gen = ? ORDER BY idx').all(gen)
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      gen: r.gen as number,
      idx: r.idx as number,
      loss: r.loss as string,
      fingerprint: r.fingerprint as string,
      parents: JSON.parse(r.parents as string) as string[],
      origin: r.origin as Candidate['origin'],
      op: r.op as string | null,
      size: r.size as number,
      depth: r.depth as number,
      fate: r.fate as Fate | null,
      mosScore: r.mos_score as number | null,
      fitness: r.fitness as number | null,
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
