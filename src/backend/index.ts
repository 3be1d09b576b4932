/**
 * Importing this module registers the TensorFlow.js backend `torch` (libtorch through a native
 * addon) with the package's @tensorflow/tfjs-core and its kernels. The native library is loaded
 * when the backend is first initialised, with a clear error if it is missing.
 */
import { tf } from '../tf.js';
import { TorchBackend } from './backend_torch.js';
import { kernelConfigs } from './register_all_kernels.js';
import { native } from './native.js';
import { registerGradientOverrides, torchConv2DBackwardConfig, torchReluGradConfig } from './gradients.js';
import { registerGroupNorm } from './ops/group_norm.js';
import { registerFilterStorage } from './ops/filter_storage.js';

export { TorchBackend } from './backend_torch.js';
export { groupNorm, groupNormReference } from './ops/group_norm.js';
export { convFilterStorage } from './ops/filter_storage.js';
export const BACKEND_NAME = 'torch';

let registered = false;

/** Registers the backend and its kernels (idempotent). Priority 3 puts it ahead of `cpu` (1). */
export function registerTorchBackend(priority = 3): void {
  if (registered) return;
  registered = true;
  tf.registerBackend(BACKEND_NAME, () => new TorchBackend(), priority);
  for (const k of kernelConfigs) tf.registerKernel(k);
  tf.registerKernel(torchReluGradConfig);
  tf.registerKernel(torchConv2DBackwardConfig);
  registerGradientOverrides();
  registerGroupNorm();
  registerFilterStorage();
}

/** Makes `torch` the active backend (throws a clear error when libtorch cannot be loaded). */
export async function useTorchBackend(): Promise<void> {
  registerTorchBackend();
  native(); // surface load errors with their own message rather than tfjs's generic one
  const ok = await tf.setBackend(BACKEND_NAME);
  if (!ok) throw new Error('the torch backend could not be initialised');
}

/** libtorch intra-op threads (defaults to the machine's cores; env CSE_THREADS overrides). */
export function setNumThreads(n: number): void {
  native().setNumThreads(n);
}

export function getNumThreads(): number {
  return native().getNumThreads();
}

/** Number of live native tensors (for leak checks). */
export function numNativeTensors(): number {
  return native().numTensors();
}

/** Kernel names this backend implements. */
export function torchKernelNames(): string[] {
  return kernelConfigs.map((k) => k.kernelName);
}

registerTorchBackend();
