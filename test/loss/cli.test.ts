import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/cse-autoloss.js', import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, 'loss', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const dir = mkdtempSync(join(tmpdir(), 'loss-cli-'));

test('loss eval: raw value and gradients of sum(value) per input', () => {
  const f = join(dir, 'cls.json');
  writeFileSync(f, JSON.stringify({ X: [[1, 2, 0.5], [0, 0, 0]], Y: [[0, 1, 0], [0, 0, 1]], Z: [[1, 1, 1], [0.5, 0.5, 0.5]] }));
  const r = run('eval', '--mode', 'cls', '--expr', 'ce', '--input', f, '--grad');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { value: number[]; grad: Record<string, number[][]> };
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(0.5));
  assert.ok(Math.abs(j.value[0]! - (lse - 2)) < 1e-12);
  assert.ok(Math.abs(j.value[1]! - Math.log(3)) < 1e-12);
  assert.ok(Math.abs(j.grad.X![0]![1]! - (Math.exp(2 - lse) - 1)) < 1e-12);
  assert.deepEqual(Object.keys(j.grad), ['X', 'Y', 'Z']);
  const g = join(dir, 'reg.json');
  writeFileSync(g, JSON.stringify({ U: [4, 2], I: [1, 2], E: [5, 2] }));
  const r2 = run('eval', '--mode', 'reg', '--expr', 'Div(I,U)', '--input', g);
  assert.equal(r2.code, 0, r2.err);
  assert.deepEqual(JSON.parse(r2.out), { value: [0.25, 1] });
});

test('loss check --json: exit 0 whether or not it passes', () => {
  const a = run('check', '--mode', 'reg', '--expr', 'giou', '--json');
  assert.equal(a.code, 0);
  assert.equal(JSON.parse(a.out).pass, true);
  const b = run('check', '--mode', 'reg', '--expr', 'Div(I,U)', '--json');
  assert.equal(b.code, 0);
  const j = JSON.parse(b.out);
  assert.equal(j.pass, false);
  assert.equal(j.failed, 'iou-monotone');
});

test('bad input: position in the message, exit 2, no stack trace', () => {
  const r = run('check', '--mode', 'cls', '--expr', 'Neg(Foo(X))');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown primitive 'Foo' at position 4/);
  assert.doesNotMatch(r.err, /\n\s+at /);
  const m = run('show', '--mode', 'cls', '--expr', 'giou');
  assert.equal(m.code, 2);
  assert.match(m.err, /'giou' is a reg loss.*cls/);
  const f = join(dir, 'bad.json');
  writeFileSync(f, JSON.stringify({ U: [1, 2], I: [1] }));
  const e = run('eval', '--mode', 'reg', '--expr', 'iou', '--input', f);
  assert.equal(e.code, 2);
  assert.match(e.err, /I has 1 rows/);
});

test('loss show (all formats), simplify and list', () => {
  assert.equal(run('show', '--expr', 'cse-a-cls', '--format', 'infix').out.trim(), '-dot(Y * (1 + sin(Z)), log(softmax(X)))');
  assert.match(run('show', '--expr', 'giou', '--format', 'latex').out, /\\frac\{I\}\{U\}/);
  const svg = run('show', '--expr', 'cse-b-reg', '--format', 'svg').out;
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\s*$/);
  for (const label of ['>U<', '>I<', '>E<', '>Div<', '>Neg<', '>3<']) assert.ok(svg.includes(label), label);
  assert.equal(run('simplify', '--mode', 'reg', '--expr', 'Add(I,Div(E,E))').out.trim(), 'Add(1,I)');
  const list = run('list').out;
  for (const name of ['ce', 'focal', 'bce', 'iou', 'log-iou', 'giou', 'l1', 'smooth-l1', 'cse-a-cls', 'cse-a-reg', 'cse-b-cls', 'cse-b-reg']) {
    assert.match(list, new RegExp(`^${name} `, 'm'));
  }
});
