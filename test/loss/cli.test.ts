import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  writeFileSync(
    f,
    JSON.stringify({
      X: [
        [1, 2, 0.5],
        [0, 0, 0],
      ],
      Y: [
        [0, 1, 0],
        [0, 0, 1],
      ],
      Z: [
        [1, 1, 1],
        [0.5, 0.5, 0.5],
      ],
    }),
  );
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
  // --saturating adds the optional property: the linear positive term passes without it, fails with it
  const m2 = 'Add(Mul(PY,Neg(X)),Mul(NY,Softplus(X)))';
  assert.equal(JSON.parse(run('check', '--mode', 'bcls', '--expr', m2, '--json').out).pass, true);
  const c = run('check', '--mode', 'bcls', '--expr', m2, '--saturating');
  assert.equal(c.code, 0);
  assert.match(c.out, /^FAIL {2}bcls/);
  assert.match(c.out, /FAIL {2}saturating: raising a positive logit: the loss still falls by 5\.000/);
  const r = run('check', '--expr', 'giou', '--saturating');
  assert.equal(r.code, 2);
  assert.match(r.err, /--saturating: a property of the cls and bcls modes/);
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
  for (const name of [
    'ce',
    'focal',
    'bce',
    'iou',
    'log-iou',
    'giou',
    'l1',
    'smooth-l1',
    'cse-a-cls',
    'cse-a-reg',
    'cse-b-cls',
    'cse-b-reg',
  ]) {
    assert.match(list, new RegExp(`^${name} `, 'm'));
  }
});

const PYTHON = '/usr/bin/python3';
/** Checks the exported classes against mmdetection-style references written directly in PyTorch. */
const WRAPPER_CHECK = `
import importlib.util, sys
import torch
import torch.nn.functional as F
def load(path):
    spec = importlib.util.spec_from_file_location(path.split('/')[-1][:-3], path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m
ce, bce, giou = (load(p) for p in sys.argv[1:4])
g = torch.Generator().manual_seed(0)
def close(a, b, what):
    if not torch.allclose(a, b, rtol=1e-5, atol=1e-6):
        raise SystemExit(f"{what}: exported {a.tolist()} reference {b.tolist()}")
x = torch.randn(6, 4, generator=g)
labels = torch.tensor([0, 2, 3, 1, 3, 0])
w = torch.rand(6, generator=g)
close(ce.CseAutolossCls()(x, labels), F.cross_entropy(x, labels), 'ce mean')
close(ce.CseAutolossCls(loss_weight=2.0)(x, labels, weight=w, avg_factor=4.0), 2 * (F.cross_entropy(x, labels, reduction='none') * w).sum() / (4.0 + torch.finfo(torch.float32).eps), 'ce weight avg_factor')
p = torch.randn(6, 3, generator=g)
t = F.one_hot(labels, 4)[:, :3].float()
ref = F.binary_cross_entropy_with_logits(p, t, reduction='none') * (0.25 * t + 0.75 * (1 - t))
close(bce.CseAutolossBcls()(p, labels, avg_factor=3.0), ref.sum() / (3.0 + torch.finfo(torch.float32).eps), 'bce avg_factor')
target = torch.tensor([[0.0, 0.0, 10.0, 20.0], [5.0, 5.0, 15.0, 9.0], [1.0, 2.0, 3.0, 4.0]])
pred = torch.tensor([[1.0, -2.0, 12.0, 18.0], [20.0, 20.0, 30.0, 40.0], [1.0, 2.0, 3.0, 4.0]])
area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
inter = (torch.min(pred[:, 2:], target[:, 2:]) - torch.max(pred[:, :2], target[:, :2])).clamp(min=0).prod(1)
union = area(pred) + area(target) - inter
enclose = (torch.max(pred[:, 2:], target[:, 2:]) - torch.min(pred[:, :2], target[:, :2])).prod(1)
close(giou.CseAutolossReg(reduction='none')(pred, target), 1 - inter / union + (enclose - union) / enclose, 'giou')
print('ok')
`;

test('loss export: stdout and --out agree, bad input exits 2, and the exported classes reduce as mmdetection losses do', () => {
  const s = run('export', '--expr', 'ce');
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /^def searched_loss\(X, Y, Z\):\n {4}return Neg\(Dot\(Y, Log\(Softmax\(X\)\)\)\)$/m);
  assert.match(s.out, /^Preset: ce$/m);
  const files = ['ce', 'bce', 'giou'].map((name) => {
    const f = join(dir, `${name}.py`);
    const r = run('export', '--expr', name, '--to', 'pytorch', '--out', f);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^wrote /);
    assert.equal(r.out, '');
    return f;
  });
  assert.equal(readFileSync(files[0]!, 'utf8'), s.out);
  assert.equal(run('export', '--expr', 'l1').code, 2);
  assert.equal(run('export', '--expr', 'ce', '--to', 'onnx').code, 2);
  assert.equal(run('export', '--mode', 'reg', '--expr', 'ce').code, 2);
  const bad = run('export', '--mode', 'cls', '--expr', 'Neg(Foo(X))');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown primitive 'Foo' at position 4/);
  assert.equal(run('export', '--expr', 'ce', '--out', join(dir, 'no-such-dir', 'x.py')).code, 2);

  const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  assert.equal(
    torch.status,
    0,
    `PyTorch is required (${PYTHON} -c 'import torch' failed): run scripts/setup.sh (it installs Debian's python3-torch)`,
  );
  const r = spawnSync(PYTHON, ['-c', WRAPPER_CHECK, ...files], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.equal(r.stdout.trim(), 'ok');
});
