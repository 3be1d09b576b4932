/**
 * The dashboard's HTTP server (node:http): GET only, over the journals of the given run folders
 * opened read-only (better-sqlite3 `readonly`, WAL: a search may write meanwhile). Routes:
 *
 *   /                         the page (its script routes by the URL's hash)
 *   /assets/app.js|app.css    the bundled browser code and stylesheet
 *   /api/runs                 summaries            /api/runs/R            a run
 *   /api/runs/R/candidates/G:I                     /api/runs/R/generations/G (1-based)
 *   /api/compare?runs=0,1     /events (server-sent events: `change` with the run's number)
 *   /runs/R/files/NAME        report.html / report.json of the run folder (nothing else)
 *
 * Each journal is polled every `pollMs` (SQLite's data_version, a cheap in-memory read) and a
 * change is pushed to every open event stream (at most one per run per second). Any path with a
 * `.`/`..` segment (raw or percent-encoded), an encoded slash or backslash, a NUL, a symlink
 * leaving the run folder or an unknown name is a 404; other methods a 405. Bound to 127.0.0.1
 * unless told otherwise.
 */
import { UserError } from '../util/errors.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { Journal, JournalError } from '../search/journal.js';
import { reportFromJournal } from '../search/report.js';
import { clientCss, clientJs, esc, servedPage } from '../search/view/assets.js';
import { candidateView, compareEntry, generationCandidates, pendingSummary, runSummary, runView } from '../search/view/model.js';

export class ServeError extends UserError {
  override name = 'ServeError';
}

export interface ServeOptions {
  runDirs: string[];
  port: number;
  host?: string;
  /** Journal poll interval (ms). */
  pollMs?: number;
  /** Least time between two change events of one run (ms). */
  minGapMs?: number;
  /** Accept run folders without a journal yet (a search beside us is about to create it). */
  allowPending?: boolean;
}

/** Files of a run folder the server offers, by name. */
export const RUN_FILES: Record<string, string> = {
  'report.html': 'text/html; charset=utf-8',
  'report.json': 'application/json; charset=utf-8',
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
// A run folder's report.html is self-contained (inline script); it runs sandboxed, without our origin.
const FILE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:; sandbox allow-scripts";

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const LOOPBACK_NAMES = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

class RunSource {
  private journal: Journal | null = null;
  private version = '';

  constructor(
    readonly dir: string,
    readonly index: number,
  ) {}

  /** The folder's real path (symlinks resolved), the root of the files it may serve. */
  get real(): string {
    try {
      return realpathSync(this.dir);
    } catch {
      return this.dir;
    }
  }

  /** The open journal, or null while the run has none yet. */
  open(): Journal | null {
    if (this.journal) return this.journal;
    if (!Journal.exists(this.dir)) return null;
    try {
      this.journal = Journal.open(this.dir, { readonly: true });
    } catch (e) {
      // A journal being created has no schema for a moment: try again at the next poll.
      if (e instanceof JournalError) return null;
      throw e;
    }
    return this.journal;
  }

  /** True when the journal changed since the last call. */
  changed(): boolean {
    const j = this.open();
    if (!j) return false;
    let v: string;
    try {
      v = `${j.db.pragma('data_version', { simple: true })}|${mtime(join(this.dir, 'journal.sqlite-wal'))}|${mtime(join(this.dir, 'journal.sqlite'))}`;
    } catch {
      return false;
    }
    if (v === this.version) return false;
    this.version = v;
    return true;
  }

  files(): string[] {
    return Object.keys(RUN_FILES).filter((f) => safeFile(this.real, [f]) !== null);
  }

  close(): void {
    this.journal?.close();
    this.journal = null;
  }
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** The real path of segments under root when it is a regular file inside root (symlinks resolved), else null. */
export function safeFile(root: string, segments: string[]): string | null {
  if (segments.some((s) => !isSafeSegment(s))) return null;
  const p = join(root, ...segments);
  let real: string;
  try {
    real = realpathSync(p);
  } catch {
    return null;
  }
  if (!real.startsWith(root + sep)) return null;
  try {
    if (!lstatSync(real).isFile()) return null;
  } catch {
    return null;
  }
  return real;
}

function isSafeSegment(s: string): boolean {
  return s.length > 0 && s !== '.' && s !== '..' && !/[/\\\0]/.test(s);
}

/**
 * Splits a raw request path into decoded segments; null when it is malformed or tries to leave
 * its folder (`.`/`..` segments raw or encoded, encoded separators, NUL).
 */
export function parsePath(rawUrl: string): { segments: string[]; query: URLSearchParams } | null {
  const q = rawUrl.indexOf('?');
  const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
  const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
  if (!rawPath.startsWith('/') || rawPath.includes('\\')) return null;
  const parts = rawPath.split('/').slice(1);
  const segments: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const raw = parts[i]!;
    if (raw === '' && i === parts.length - 1) continue; // trailing slash
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (!isSafeSegment(s)) return null;
    segments.push(s);
  }
  return { segments, query };
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Checks the run folders and starts the server; a missing folder or a bound port is a ServeError. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  if (o.runDirs.length === 0) throw new ServeError('no run folder given');
  const dirs = expandRunDirs(o.runDirs, !!o.allowPending);
  const runs = dirs.map((d, i) => new RunSource(d, i));
  const host = o.host ?? '127.0.0.1';
  const clients = new Set<ServerResponse>();

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': CSP,
      ...extra,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };
  const notFound = (res: ServerResponse) => send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  const json = (res: ServerResponse, v: unknown) =>
    v === null || v === undefined ? notFound(res) : send(res, 200, 'application/json; charset=utf-8', JSON.stringify(v));
  const runAt = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? runs[Number(s)] : undefined);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET only\n', { allow: 'GET, HEAD' });
      return;
    }
    // DNS rebinding: a loopback server answers only to loopback host names.
    if (LOOPBACK.has(host) && !LOOPBACK_NAMES.test(req.headers.host ?? '')) {
      send(res, 403, 'text/plain; charset=utf-8', 'forbidden host\n');
      return;
    }
    const parsed = parsePath(req.url ?? '/');
    if (!parsed) return notFound(res);
    const [a, b, c, d, e, ...rest] = parsed.segments;
    if (a === undefined)
      return send(res, 200, 'text/html; charset=utf-8', servedPage(`cse-autoloss: ${dirs.length === 1 ? dirs[0] : `${dirs.length} runs`}`));
    if (a === 'assets' && c === undefined) {
      if (b === 'app.js') return send(res, 200, 'text/javascript; charset=utf-8', clientJs());
      if (b === 'app.css') return send(res, 200, 'text/css; charset=utf-8', clientCss());
      return notFound(res);
    }
    if (a === 'events' && b === undefined) return openEvents(req, res);
    if (a === 'api') {
      if (b === 'runs' && c === undefined)
        return json(
          res,
          runs.map((r) => summaryOf(r)),
        );
      if (b === 'compare' && c === undefined) {
        const ids = (parsed.query.get('runs') ?? '').split(',').filter(Boolean);
        const list = ids.map((s) => runAt(s)).filter((r): r is RunSource => !!r);
        return json(res, { runs: list.flatMap((r) => (r.open() ? [compareEntry(r.open()!, r.dir, r.index)] : [])) });
      }
      const r = b === 'runs' ? runAt(c) : undefined;
      if (!r || rest.length) return notFound(res);
      const j = r.open();
      if (d === undefined) return j ? json(res, runView(j, reportFromJournal(j, r.dir), r.index, r.files())) : notFound(res);
      if (!j) return notFound(res);
      if (d === 'candidates' && e !== undefined) return json(res, candidateView(j, reportFromJournal(j, r.dir), r.index, e));
      if (d === 'generations' && e !== undefined && /^\d+$/.test(e)) return json(res, generationCandidates(j, Number(e)));
      return notFound(res);
    }
    if (a === 'runs' && c === 'files' && e === undefined && d !== undefined) {
      const r = runAt(b);
      const type = RUN_FILES[d];
      const file = r && type ? safeFile(r.real, [d]) : null;
      if (!file || !type) return notFound(res);
      return send(res, 200, type, readFileSync(file), { 'content-security-policy': FILE_CSP });
    }
    return notFound(res);
  };

  const summaryOf = (r: RunSource) => {
    const j = r.open();
    return j ? runSummary(j, r.dir, r.index) : pendingSummary(r.dir, r.index);
  };

  const openEvents = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write('retry: 1000\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `error: ${esc((e as Error).message)}\n`);
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new ServeError(`port ${o.port} on ${host} is in use; choose another with --port`));
      else if (e.code === 'EACCES') reject(new ServeError(`not allowed to listen on ${host}:${o.port}; choose a port above 1023`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new ServeError(`cannot listen on host '${host}' (${e.code})`));
      else reject(e);
    });
    server.listen(o.port, host, () => resolveListen());
  });
  for (const r of runs) r.changed();
  // A search writes many times a second; tell the pages at most once per `minGapMs` per run
  // (a change seen meanwhile is sent when the gap has passed), so a write shows within
  // pollMs + minGapMs and the browsers do not re-render continuously.
  const pollMs = o.pollMs ?? 500;
  const minGapMs = o.minGapMs ?? 1000;
  const pending = new Set<RunSource>();
  const lastSent = new Map<RunSource, number>();
  const poll = setInterval(() => {
    const now = Date.now();
    for (const r of runs) {
      if (r.changed()) pending.add(r);
      if (pending.has(r) && now - (lastSent.get(r) ?? 0) >= minGapMs) {
        pending.delete(r);
        lastSent.set(r, now);
        for (const c of clients) c.write(`event: change\ndata: ${r.index}\n\n`);
      }
    }
  }, pollMs);
  const beat = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15000);
  poll.unref();
  beat.unref();
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    server,
    close: async () => {
      clearInterval(poll);
      clearInterval(beat);
      for (const c of clients) c.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      for (const r of runs) r.close();
    },
  };
}

/**
 * The run folders to serve: each given folder with a journal, or (a folder of runs) each of its
 * sub-folders with one. A missing folder, or one without any journal, is a ServeError.
 */
export function expandRunDirs(given: string[], allowPending: boolean): string[] {
  const out: string[] = [];
  for (const g of given) {
    const d = resolve(g);
    if (!existsSync(d) || !statSync(d).isDirectory()) {
      if (allowPending) {
        out.push(d);
        continue;
      }
      throw new ServeError(`run folder ${g} does not exist`);
    }
    if (Journal.exists(d) || allowPending) {
      out.push(d);
      continue;
    }
    const subs = readdirSafe(d).filter((s) => Journal.exists(join(d, s)));
    if (!subs.length)
      throw new ServeError(`${g} holds no journal.sqlite (nor do its sub-folders): not a run folder of cse-autoloss search`);
    out.push(...subs.sort().map((s) => join(d, s)));
  }
  return out;
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSyncDirs(d);
  } catch {
    return [];
  }
}

function readdirSyncDirs(d: string): string[] {
  return readdirSync(d, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}
