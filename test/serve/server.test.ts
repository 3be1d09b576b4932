/**
 * The dashboard server without a browser: read-only routes, path traversal (raw, encoded,
 * double-encoded, symlinks), escaping of journal strings in the served page and the report,
 * live change events within 2 s of a journal write, and the errors for a bound port or a
 * missing folder.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSearch } from '../../src/search/evolution.js';
import { Journal } from '../../src/search/journal.js';
import { writeReport } from '../../src/search/report.js';
import { runStage } from '../../src/search/stages/index.js';
import { InProcessTransport } from '../../src/search/transport/index.js';
import { esc, jsonForScript } from '../../src/search/view/assets.js';
import { parsePath, safeFile, ServeError, startServer, type RunningServer } from '../../src/serve/server.js';
import { smallConfig, tmpDir } from '../search/helpers.js';

const BIN = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));
const root = tmpDir('cse-serve-');
// A run folder whose name is markup: it appears in the page title and in the JSON.
const HOSTILE_DIR = '<img src=x onerror=alert(1)>';
const runDir = join(root, HOSTILE_DIR);
const HOSTILE_REASON = '</script><script>alert("x")</script><!--';
const secret = join(root, 'secret.txt');
let srv: RunningServer;

function get(
  path: string,
  opts: { method?: string; host?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: srv.port, path, method: opts.method ?? 'GET', headers: opts.host ? { host: opts.host } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  const cfg = smallConfig({
    population: { size: 150, maxSize: 25, minDepth: 2, maxDepth: 5 },
    evolution: { generations: 3, parents: 4, elites: 2 },
    final: { enabled: false },
  });
  await runSearch({ config: cfg, runDir, transport: new InProcessTransport(runStage) });
  // A hostile string in a stage record: the reason of every MOS record.
  const j = Journal.open(runDir);
  j.db.prepare("UPDATE results SET reason = ? WHERE stage = 'mos1'").run(HOSTILE_REASON);
  j.close();
  writeReport(runDir);
  assert.ok(JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')).hallOfFame.length > 0, 'the fixture run has a hall of fame');
  writeFileSync(secret, 'secret\n');
  srv = await startServer({ runDirs: [runDir], port: 0 });
});

after(async () => {
  await srv?.close();
});

test('escaping: esc and jsonForScript against their definitions', () => {
  assert.equal(esc(`<a href="x" title='y'>&amp;</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  const v = { s: HOSTILE_REASON, u: 'a\u2028b\u2029c', amp: 'x&y>z' };
  const out = jsonForScript(v);
  assert.ok(!/[<>&\u2028\u2029]/.test(out), out);
  assert.deepEqual(JSON.parse(out), v);
});

test('the served page and the API escape journal strings', async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.ok(!page.body.includes(HOSTILE_DIR), 'raw run folder name in the page');
  assert.ok(page.body.includes(esc(`cse-autoloss: ${runDir}`)));
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  const api = await get('/api/runs/0');
  assert.match(String(api.headers['content-type']), /^application\/json/);
  const run = JSON.parse(api.body) as {
    summary: { dir: string; generation: number };
    hallOfFame: { id: string }[];
    generations: { gen: number }[];
  };
  assert.equal(run.summary.dir, runDir);
  assert.deepEqual(
    run.generations.map((g) => g.gen),
    [1, 2, 3],
  );
  const cand = JSON.parse((await get(`/api/runs/0/candidates/${encodeURIComponent(run.hallOfFame[0]!.id)}`)).body) as {
    records: { stage: string; reason: string | null }[];
  };
  assert.equal(cand.records.find((r) => r.stage === 'mos1')?.reason, HOSTILE_REASON);
});

test('the report embeds the hostile string as data, never as markup', () => {
  const html = readFileSync(join(runDir, 'report.html'), 'utf8');
  assert.equal((html.match(/<script/g) ?? []).length, 2, 'only the data and the bundle');
  assert.ok(!html.includes(HOSTILE_REASON));
  assert.ok(!html.includes(HOSTILE_DIR));
  const data = JSON.parse(/<script type="application\/json" id="cse-data">([^<]*)<\/script>/.exec(html)![1]!) as {
    run: { summary: { dir: string } };
    candidates: Record<string, { records: { reason: string | null }[] }>;
  };
  assert.equal(data.run.summary.dir, runDir);
  assert.ok(Object.values(data.candidates).some((c) => c.records.some((r) => r.reason === HOSTILE_REASON)));
});

test('path traversal: raw, encoded and double-encoded dot segments, encoded separators, symlinks: 404', async () => {
  assert.equal((await get('/runs/0/files/report.json')).status, 200);
  for (const p of [
    '/runs/0/files/../../secret.txt',
    '/runs/0/files/..%2f..%2fsecret.txt',
    '/runs/0/files/%2e%2e/%2e%2e/secret.txt',
    '/runs/0/files/%2E%2E%2F%2E%2E%2Fsecret.txt',
    '/runs/0/files/%252e%252e%252fsecret.txt',
    '/runs/0/files/.%2e/secret.txt',
    '/runs/0/files/..\\..\\secret.txt',
    '/runs/0/files/report.json%00.html',
    '/runs/0/files/journal.sqlite',
    '/assets/../../package.json',
    '/assets/%2e%2e%2fserver.ts',
    '/runs/1/files/report.json',
    '/api/runs/0/../../../etc/passwd',
  ]) {
    const r = await get(p);
    assert.equal(r.status, 404, p);
    assert.ok(!r.body.includes('secret'), p);
  }
  // A symlink inside the run folder that points outside it.
  const link = join(runDir, 'report.json');
  const kept = readFileSync(link);
  unlinkSync(link);
  symlinkSync(secret, link);
  try {
    assert.equal((await get('/runs/0/files/report.json')).status, 404);
  } finally {
    unlinkSync(link);
    writeFileSync(link, kept);
  }
  assert.equal(parsePath('/a/%2e%2e/b'), null);
  assert.equal(parsePath('/a/%zz'), null);
  assert.deepEqual(parsePath('/api/runs/0?x=1')?.segments, ['api', 'runs', '0']);
  assert.equal(safeFile(runDir, ['..', 'secret.txt']), null);
});

test('read-only: no method but GET and HEAD; foreign Host headers refused', async () => {
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) assert.equal((await get('/api/runs', { method: m })).status, 405, m);
  assert.equal((await get('/', { host: 'evil.example:80' })).status, 403);
  assert.equal((await get('/', { host: `localhost:${srv.port}` })).status, 200);
});

test('a journal write reaches an open event stream within 2 s', async () => {
  const got = new Promise<number>((resolve, reject) => {
    const t0 = Date.now();
    const req = request({ host: '127.0.0.1', port: srv.port, path: '/events' }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        if (/event: change\ndata: 0\n/.test(buf)) {
          resolve(Date.now() - t0);
          req.destroy();
        }
      });
      // The write, once the stream is open.
      setTimeout(() => {
        const j = Journal.open(runDir);
        j.setMeta('touched', String(Date.now()));
        j.close();
      }, 100);
    });
    req.on('error', (e) => (e.message.includes('aborted') || e.message.includes('socket hang up') ? undefined : reject(e)));
    setTimeout(() => reject(new Error('no change event within 3 s')), 3000).unref();
    req.end();
  });
  const ms = await got;
  assert.ok(ms < 2000, `${ms} ms`);
});

test('a bound port and a missing run folder are clear errors (exit 2 from the CLI)', async () => {
  await assert.rejects(
    startServer({ runDirs: [runDir], port: srv.port }),
    (e: Error) => e instanceof ServeError && /port \d+ .* in use/.test(e.message),
  );
  await assert.rejects(
    startServer({ runDirs: [join(root, 'nope')], port: 0 }),
    (e: Error) => e instanceof ServeError && /does not exist/.test(e.message),
  );
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await assert.rejects(startServer({ runDirs: [empty], port: 0 }), (e: Error) => e instanceof ServeError && /no journal/.test(e.message));
  const r = spawnSync(process.execPath, [BIN, 'serve', join(root, 'nope'), '--port', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /run folder .*nope does not exist/);
  const r2 = spawnSync(process.execPath, [BIN, 'serve', runDir, '--port', String(srv.port)], { encoding: 'utf8' });
  assert.equal(r2.status, 2, r2.stderr);
  assert.match(r2.stderr, /in use/);
});
