/**
 * The command line of the scripts under scripts/: every option a script accepts is declared, so
 * that a mistyped one stops it before it starts a long job. `--help` (or `-h`) prints the script's
 * usage text to stdout and exits 0; an unknown `--option`, a stray positional argument and a
 * valued option without its value print `error: ...` to stderr and exit 2 (usage errors, as the
 * CLI's). A value is the token after its option unless that token starts with `--` (so `-1` is a
 * value); `--name=value` is not a form; an option given twice takes its first value.
 *
 * `readCli` is the pure part (tested directly, test/scripts/cli.test.ts); `parseCli` prints and
 * exits. Kept free of heavy imports: the scripts call it before they load anything large.
 */

export interface CliSpec {
  /** Every option, without its leading `--`, in the order an unknown option's error lists them. */
  options: readonly string[];
  /** The options among `options` that take a value (`--name VALUE`); the others are boolean. */
  valued?: readonly string[];
  /** Options accepted but left out of that list (test-only ones); the usage text still names them. */
  hidden?: readonly string[];
  /** How many positional arguments the script takes (default 0); one more is an error. */
  positionals?: number;
  /** What `--help` prints; it must name every option as `--name`. */
  usage: string;
}

export class CliArgs {
  readonly #spec: CliSpec;
  readonly #values: ReadonlyMap<string, string | true>;
  /** The positional arguments, in order (at most `spec.positionals`). */
  readonly positionals: readonly string[];

  constructor(spec: CliSpec, values: ReadonlyMap<string, string | true>, positionals: readonly string[]) {
    this.#spec = spec;
    this.#values = values;
    this.positionals = positionals;
  }

  #known(name: string): void {
    if (!this.#spec.options.includes(name)) throw new Error(`cli: --${name} is not a declared option`);
  }

  /** Whether `--name` was given (an option of either kind). */
  has(name: string): boolean {
    this.#known(name);
    return this.#values.has(name);
  }

  /** The value of the valued option `--name` (its first occurrence), or `def` when it was not given. */
  value(name: string): string | undefined;
  value(name: string, def: string): string;
  value(name: string, def?: string): string | undefined {
    this.#known(name);
    if (!this.#spec.valued?.includes(name)) throw new Error(`cli: --${name} takes no value`);
    const v = this.#values.get(name);
    return typeof v === 'string' ? v : def;
  }
}

export type CliResult = { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'ok'; args: CliArgs };

/** Checks the spec itself (a mistake in a script, not in its command line): throws. */
function checkSpec(spec: CliSpec): void {
  for (const n of [...(spec.valued ?? []), ...(spec.hidden ?? [])])
    if (!spec.options.includes(n)) throw new Error(`cli: --${n} is not among the options`);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const n of spec.options)
    if (!new RegExp(`--${escape(n)}(?![\\w-])`).test(spec.usage)) throw new Error(`cli: the usage text does not name --${n}`);
}

/**
 * The command line `argv` (without node and the script) read against `spec`. `--help` / `-h`
 * anywhere (but as an option's value) wins; otherwise the first unknown option or stray argument,
 * then the first valued option without a value, is the error.
 */
export function readCli(spec: CliSpec, argv: readonly string[]): CliResult {
  checkSpec(spec);
  const valued = new Set(spec.valued ?? []);
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  let help = false;
  let syntax: string | undefined;
  let missing: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') help = true;
    else if (a.startsWith('--')) {
      const name = a.slice(2);
      if (!spec.options.includes(name)) {
        const known = spec.options.filter((o) => !spec.hidden?.includes(o)).map((o) => `--${o}`);
        syntax ??= `unknown option ${a} (known: ${known.join(', ')})`;
      } else if (!valued.has(name)) {
        if (!values.has(name)) values.set(name, true);
      } else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) missing ??= `--${name} needs a value`;
        else {
          i++;
          if (!values.has(name)) values.set(name, v);
        }
      }
    } else if (positionals.length < (spec.positionals ?? 0)) positionals.push(a);
    else syntax ??= `unexpected argument '${a}'`;
  }
  if (help) return { kind: 'help' };
  const message = syntax ?? missing;
  if (message !== undefined) return { kind: 'error', message };
  return { kind: 'ok', args: new CliArgs(spec, values, positionals) };
}

/**
 * `readCli` on this process's command line: prints the usage and exits 0 on `--help`, prints
 * `error: <message>` and exits 2 on a usage error, and returns the arguments otherwise.
 */
export function parseCli(spec: CliSpec, argv: readonly string[] = process.argv.slice(2)): CliArgs {
  const r = readCli(spec, argv);
  if (r.kind === 'help') {
    process.stdout.write(spec.usage.endsWith('\n') ? spec.usage : `${spec.usage}\n`);
    process.exit(0);
  }
  if (r.kind === 'error') {
    console.error(`error: ${r.message}`);
    process.exit(2);
  }
  return r.args;
}
