// Starts a pool worker when the project runs from source: registers tsx's loader in this child
// process, then imports the TypeScript worker entry next to this file.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./worker.ts', import.meta.url).href);
