#!/usr/bin/env node
// Launcher: runs the compiled CLI (dist/src, from `npm run build`; the npm package ships it).
// In a source checkout (it has tsconfig.json, which the package does not ship) whose build is
// missing or older than a file in src/, or with CSE_DEV=1, it runs the TypeScript sources
// through tsx instead (a development dependency), so an edit takes effect without a rebuild.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');

/** The newest modification time of a file under dir, or one above `limit` as soon as it is seen. */
function newestMtime(dir, limit) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(p, limit) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
    if (newest > limit) break;
  }
  return newest;
}

function buildIsCurrent() {
  if (!existsSync(built)) return false;
  if (!existsSync(join(root, 'tsconfig.json'))) return true; // an installed package: no tsx, no rebuilds
  const stamp = join(root, 'dist', 'build-stamp');
  if (!existsSync(stamp)) return false;
  const builtAt = statSync(stamp).mtimeMs;
  return newestMtime(join(root, 'src'), builtAt) <= builtAt;
}

if (process.env.CSE_DEV !== '1' && buildIsCurrent()) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
}
