import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'cse-autoloss.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('data make writes train/val; data info summarises; problems exit with code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datacli-'));
  try {
    const made = run('data', 'make', '--kind', 'shapes', '--images', '10', '--size', '64', '--seed', '2', '--out', dir);
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, /train 8 images .* val 2 images/);
    const info = run('data', 'info', join(dir, 'train'));
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /images: 8/);
    assert.match(info.stdout, /annotations per class/);
    assert.match(info.stdout, /small\s+\d+/);
    assert.match(info.stdout, /problems: 0 error/);
    writeFileSync(join(dir, 'train', 'annotations.json'), '{"images": [{"id": 1, "file_name": "nope.png", "width": 4, "height": 4}], "annotations": [], "categories": [{"id": 1, "name": "a"}]}');
    const bad = run('data', 'info', join(dir, 'train'));
    assert.equal(bad.status, 2);
    assert.match(bad.stdout, /nope\.png: image 1: image file missing/);
    const usage = run('data', 'make', '--kind', 'cats', '--out', dir);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--kind must be mnist-det or shapes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
