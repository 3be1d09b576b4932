/**
 * A run journal (journal.sqlite) as text and back, so that a search that outlives a machine can be
 * kept in git and resumed on a fresh clone (scripts/long-runs.sh): SQLite files are binary and
 * rewritten page by page, a text dump is a few lines more per finished evaluation.
 *
 *   node --import tsx scripts/journal-text.ts dump RUN_DIR OUT.jsonl
 *   node --import tsx scripts/journal-text.ts restore IN.jsonl RUN_DIR
 *
 * The dump: line 1 {"format":"cse-journal-text","version":1}, then for each table and index its
 * CREATE statement ({"sql": ...}, in sqlite_master order), then each table's rows in rowid order
 * ({"t": table, "r": [values]}). It reads through a consistent snapshot (SQLite's backup into a
 * temporary file), so a search writing the journal meanwhile is no problem. Values: TEXT as a
 * string, INTEGER (|n| <= 2^53) as a JSON integer, REAL as JSON's shortest round-trip form of the
 * double ({"f": "3"} where that would read as an integer: an integral value, -0, inf, NaN), so the
 * restored journal holds the very same bits (a resumed search decides by them). A BLOB is refused.
 *
 * restore writes RUN_DIR/journal.sqlite from a dump, refuses to overwrite an existing journal,
 * and checks its work: the restored file, dumped again, must give the input byte for byte.
 * Exit codes: 0 done, 2 bad usage or input, 1 a failure.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const JOURNAL_FILE = 'journal.sqlite';
const HEADER = { format: 'cse-journal-text', version: 1 };

class UsageError extends Error {}

type Row = { t: string; r: unknown[] };

/** The text of a journal database file (see the header comment). */
export function dumpDatabase(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  try {
    const lines: string[] = [JSON.stringify(HEADER)];
    const objects = db
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
      .all() as { type: string; name: string; sql: string }[];
    for (const o of objects) lines.push(JSON.stringify({ sql: o.sql }));
    for (const o of objects.filter((x) => x.type === 'table')) {
      const stmt = db.prepare(`SELECT * FROM "${o.name}" ORDER BY rowid`).raw(true);
      for (const row of stmt.iterate() as Iterable<unknown[]>) {
        const r = row.map((v, i) => {
          if (typeof v === 'bigint') {
            if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
              throw new UsageError(`table ${o.name}, column ${i + 1}: integer ${v} beyond 2^53`);
            return Number(v); // an INTEGER: a JSON integer
          }
          if (v === null || typeof v === 'string') return v;
          // a REAL: a JSON number with a fraction; one with an integral value, -0 or a non-finite one as {f}
          if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? { f: Object.is(v, -0) ? '-0' : String(v) } : v;
          throw new UsageError(`table ${o.name}, column ${i + 1}: a ${Buffer.isBuffer(v) ? 'BLOB' : typeof v} (not dumped)`);
        });
        lines.push(JSON.stringify({ t: o.name, r }));
      }
    }
    return `${lines.join('\n')}\n`;
  } finally {
    db.close();
  }
}

/** A consistent copy of a live journal (SQLite's online backup), dumped as text. */
export async function dumpJournal(runDir: string): Promise<string> {
  const src = join(runDir, JOURNAL_FILE);
  if (!existsSync(src)) throw new UsageError(`no journal in ${runDir} (expected ${src})`);
  const tmp = mkdtempSync(join(tmpdir(), 'cse-journal-'));
  try {
    const db = new Database(src, { readonly: true, fileMustExist: true });
    try {
      await db.backup(join(tmp, JOURNAL_FILE));
    } finally {
      db.close();
    }
    return dumpDatabase(join(tmp, JOURNAL_FILE));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function decode(v: unknown, where: string): unknown {
  if (v === null || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'object' && v !== null && typeof (v as { f?: unknown }).f === 'string') return Number((v as { f: string }).f);
  throw new UsageError(`${where}: a value of unknown form ${JSON.stringify(v)}`);
}

/** Writes runDir/journal.sqlite from a dump; checks that it dumps back to the same text. */
export function restoreJournal(text: string, runDir: string, source = 'the dump'): void {
  const dest = join(runDir, JOURNAL_FILE);
  if (existsSync(dest)) throw new UsageError(`${dest} exists: restore writes a new journal only (move it away first)`);
  const lines = text.split('\n').filter((l) => l.length > 0);
  const parse = (l: string, n: number): Record<string, unknown> => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`${source}, line ${n}: not JSON (${(e as Error).message})`);
    }
  };
  const head = lines.length ? parse(lines[0]!, 1) : null;
  if (!head || head.format !== HEADER.format || head.version !== HEADER.version)
    throw new UsageError(`${source}, line 1: not a cse-journal-text dump of version ${HEADER.version}`);
  mkdirSync(runDir, { recursive: true });
  const tmpFile = join(runDir, `.${JOURNAL_FILE}.restoring`);
  rmSync(tmpFile, { force: true });
  const db = new Database(tmpFile);
  try {
    const stmts = new Map<string, Database.Statement>();
    db.transaction(() => {
      lines.slice(1).forEach((l, k) => {
        const n = k + 2;
        const o = parse(l, n);
        if (typeof o.sql === 'string') {
          db.exec(o.sql);
          return;
        }
        const row = o as Row;
        if (typeof row.t !== 'string' || !Array.isArray(row.r)) throw new UsageError(`${source}, line ${n}: neither a statement nor a row`);
        const key = `${row.t}/${row.r.length}`;
        let s = stmts.get(key);
        if (!s) {
          s = db.prepare(`INSERT INTO "${row.t}" VALUES (${row.r.map(() => '?').join(', ')})`);
          stmts.set(key, s);
        }
        s.run(...row.r.map((v, i) => decode(v, `${source}, line ${n}, column ${i + 1}`)));
      });
    })();
  } finally {
    db.close();
  }
  const again = dumpDatabase(tmpFile);
  if (again !== lines.join('\n') + '\n') {
    rmSync(tmpFile, { force: true });
    throw new Error(`restoring ${source}: the restored journal does not dump back to the same text (nothing written)`);
  }
  renameSync(tmpFile, dest);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, a, b, ...rest] = argv;
  const usage = 'usage: journal-text.ts dump RUN_DIR OUT.jsonl | restore IN.jsonl RUN_DIR';
  if (cmd === '--help' || cmd === '-h') {
    console.log(usage);
    return;
  }
  if (!a || !b || rest.length || (cmd !== 'dump' && cmd !== 'restore')) throw new UsageError(usage);
  if (cmd === 'dump') {
    const text = await dumpJournal(a);
    const tmp = `${b}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, b);
    console.log(`dumped ${join(a, JOURNAL_FILE)} to ${b} (${text.split('\n').length - 2} lines)`);
  } else {
    if (!existsSync(a)) throw new UsageError(`no dump ${a}`);
    restoreJournal(readFileSync(a, 'utf8'), b, a);
    console.log(`restored ${join(b, JOURNAL_FILE)} from ${a}`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`journal-text: ${e.message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  });
}
