/**
 * The CLI's one error handler: each user-facing error class carries its exit code, and
 * `handleError` maps whatever a command throws to a message on stderr and that code; other
 * errors are bugs (exit code 1). The end-to-end half spawns the CLI on inputs that reach each
 * layer's error class from a command that no longer maps errors itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, UserError, handleError } from '../../src/cli/errors.js';
import { DataError } from '../../src/data/errors.js';
import { DetectConfigError } from '../../src/detect/config.js';
import { LossModeError, LossSyntaxError } from '../../src/loss/index.js';
import { ConfigError } from '../../src/search/config.js';
import { JournalError, JournalFullError } from '../../src/search/journal.js';
import { QueueError, QueueUnavailableError, QueueUrlError, RefusedJobError } from '../../src/queue/errors.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'cse-autoloss.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

/** handleError's exit code and what it wrote to stderr. */
async function handled(err: unknown): Promise<{ code: number; stderr: string }> {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((s: string) => {
    stderr += s;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await handleError(err), stderr };
  } finally {
    process.stderr.write = write;
  }
}

test('every user-facing error class derives from UserError with its exit code', async () => {
  const cases: [UserError, number][] = [
    [new UsageError('bad flag'), 2],
    [new DataError([{ file: 'a.json', field: 'images[0]', message: 'bad' }]), 2],
    [new DetectConfigError('bad detector'), 2],
    [new LossSyntaxError('unexpected token', 3, 'Add(X,'), 2],
    [new LossModeError('reg preset in cls'), 2],
    [new ConfigError('bad config'), 2],
    [new JournalError('no journal'), 2],
    [new JournalFullError('disk full'), 1],
    [new QueueUrlError('bad url'), 2],
    [new QueueUnavailableError('no redis'), 1],
    [new RefusedJobError('other version', 'version'), 1],
  ];
  for (const [err, code] of cases) {
    assert.ok(err instanceof UserError, err.name);
    assert.equal(err.exitCode, code, err.name);
    const h = await handled(err);
    assert.equal(h.code, code, err.name);
    assert.equal(h.stderr, `error: ${err.message}\n`, err.name);
  }
  assert.ok(new QueueUrlError('x') instanceof QueueError);
});

test('anything else is a bug: exit code 1, its message; a look-alike name is not enough', async () => {
  const bug = await handled(new TypeError('x is undefined'));
  assert.deepEqual(bug, { code: 1, stderr: 'error: x is undefined\n' });
  const fake = new Error('not the real one');
  fake.name = 'CheckpointError';
  assert.equal((await handled(fake)).code, 1);
  const { CheckpointError } = await import('../../src/detect/checkpoint.js');
  assert.equal((await handled(new CheckpointError('missing weights'))).code, 2);
});

test('the CLI maps errors of every layer with one handler', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-errors-'));
  try {
    // data layer (a UserError from makeDataset; the command checks only the lower bound)
    const size = run('data', 'make', '--kind', 'shapes', '--images', '4', '--size', '5000', '--out', join(dir, 'd'));
    assert.equal(size.status, 2, size.stderr);
    assert.equal(size.stderr, 'error: size must be an integer in 16..4096, got 5000\n');
    // eval: a DataError from the validator
    writeFileSync(join(dir, 'gt.json'), '{"images": "nope"}');
    const ev = run('eval', '--gt', join(dir, 'gt.json'), '--dt', join(dir, 'gt.json'));
    assert.equal(ev.status, 2, ev.stderr);
    assert.match(ev.stderr, /^error: .*gt\.json/);
    // search layer: a JournalError from report, and a ConfigError
    const rep = run('report', join(dir, 'no-run'));
    assert.equal(rep.status, 2);
    assert.match(rep.stderr, /^error: no journal in /);
    writeFileSync(join(dir, 'c.yaml'), 'mode: nonsense\n');
    const cfg = run('search', '--config', join(dir, 'c.yaml'), '--out', join(dir, 'run'));
    assert.equal(cfg.status, 2, cfg.stderr);
    assert.match(cfg.stderr, /^error: invalid config .*c\.yaml:\n  mode: /);
    // queue layer: a malformed URL
    const q = run('worker', '--queue', 'http://localhost');
    assert.equal(q.status, 2, q.stderr);
    assert.match(q.stderr, /^error: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
