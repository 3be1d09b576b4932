/** Queue name and key prefix in Redis (keys: cse:stages:*). No imports: the CLI's options read them at start-up. */
export const DEFAULT_QUEUE = 'stages';
export const KEY_PREFIX = 'cse';
