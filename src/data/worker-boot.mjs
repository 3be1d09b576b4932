// Starts a TypeScript worker when the project runs from source through tsx: registers tsx's
// loader in this worker thread, then imports the entry module given in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
