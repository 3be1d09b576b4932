/**
 * Checkpoints in the tfjs format: `model.json` (weights manifest + the model config + training
 * state) and `weights.bin`; for resuming, `optimizer.json` / `optimizer.bin` hold the momentum
 * buffers. Loading checks names and shapes and names every mismatching weight.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../tf.js';
import type { ParamStore } from './layers.js';
import { filterStorage } from './layers.js';

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export const CHECKPOINT_FORMAT = 'cse-autoloss-detector/1';

export interface CheckpointMeta {
  format: string;
  /** The resolved model config (detector, inputSize, head settings) the weights belong to. */
  modelConfig: unknown;
  /** Free-form training state (iteration, losses, config, dataset categories). */
  training: Record<string, unknown>;
}

interface ModelJson extends CheckpointMeta {
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}

async function encode(named: { name: string; tensor: tf.Tensor }[]): Promise<{ data: Uint8Array; specs: tf.io.WeightsManifestEntry[] }> {
  const { data, specs } = await tf.io.encodeWeights(named);
  const buf = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return { data: new Uint8Array(buf as ArrayBuffer), specs };
}

/** Saves the parameters (and optionally optimizer state) into `dir`. */
export async function saveCheckpoint(
  dir: string,
  ps: ParamStore,
  meta: Omit<CheckpointMeta, 'format'>,
  optimizerWeights?: NamedTensor[],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const named = [...ps.vars.entries()].map(([name, tensor]) => ({ name, tensor: tensor as tf.Tensor }));
  const { data, specs } = await encode(named);
  await writeAtomic(join(dir, 'weights.bin'), data);
  if (optimizerWeights) {
    const o = await encode(optimizerWeights);
    await writeAtomic(join(dir, 'optimizer.bin'), o.data);
    await writeAtomic(join(dir, 'optimizer.json'), JSON.stringify({ weightsManifest: [{ paths: ['optimizer.bin'], weights: o.specs }] }));
  }
  const json: ModelJson = { format: CHECKPOINT_FORMAT, ...meta, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] };
  await writeAtomic(join(dir, 'model.json'), JSON.stringify(json, null, 1));
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  weights: tf.NamedTensorMap;
}

/** Reads `model.json` + weights of a checkpoint folder (or a path to its model.json). */
export async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const file = path.endsWith('.json') ? path : join(path, 'model.json');
  const dir = file.slice(0, file.lastIndexOf('/') + 1) || '.';
  if (!existsSync(file)) throw new CheckpointError(`no checkpoint at ${path} (missing ${file})`);
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new CheckpointError(`${file}: not a JSON checkpoint (${(e as Error).message})`);
  }
  if (!json.weightsManifest?.length) throw new CheckpointError(`${file}: no weightsManifest`);
  const weights: tf.NamedTensorMap = {};
  for (const group of json.weightsManifest) {
    const bufs = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
    const total = Buffer.concat(bufs);
    const ab = total.buffer.slice(total.byteOffset, total.byteOffset + total.byteLength) as ArrayBuffer;
    Object.assign(weights, tf.io.decodeWeights(ab, group.weights));
  }
  return { meta: { format: json.format, modelConfig: json.modelConfig, training: json.training ?? {} }, weights };
}

export async function readOptimizerState(dir: string): Promise<NamedTensor[] | null> {
  const file = join(dir, 'optimizer.json');
  if (!existsSync(file)) return null;
  const json = JSON.parse(await readFile(file, 'utf8')) as { weightsManifest: ModelJson['weightsManifest'] };
  const g = json.weightsManifest[0]!;
  const buf = await readFile(join(dir, g.paths[0]!));
  const map = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, g.weights);
  return g.weights.map((w) => ({ name: w.name, tensor: map[w.name]! }));
}

/**
 * Copies checkpoint weights into the model. `strict`: every model weight must be present
 * with its shape and no extra weights may exist (resume, test). Otherwise only the weights
 * present are loaded, but a present weight with a wrong shape is still an error.
 * Disposes the given tensors.
 */
export function loadWeightsInto(ps: ParamStore, weights: tf.NamedTensorMap, source: string, strict: boolean): { loaded: number } {
  const missing: string[] = [];
  const shapes: string[] = [];
  const unexpected: string[] = [];
  for (const [name, v] of ps.vars) {
    const w = weights[name];
    if (!w) {
      if (strict) missing.push(`${name}: missing from the checkpoint`);
    } else if (!arraysEqual(w.shape, v.shape)) {
      shapes.push(`${name}: checkpoint shape [${w.shape.join(', ')}], model shape [${v.shape.join(', ')}]`);
    }
  }
  if (strict) for (const name of Object.keys(weights)) if (!ps.vars.has(name)) unexpected.push(`${name}: not a weight of this model`);
  const total = missing.length + shapes.length + unexpected.length;
  if (total) {
    tf.dispose(Object.values(weights));
    const show = (list: string[]) => list.slice(0, 6).concat(list.length > 6 ? [`... and ${list.length - 6} more like this`] : []);
    const lines = [...show(shapes), ...show(missing), ...show(unexpected)].join('\n  ');
    throw new CheckpointError(
      `checkpoint ${source} does not fit this model (${total} mismatching weight${total === 1 ? '' : 's'}; a checkpoint of another architecture?):\n  ${lines}`,
    );
  }
  let loaded = 0;
  for (const [name, v] of ps.vars) {
    const w = weights[name];
    if (w) {
      const stored = filterStorage(w);
      v.assign(stored);
      if (stored !== w) stored.dispose();
      loaded++;
    }
  }
  tf.dispose(Object.values(weights));
  return { loaded };
}

function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
