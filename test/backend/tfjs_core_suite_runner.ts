/**
 * Runs tfjs-core's own kernel tests (the *_test.js files its npm package ships) against the
 * `torch` backend. The tests are ES modules with extensionless imports, so they are bundled with
 * esbuild first; tfjs keeps its engine and registries in globals, so the bundled copy of
 * tfjs-core drives the same engine in which our backend is registered.
 *
 * Prints a JSON summary on the last line: {passed, failed, excluded, failures: [...]}.
 * Usage: node --import tsx test/backend/tfjs_core_suite_runner.ts [--filter TEXT]
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { registerTorchBackend } from '../../src/backend/index.js';
import { exclusionFor } from './tfjs_core_exclusions.js';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const coreDist = join(dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist');

/** Test files of tfjs-core that exercise kernels (ops, gradients, tensors, variables, optimizers). */
function testFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('_test.js')) out.push(p);
    }
  };
  walk(join(coreDist, 'ops'));
  walk(join(coreDist, 'optimizers'));
  for (const f of ['gradients_test.js', 'tensor_test.js', 'variable_test.js']) out.push(join(coreDist, f));
  return out.sort();
}

async function bundle(): Promise<string> {
  const outDir = join(root, 'build', 'tfjs-core-suite');
  mkdirSync(outDir, { recursive: true });
  const entry = join(outDir, 'entry.mjs');
  // ES imports are hoisted: the test environment is set in a module imported before the tests.
  const setup = join(outDir, 'setup.mjs');
  writeFileSync(
    setup,
    `import { setTestEnvs } from '${join(coreDist, 'jasmine_util.js')}';\n` +
      `setTestEnvs([{ name: 'torch', backendName: 'torch', flags: {}, isDataSync: true }]);\n`,
  );
  const lines = [`import './setup.mjs';`, ...testFiles().map((f) => `import '${f}';`)];
  writeFileSync(entry, lines.join('\n') + '\n');
  const outfile = join(outDir, 'suite.mjs');
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile,
    logLevel: 'error',
    // tfjs-core's package.json marks only a few files as having side effects; the test files
    // are pure side effects (describe/it calls), so the annotation must be ignored.
    ignoreAnnotations: true,
    // Test files pull in seedrandom (CommonJS) and node built-ins.
    banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}

async function main(): Promise<void> {
  const filterArg = process.argv.indexOf('--filter');
  const filter = filterArg > 0 ? process.argv[filterArg + 1] : undefined;
  registerTorchBackend();
  const suite = await bundle();

  const Jasmine = require('jasmine') as new (o?: object) => {
    env: { configure(c: object): void; addReporter(r: object): void };
    exitOnCompletion: boolean;
    loadConfig(c: object): void;
    execute(files?: string[]): Promise<unknown>;
  };
  const runner = new Jasmine({ projectBaseDir: root });
  runner.exitOnCompletion = false;
  runner.loadConfig({ spec_files: [], random: false, stopSpecOnExpectationFailure: false });
  let excluded = 0;
  const excludedByReason: Record<string, number> = {};
  runner.env.configure({
    random: false,
    specFilter: (spec: { getFullName(): string }) => {
      const name = spec.getFullName();
      if (filter && !name.includes(filter)) return false;
      const reason = exclusionFor(name);
      if (reason) {
        excluded++;
        excludedByReason[reason] = (excludedByReason[reason] ?? 0) + 1;
        return false;
      }
      return true;
    },
  });
  let passed = 0;
  const failures: { name: string; message: string }[] = [];
  const all: { name: string; status: string }[] = [];
  runner.env.addReporter({
    specDone: (r: { status: string; fullName: string; failedExpectations: { message: string }[] }) => {
      all.push({ name: r.fullName, status: r.status });
      if (r.status === 'passed') passed++;
      else if (r.status === 'failed') failures.push({ name: r.fullName, message: (r.failedExpectations[0]?.message ?? '').slice(0, 300) });
    },
  });
  await runner.execute([relative(root, suite)]);
  writeFileSync(join(root, 'build', 'tfjs-core-suite', 'results.json'), JSON.stringify(all));
  const summary = { passed, failed: failures.length, excluded, excludedByReason, failures };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
  process.exit(1);
});
export { pathToFileURL, readFileSync };
