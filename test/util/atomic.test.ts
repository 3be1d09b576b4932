import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../src/util/atomic.js';

test('writeFileAtomicSync replaces a file whole, and a failed write leaves no partial or stray file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  const f = join(dir, 'report.json');
  writeFileSync(f, 'old');
  writeFileAtomicSync(f, 'x'.repeat(100_000));
  assert.equal(readFileSync(f, 'utf8').length, 100_000);
  // a folder where the file should go: the rename fails, nothing else is left behind
  const blocked = join(dir, 'blocked');
  mkdirSync(blocked);
  assert.throws(() => writeFileAtomicSync(blocked, 'data'), /EISDIR|ENOTEMPTY|EEXIST|directory/i);
  assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'report.json']);
});
