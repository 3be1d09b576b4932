/** `search --serve`: the dashboard over the search's run folder, in a child process (src/serve/child.ts). */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ServeError } from './server.js';

function childEntry(): string {
  const js = fileURLToPath(new URL('./child.js', import.meta.url));
  if (import.meta.url.endsWith('.js') && existsSync(js)) return js;
  return fileURLToPath(new URL('./child-boot.mjs', import.meta.url));
}

export interface BesideServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the server process; rejects with a ServeError when the port is taken (or the like). */
export function serveInChild(runDir: string, port: number, host = '127.0.0.1'): Promise<BesideServer> {
  const proc = fork(childEntry(), [], {
    env: { ...process.env, CSE_SERVE_ARGS: JSON.stringify({ runDir, port, host }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m: { url?: string; error?: string; usage?: boolean }) => {
      if (m.url) {
        proc.channel?.unref();
        proc.unref();
        resolve({
          url: m.url,
          close: () =>
            new Promise<void>((r) => {
              if (proc.exitCode !== null || proc.signalCode !== null) return r();
              proc.once('exit', () => r());
              proc.kill('SIGTERM');
            }),
        });
      } else
        reject(m.usage ? new ServeError(m.error ?? 'the dashboard did not start') : new Error(m.error ?? 'the dashboard did not start'));
    });
    proc.once('exit', (code) => reject(new Error(`the dashboard process exited (${code}) before serving`)));
  });
}
