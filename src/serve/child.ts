/**
 * The dashboard in its own process, beside a search (`search --serve`): the search's stages may
 * hold the coordinator's event loop for long stretches (in-process transport), so the server
 * runs here and reads the journal read-only like any other reader. Arguments come in the env
 * (CSE_SERVE_ARGS, JSON); the URL or the error goes back over IPC; it exits when its parent
 * goes away (IPC disconnect).
 */
import { ServeError, startServer } from './server.js';

const args = JSON.parse(process.env.CSE_SERVE_ARGS ?? '{}') as { runDir: string; port: number; host?: string };
process.on('disconnect', () => process.exit(0));
startServer({ runDirs: [args.runDir], port: args.port, host: args.host, allowPending: true }).then(
  (srv) => process.send!({ url: srv.url }),
  (e: Error) => {
    process.send!({ error: e instanceof ServeError ? e.message : String(e?.stack ?? e), usage: e instanceof ServeError });
    process.disconnect();
  },
);
