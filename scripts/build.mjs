// Compiles src/**/*.ts to dist/src/**/*.js with esbuild (no bundling, no type check: `npm run
// typecheck` does that), so that plain `node` can import the package's exports
// (e.g. `import 'cse-autoloss/backend'`). Fast enough to run on every set-up.
import { build } from 'esbuild';
import { cpSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
await build({
  entryPoints: entries,
  outdir: join(root, 'dist', 'src'),
  outbase: join(root, 'src'),
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'error',
});
for (const p of copies) cpSync(p, join(root, 'dist', 'src', relative(join(root, 'src'), p)));
console.log(`build: ${entries.length} modules -> dist/src`);
