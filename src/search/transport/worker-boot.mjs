// Starts a pool worker under tsx: from a source checkout (worker.ts next to this file), or from
// the compiled tree (worker.js) when the stage module to load is TypeScript (tests).
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const ts = new URL('./worker.ts', import.meta.url);
await import(existsSync(ts) ? ts.href : new URL('./worker.js', import.meta.url).href);
