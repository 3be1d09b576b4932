import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from './errors.js';
import type { Expr, Mode, ResolvedLoss } from '../loss/index.js';

/** The loss library loads tfjs: it is imported when a subcommand runs, not for --help. */
const lossLib = () => import('../loss/index.js');

async function parseMode(mode: string | undefined, expr: string): Promise<Mode> {
  const { MODES, PRESETS } = await lossLib();
  if (mode === undefined) {
    const p = Object.prototype.hasOwnProperty.call(PRESETS, expr.trim()) ? PRESETS[expr.trim()] : undefined;
    if (p) return p.mode;
    throw new UsageError(`--mode is required (cls, bcls or reg) unless --expr names a preset`);
  }
  if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`--mode must be cls, bcls or reg, got '${mode}'`);
  return mode as Mode;
}

async function resolve(mode: Mode, spec: string): Promise<ResolvedLoss> {
  const { LossSyntaxError, resolveLoss } = await lossLib();
  try {
    return resolveLoss(mode, spec);
  } catch (e) {
    // The message gains the mode; every other error goes to the CLI's handler as it is.
    if (e instanceof LossSyntaxError) throw new UsageError(`invalid ${mode} expression: ${e.message}`);
    throw e;
  }
}

async function exprOrFail(r: ResolvedLoss, what: string): Promise<Expr> {
  const { PRESETS } = await lossLib();
  if (!r.expr) throw new UsageError(`'${r.text}' is a fixed baseline (${PRESETS[r.text]?.description}); it has no expression to ${what}`);
  return r.expr;
}

/** JSON has no NaN or infinities: they are written as strings. */
function num(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}

function nested(buf: Float64Array, n: number, k: number, shape: 'M' | 'V' | 'S'): unknown {
  if (shape === 'S') return num(buf[0]!);
  if (shape === 'V') return Array.from(buf.subarray(0, n), num);
  return Array.from({ length: n }, (_, r) => Array.from(buf.subarray(r * k, r * k + k), num));
}

/** Reads the inputs of a mode from JSON: cls/bcls [N][K] arrays, reg [N] arrays. */
async function readInputs(
  file: string,
  mode: Mode,
  used: Set<string>,
): Promise<{ n: number; k: number; inputs: Record<string, Float64Array> }> {
  const { MODE_VARS } = await lossLib();
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read --input ${file}: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`--input ${file}: expected a JSON object with the inputs ${MODE_VARS[mode].join(', ')}`);
  }
  const obj = data as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!MODE_VARS[mode].includes(key))
      throw new UsageError(`--input ${file}: '${key}' is not an input of mode ${mode} (${MODE_VARS[mode].join(', ')})`);
  }
  let n = -1;
  let k = mode === 'reg' ? 1 : -1;
  const inputs: Record<string, Float64Array> = {};
  const bad = (name: string, why: string): never => {
    throw new UsageError(`--input ${file}: ${name} ${why}`);
  };
  const toNum = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(name, `holds ${JSON.stringify(v)}, expected finite numbers`);
    return v as number;
  };
  for (const name of MODE_VARS[mode]) {
    const v = obj[name];
    if (v === undefined) {
      if (used.has(name)) bad(name, 'is missing (the expression uses it)');
      continue;
    }
    if (!Array.isArray(v)) bad(name, mode === 'reg' ? 'must be an array [N]' : 'must be an array of rows [N][K]');
    const arr = v as unknown[];
    if (n < 0) n = arr.length;
    else if (arr.length !== n) bad(name, `has ${arr.length} rows, other inputs have ${n}`);
    if (mode === 'reg') {
      inputs[name] = Float64Array.from(arr, (x) => toNum(name, x));
    } else {
      const buf: number[] = [];
      arr.forEach((row, r) => {
        if (!Array.isArray(row)) bad(name, `row ${r} is not an array (expected [N][K])`);
        const rr = row as unknown[];
        if (k < 0) k = rr.length;
        else if (rr.length !== k) bad(name, `row ${r} has ${rr.length} columns, expected ${k}`);
        for (const x of rr) buf.push(toNum(name, x));
      });
      inputs[name] = Float64Array.from(buf);
    }
  }
  if (n <= 0)
    throw new UsageError(
      `--input ${file}: no samples (give the inputs ${[...used].join(', ') || MODE_VARS[mode].join(', ')} as non-empty arrays)`,
    );
  if (k <= 0) throw new UsageError(`--input ${file}: rows must have at least one column`);
  for (const name of MODE_VARS[mode]) if (!inputs[name]) inputs[name] = new Float64Array(n * k);
  return { n, k, inputs };
}

export function register(program: Command): void {
  const loss = program.command('loss').description('loss expressions of the search space: evaluate, check, show, simplify, export');

  loss
    .command('eval')
    .description('evaluate an expression on inputs from a JSON file; prints {value, grad} (value: the raw output, grad: of sum(value))')
    .option('--mode <mode>', 'cls, bcls or reg')
    .requiredOption('--expr <expr>', 'expression in the paper format, or a preset name')
    .requiredOption('--input <file>', 'JSON object of the mode inputs: cls/bcls [N][K] arrays, reg [N] arrays')
    .option('--grad', 'also print the gradient of sum(value) with respect to each input')
    .action(async (flags: { mode?: string; expr: string; input: string; grad?: boolean }) => {
      const { MODE_VARS, compileFast, runFast, variablesOf } = await lossLib();
      const mode = await parseMode(flags.mode, flags.expr);
      const e = await exprOrFail(await resolve(mode, flags.expr), 'evaluate');
      const { n, k, inputs } = await readInputs(flags.input, mode, variablesOf(e));
      const prog = compileFast(mode, e);
      const run = runFast(prog, inputs, n, k, { grad: !!flags.grad });
      const out: Record<string, unknown> = { value: nested(run.value, n, k, prog.shape) };
      if (flags.grad) {
        const g: Record<string, unknown> = {};
        const shape = mode === 'reg' ? 'V' : 'M';
        for (const name of MODE_VARS[mode]) g[name] = nested(run.grads![name]!, n, k, shape);
        out.grad = g;
      }
      process.stdout.write(JSON.stringify(out) + '\n');
    });

  loss
    .command('check')
    .description('convergence property verification; exit 0 whether it passes or not')
    .option('--mode <mode>', 'cls, bcls or reg')
    .requiredOption('--expr <expr>', 'expression or preset name')
    .option('--saturating', "also check the optional saturating property (cls, bcls; a search config's cpv.saturating)")
    .option('--json', 'print {"pass", "failed", "details"} as JSON')
    .action(async (flags: { mode?: string; expr: string; json?: boolean; saturating?: boolean }) => {
      const { convergenceChecks, printOfficial } = await lossLib();
      const mode = await parseMode(flags.mode, flags.expr);
      if (flags.saturating && mode === 'reg') throw new UsageError("--saturating: a property of the cls and bcls modes, not of 'reg'");
      const e = await exprOrFail(await resolve(mode, flags.expr), 'check');
      const r = convergenceChecks(mode, e, { saturating: !!flags.saturating });
      if (flags.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      const lines = [`${r.pass ? 'PASS' : 'FAIL'}  ${mode}  ${printOfficial(e)}`];
      for (const p of r.details.properties) {
        lines.push(`  ${p.pass ? 'ok  ' : p.fatal ? 'FAIL' : 'warn'}  ${p.name}${p.where ? `: ${p.where}` : ''}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });

  loss
    .command('show')
    .description('print an expression as official (prefix), infix, LaTeX, or an SVG computation graph')
    .option('--mode <mode>', 'cls, bcls or reg')
    .requiredOption('--expr <expr>', 'expression or preset name')
    .option('--format <format>', 'official, infix, latex or svg', 'official')
    .action(async (flags: { mode?: string; expr: string; format: string }) => {
      const { printInfix, printLatex, printOfficial, printSvg } = await lossLib();
      const mode = await parseMode(flags.mode, flags.expr);
      const r = await resolve(mode, flags.expr);
      const e = await exprOrFail(r, 'show');
      let s: string;
      switch (flags.format) {
        case 'official':
          s = printOfficial(e);
          break;
        case 'infix':
          s = printInfix(e);
          break;
        case 'latex':
          s = printLatex(e);
          break;
        case 'svg':
          s = printSvg(e, { title: r.preset ? `${r.preset} (${mode})` : undefined }).trimEnd();
          break;
        default:
          throw new UsageError(`--format must be official, infix, latex or svg, got '${flags.format}'`);
      }
      process.stdout.write(s + '\n');
    });

  loss
    .command('simplify')
    .description('algebraic simplification (same values); prints the simplified expression')
    .option('--mode <mode>', 'cls, bcls or reg')
    .requiredOption('--expr <expr>', 'expression or preset name')
    .action(async (flags: { mode?: string; expr: string }) => {
      const { printOfficial, simplify } = await lossLib();
      const mode = await parseMode(flags.mode, flags.expr);
      const e = await exprOrFail(await resolve(mode, flags.expr), 'simplify');
      process.stdout.write(printOfficial(simplify(mode, e)) + '\n');
    });

  loss
    .command('export')
    .description('write an expression as a standalone PyTorch module (as `export --run` does for a found loss)')
    .option('--mode <mode>', 'cls, bcls or reg')
    .requiredOption('--expr <expr>', 'expression or preset name')
    .option('--to <target>', 'export target (pytorch)', 'pytorch')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (flags: { mode?: string; expr: string; to: string; out?: string }) => {
      const [{ exportTarget, writeExport }, { printOfficial }] = await Promise.all([import('./export_output.js'), lossLib()]);
      const to = exportTarget(flags.to);
      const mode = await parseMode(flags.mode, flags.expr);
      const r = await resolve(mode, flags.expr);
      const e = await exprOrFail(r, 'export');
      writeExport(to, mode, printOfficial(e), r.preset ? { preset: r.preset } : {}, flags.out);
    });

  loss
    .command('list')
    .description('list the named presets (baselines and the published CSE-Autoloss strings)')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { PRESETS } = await lossLib();
      if (flags.json) {
        process.stdout.write(JSON.stringify(PRESETS) + '\n');
        return;
      }
      const rows = Object.entries(PRESETS).map(
        ([name, p]) =>
          `${name.padEnd(10)} ${p.mode.padEnd(5)} ${p.description}\n${' '.repeat(17)}${p.text ?? '(fixed baseline on box deltas)'}`,
      );
      process.stdout.write(rows.join('\n') + '\n');
    });
}
