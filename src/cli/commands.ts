import type { Command } from 'commander';

/** Each CLI command lives in its own file and exports `register(program)`. Add one line here per command. */
export type Registrar = (program: Command) => void;

export async function loadCommands(): Promise<Registrar[]> {
  const modules = await Promise.all([
    import('./demo.js'),
    import('./data.js'),
    import('./eval.js'),
    import('./loss.js'),
    import('./search.js'),
    import('./report.js'),
    import('./compare.js'),
    import('./export.js'),
    import('./worker.js'),
    import('./train.js'),
    import('./test.js'),
    import('./serve.js'),
  ]);
  return modules.map((m) => m.register);
}
