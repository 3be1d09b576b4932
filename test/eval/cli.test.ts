import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'cse-autoloss.js');
const fixture = join(import.meta.dirname, '..', 'fixtures', 'coco', 'basic');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('eval --json prints the 12 pycocotools numbers; --plots writes SVGs', () => {
  const plots = mkdtempSync(join(tmpdir(), 'plots-'));
  try {
    const r = run('eval', '--gt', join(fixture, 'gt.json'), '--dt', join(fixture, 'dt.json'), '--json', '--plots', plots);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, number>;
    const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8')) as { metrics: Record<string, number> };
    assert.deepEqual(Object.keys(out), Object.keys(expected.metrics));
    for (const k of Object.keys(out)) assert.ok(Math.abs(out[k]! - expected.metrics[k]!) < 1e-6);
    const files = readdirSync(plots).sort();
    assert.deepEqual(files, ['pr-all.svg', 'pr-class-1.svg', 'pr-class-3.svg', 'pr-class-7.svg']);
    assert.match(readFileSync(join(plots, 'pr-all.svg'), 'utf8'), /^<svg[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  } finally {
    rmSync(plots, { recursive: true, force: true });
  }
});

test('eval: bad detections exit with code 2 and a clear message, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'badeval-'));
  try {
    writeFileSync(
      join(dir, 'dt.json'),
      '[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5},\n {"image_id": 424242, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}]',
    );
    const r = run('eval', '--gt', join(fixture, 'gt.json'), '--dt', join(dir, 'dt.json'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /image ids not in the ground truth: 424242/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const dropped = run('eval', '--gt', join(fixture, 'gt.json'), '--dt', join(dir, 'dt.json'), '--drop-unknown');
    assert.equal(dropped.status, 0);
    assert.match(dropped.stderr, /dropped 1 detection/);
    assert.equal(dropped.stdout.trim().split('\n').length, 12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
