/**
 * cse-autoloss as a library. `cse-autoloss/backend` registers the tfjs backend `torch`;
 * `cse-autoloss/tf` is tfjs-core with its gradients registered.
 */
export { tf } from './tf.js';
export * as backend from './backend/index.js';
export * as loss from './loss/index.js';
export * as data from './data/index.js';
export * as cocoEval from './eval/index.js';
