/**
 * src/queue: the queue transport for stage evaluations (BullMQ on Redis). It moves serialisable
 * StageTasks and StageRecords between a coordinator and any number of workers, and knows
 * nothing of losses or detectors. See docs/DISTRIBUTED.md.
 */
export { QueueTransport, type QueueTransportOptions, type QueueTransportStats } from './transport.js';
export { QueueWorker, type QueueWorkerOptions, type WorkerStop } from './worker.js';
export { parseQueueUrl, redact, type QueueAddress } from './url.js';
export { validatePayload, jobIdOf, encodeRecord, decodeRecord, type JobPayload } from './payload.js';
export { localVersion, versionMismatch, PROTOCOL_VERSION, type VersionStamp } from './version.js';
export { datasetDirOf, hashDataset } from './dataset.js';
export { probeRedis, redisOptions, DEFAULT_QUEUE, KEY_PREFIX } from './connection.js';
export { queueStatus, listWorkers, type QueueStatus, type WorkerInfo } from './status.js';
export { QueueError, QueueUrlError, QueueUnavailableError, PayloadError, RefusedJobError } from './errors.js';
export { openQueueForSearch } from './search.js';
export { drainQueue, statusOf } from './admin.js';
