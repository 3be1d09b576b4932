/** Read-ahead worker: renders batches (decode, resize, flip, normalise) off the main thread. */
import { parentPort } from 'node:worker_threads';
import { renderBatch, type RenderJob } from './render-batch.js';

const port = parentPort!;
port.on('message', (msg: { id: number; job: RenderJob }) => {
  try {
    const pixels = renderBatch(msg.job);
    port.postMessage({ id: msg.id, pixels }, [pixels.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: msg.id, error: (e as Error).message });
  }
});
port.postMessage({ ready: true });
