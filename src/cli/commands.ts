import type { Command } from 'commander';

/**
 * Each CLI command lives in its own file and exports `register(program)`. Add one line here per
 * command. A command file imports only what its options need; its action imports the heavy
 * modules (tfjs, the addon, BullMQ, SQLite) when it runs, so `--help` starts fast.
 */
export type Registrar = (program: Command) => void;

const COMMANDS: Record<string, () => Promise<{ register: Registrar }>> = {
  demo: () => import('./demo.js'),
  data: () => import('./data.js'),
  eval: () => import('./eval.js'),
  loss: () => import('./loss.js'),
  search: () => import('./search.js'),
  report: () => import('./report.js'),
  compare: () => import('./compare.js'),
  export: () => import('./export.js'),
  worker: () => import('./worker.js'),
  train: () => import('./train.js'),
  test: () => import('./test.js'),
  serve: () => import('./serve.js'),
};

/**
 * The registrars of every command, in the order of the help; with `name` (the command on the
 * command line) only that command's, when it is one.
 */
export async function loadCommands(name?: string): Promise<Registrar[]> {
  const load = name !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, name) ? [COMMANDS[name]!] : Object.values(COMMANDS);
  return (await Promise.all(load.map((l) => l()))).map((m) => m.register);
}
