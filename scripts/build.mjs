// Compiles src/**/*.ts to dist/src/**/*.js with esbuild (no bundling, no type check: `npm run
// typecheck` does that): what bin/cse-autoloss.js runs, and what plain `node` imports through the
// package's exports (e.g. `import 'cse-autoloss/backend'`). Then makes tfjs's gradient bundle
// (dist/tfjs-extras-*.cjs, see src/tf.ts) and stamps the build (dist/build-stamp: its mtime is
// the time the build started; the launcher runs the build only when no source is newer).
// About a second; scripts/setup.sh runs it, and so does `npm pack`.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = new Date();
const entries = [];
const copies = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) entries.push(p);
    else if (name.endsWith('.mjs') || name.endsWith('.json')) copies.push(p);
  }
};
walk(join(root, 'src'));
const out = join(root, 'dist', 'src');
const stamp = join(root, 'dist', 'build-stamp');
rmSync(stamp, { force: true });
rmSync(out, { recursive: true, force: true }); // no modules left over from renamed sources
await build({
  entryPoints: entries,
  outdir: out,
  outbase: join(root, 'src'),
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'error',
});
for (const p of copies) cpSync(p, join(out, relative(join(root, 'src'), p)));
await import(pathToFileURL(join(out, 'tf.js')).href); // writes dist/tfjs-extras-*.cjs when missing
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
console.log(`build: ${entries.length} modules -> dist/src`);
