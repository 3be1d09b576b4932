import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'cse-autoloss.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('data make writes train/val; data info summarises; problems exit with code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datacli-'));
  try {
    // 30 images: every one of the six classes has training annotations (10 would miss one, which training refuses).
    const made = run('data', 'make', '--kind', 'shapes', '--images', '30', '--size', '64', '--seed', '2', '--out', dir);
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, /train 24 images .* val 6 images/);
    const info = run('data', 'info', join(dir, 'train'));
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /images: 24/);
    assert.match(info.stderr, /decoding images .* 24\/24/);
    assert.match(info.stdout, /annotations per class/);
    assert.match(info.stdout, /small\s+\d+/);
    assert.match(info.stdout, /problems: 0 error/);
    writeFileSync(
      join(dir, 'train', 'annotations.json'),
      '{"images": [{"id": 1, "file_name": "nope.png", "width": 4, "height": 4}], "annotations": [], "categories": [{"id": 1, "name": "a"}]}',
    );
    const bad = run('data', 'info', join(dir, 'train'));
    assert.equal(bad.status, 2);
    assert.match(bad.stdout, /nope\.png: image 1: image file missing/);
    const usage = run('data', 'make', '--kind', 'cats', '--out', join(dir, 'new'));
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--kind must be mnist-det or shapes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('data info agrees with what training refuses: a truncated image, 0 images, a category without annotations (exit 2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datacli-'));
  try {
    assert.equal(run('data', 'make', '--kind', 'mnist-det', '--images', '40', '--size', '32', '--seed', '1', '--out', dir).status, 0);
    const train = join(dir, 'train');
    const annFile = join(train, 'annotations.json');
    const original = readFileSync(annFile, 'utf8');
    const doc = JSON.parse(original) as { images: { file_name: string }[]; categories: { id: number; name: string }[] };
    assert.equal(run('data', 'info', train).status, 0);
    // A category nobody annotated in the train split (training refuses it by name); fine in val.
    doc.categories.push({ id: 99, name: 'unicorn' });
    writeFileSync(annFile, JSON.stringify(doc));
    const cat = run('data', 'info', train);
    assert.equal(cat.status, 2, cat.stdout);
    assert.match(cat.stdout, /error: .*no \(non-crowd\) annotations for 1 category: 99 \(unicorn\); training refuses this/);
    writeFileSync(annFile, original);
    const val = run('data', 'info', join(dir, 'val'));
    assert.doesNotMatch(val.stdout, /error: .*categor/);
    // A PNG cut to 100 bytes: its header (and size) still read fine, its pixels do not.
    const png = join(train, 'images', doc.images[3]!.file_name);
    writeFileSync(png, readFileSync(png).subarray(0, 100));
    const trunc = run('data', 'info', train);
    assert.equal(trunc.status, 2, trunc.stdout);
    assert.match(trunc.stdout, new RegExp(`${doc.images[3]!.file_name}: image \\d+: cannot be decoded`));
    // No images at all.
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, 'images'), { recursive: true });
    writeFileSync(join(empty, 'annotations.json'), JSON.stringify({ images: [], annotations: [], categories: [{ id: 1, name: 'a' }] }));
    const none = run('data', 'info', empty);
    assert.equal(none.status, 2);
    assert.match(none.stdout, /images: 0\n/);
    assert.doesNotMatch(none.stdout, /Infinity/);
    assert.match(none.stdout, /the dataset has no images/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('data make refuses a non-empty folder; --force replaces train/ and val/ without stale images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datacli-'));
  try {
    assert.equal(run('data', 'make', '--kind', 'shapes', '--images', '30', '--size', '32', '--out', dir).status, 0);
    const again = run('data', 'make', '--kind', 'shapes', '--images', '10', '--size', '32', '--out', dir);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /is not empty .*--force/);
    assert.equal(readdirSync(join(dir, 'train', 'images')).length, 24, 'untouched');
    const forced = run('data', 'make', '--kind', 'shapes', '--images', '10', '--size', '32', '--out', dir, '--force');
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(readdirSync(join(dir, 'train', 'images')).length, 8, 'no stale images left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
