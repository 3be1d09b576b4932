/**
 * The project's TensorFlow.js entry point: tfjs-core plus its gradient definitions and chained
 * ops. `@tensorflow/tfjs-core`'s Node build (the CommonJS `main`) ships the ops and the engine
 * but registers no gradients; they live only in its ES-module sources, whose extensionless
 * imports Node cannot load. We bundle those sources once with esbuild (into dist/, below) and load the
 * bundle: tfjs keeps its engine, kernel and gradient registries and Tensor class in globals, so the
 * bundle's registrations reach the same engine. Import tfjs as `import { tf } from '<src>/tf.js'`
 * (or import this module once for its side effect before using `@tensorflow/tfjs-core`).
 *
 * The bundle goes to dist/ (beside the compiled sources, and into the npm package: esbuild is a
 * development dependency); scripts/build.mjs makes it by importing this module once.
 *
 * Production mode: tfjs's log lines are off (e.g. tfjs-backend-cpu's "looks like you are running
 * TensorFlow.js in Node.js" banner). In tfjs-core 4.x the PROD flag gates only its console
 * warnings (log.ts, environment.ts); it changes no computation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cse-autoloss: package root not found');
    dir = up;
  }
  return dir;
}

function loadExtras(): void {
  const g = globalThis as { __cseTfjsExtras?: boolean };
  if (g.__cseTfjsExtras) return;
  const root = packageRoot();
  const out = join(root, 'dist', `tfjs-extras-${tf.version_core}.cjs`);
  if (!existsSync(out)) {
    const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
    mkdirSync(dirname(out), { recursive: true });
    const esbuild = require('esbuild') as typeof import('esbuild');
    esbuild.buildSync({
      stdin: {
        contents:
          `import '${join(core, 'dist', 'register_all_gradients.js')}';\n` +
          `import '${join(core, 'dist', 'public', 'chained_ops', 'register_all_chained_ops.js')}';\n`,
        resolveDir: core,
      },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      logLevel: 'error',
      outfile: out,
    });
  }
  require(out);
  g.__cseTfjsExtras = true;
}

tf.enableProdMode();
loadExtras();

export { tf };
