/**
 * Checkpoints in the tfjs format: `model.json` (weights manifest + the model config + training
 * state) and `weights.bin`; for resuming, `optimizer.json` / `optimizer.bin` hold the momentum
 * buffers. Loading checks names and shapes and names every mismatching weight.
 *
 * A training run's checkpoints are sets written atomically (`commitCheckpoint`): the files go into
 * a fresh temporary folder with `manifest.json` (iteration, size and SHA-256 of every file), the
 * folder is renamed to `checkpoints/iter-NNNNNNN`, and `checkpoints/latest` (a symbolic link) is
 * switched to it by one rename. A crash at any point leaves `latest` on a complete set; a set
 * whose files do not match their manifest is refused by name (`verifyCheckpoint`).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { existsSync, lstatSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tf } from '../tf.js';
import { UserError } from '../util/errors.js';
import type { ParamStore } from './layers.js';
import { filterStorage } from './layers.js';

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export const CHECKPOINT_FORMAT = 'cse-autoloss-detector/1';
export const MANIFEST_FORMAT = 'cse-autoloss-checkpoint-manifest/1';

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

export interface CheckpointManifest {
  format: string;
  iteration: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

export class CheckpointError extends UserError {
  override name = 'CheckpointError';
}

/** Writes a file through a temporary name and fsyncs it before the rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function encode(named: { name: string; tensor: tf.Tensor }[]): Promise<{ data: Uint8Array; specs: tf.io.WeightsManifestEntry[] }> {
  const { data, specs } = await tf.io.encodeWeights(named);
  const buf = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return { data: new Uint8Array(buf as ArrayBuffer), specs };
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Saves the parameters (and optionally optimizer state) into `dir`, with a manifest of the files'
 * sizes and checksums written last. Not atomic as a set on its own: a training run uses
 * commitCheckpoint, which writes into a fresh folder and publishes it by renames.
 */
export async function saveCheckpoint(
  dir: string,
  ps: ParamStore,
  meta: Omit<CheckpointMeta, 'format'>,
  optimizerWeights?: NamedTensor[],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: Record<string, string | Uint8Array> = {};
  const named = [...ps.vars.entries()].map(([name, tensor]) => ({ name, tensor: tensor as tf.Tensor }));
  const { data, specs } = await encode(named);
  files['weights.bin'] = data;
  if (optimizerWeights) {
    const o = await encode(optimizerWeights);
    files['optimizer.bin'] = o.data;
    files['optimizer.json'] = JSON.stringify({ weightsManifest: [{ paths: ['optimizer.bin'], weights: o.specs }] });
  }
  const json: ModelJson = { format: CHECKPOINT_FORMAT, ...meta, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] };
  files['model.json'] = JSON.stringify(json, null, 1);
  const manifest: CheckpointManifest = { format: MANIFEST_FORMAT, iteration: Number(meta.training.iter ?? 0), files: {} };
  for (const [name, content] of Object.entries(files)) {
    await writeFileAtomic(join(dir, name), content);
    manifest.files[name] = {
      bytes: typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength,
      sha256: sha256(content),
    };
  }
  await writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
}

/** The folder name of the checkpoint of an iteration. */
export const checkpointName = (iter: number) => `iter-${String(iter).padStart(7, '0')}`;

/**
 * Writes a checkpoint set into `checkpointsDir` atomically and makes it `latest`; keeps the
 * previous set (the fallback when the newest is damaged) and removes older ones and leftovers of
 * interrupted writes. Returns the new set's folder.
 */
export async function commitCheckpoint(
  checkpointsDir: string,
  ps: ParamStore,
  meta: Omit<CheckpointMeta, 'format'>,
  optimizerWeights?: NamedTensor[],
): Promise<string> {
  await mkdir(checkpointsDir, { recursive: true });
  const iter = Number(meta.training.iter ?? 0);
  const name = checkpointName(iter);
  const tmp = join(checkpointsDir, `.tmp-${name}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await saveCheckpoint(tmp, ps, meta, optimizerWeights);
  await fsyncDir(tmp);
  const final = join(checkpointsDir, name);
  await rm(final, { recursive: true, force: true }); // a set of this iteration from an interrupted run: same content
  await rename(tmp, final);
  const latest = join(checkpointsDir, 'latest');
  let previous: string | null = null;
  const st = await lstat(latest).catch(() => null);
  if (st?.isSymbolicLink()) previous = basename(await readlink(latest));
  else if (st?.isDirectory()) {
    // a checkpoint folder of the earlier layout: keep it as a set of its own
    previous = 'legacy-latest';
    await rm(join(checkpointsDir, previous), { recursive: true, force: true });
    await rename(latest, join(checkpointsDir, previous));
  } else if (st) throw new CheckpointError(`${latest} is neither a checkpoint folder nor a link to one`);
  const link = join(checkpointsDir, `.latest-${process.pid}`);
  await rm(link, { force: true });
  await symlink(name, link);
  await rename(link, latest);
  await fsyncDir(checkpointsDir);
  for (const entry of await readdir(checkpointsDir)) {
    if (entry === name || entry === 'latest' || entry === previous) continue;
    if (entry.startsWith('iter-') || entry.startsWith('.tmp-') || entry.startsWith('.latest-'))
      await rm(join(checkpointsDir, entry), { recursive: true, force: true });
  }
  return final;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // some file systems cannot fsync a directory; the renames are still ordered
  } finally {
    await fh.close();
  }
}

function folderOf(path: string): string {
  return path.endsWith('.json') ? dirname(path) : path;
}

/**
 * Checks a checkpoint folder against its manifest (every file present, with its size and
 * SHA-256). Returns null when intact, else what is wrong. A folder without a manifest (the
 * earlier layout, or a hand-made checkpoint) passes when its model.json exists.
 */
export async function verifyCheckpoint(path: string): Promise<string | null> {
  const dir = folderOf(path);
  if (!existsSync(dir)) return `${dir} does not exist`;
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf)) return existsSync(join(dir, 'model.json')) ? null : `no model.json in ${dir}`;
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(await readFile(mf, 'utf8')) as CheckpointManifest;
  } catch (e) {
    return `manifest.json is not valid JSON (${(e as Error).message})`;
  }
  if (manifest.format !== MANIFEST_FORMAT || typeof manifest.files !== 'object') return `manifest.json is not a checkpoint manifest`;
  for (const [name, want] of Object.entries(manifest.files)) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, name));
    } catch {
      return `${name} is missing`;
    }
    if (data.byteLength !== want.bytes) return `${name} has ${data.byteLength} bytes, the manifest says ${want.bytes}`;
    if (sha256(data) !== want.sha256) return `${name} does not match its checksum`;
  }
  return null;
}

/** The intact checkpoint sets in a checkpoints folder, newest first (iteration and path). */
export async function intactCheckpoints(checkpointsDir: string): Promise<{ iter: number; dir: string }[]> {
  if (!existsSync(checkpointsDir)) return [];
  const found: { iter: number; dir: string }[] = [];
  for (const entry of await readdir(checkpointsDir)) {
    if (!/^iter-\d+$/.test(entry) && entry !== 'legacy-latest') continue;
    const dir = join(checkpointsDir, entry);
    if ((await verifyCheckpoint(dir)) !== null) continue;
    try {
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelJson;
      found.push({ iter: Number(json.training?.iter ?? 0), dir });
    } catch {
      // not readable: not offered
    }
  }
  return found.sort((a, b) => b.iter - a.iter);
}

/** Refuses a damaged checkpoint by name, offering the newest intact one of the same run. */
async function refuseDamaged(path: string, problem: string): Promise<never> {
  const dir = folderOf(path);
  let offer = '';
  let shown = dir;
  const parent = dirname(dir);
  let real = dir;
  try {
    if (lstatSync(dir).isSymbolicLink()) {
      real = join(parent, await readlink(dir));
      shown = `${dir} (→ ${basename(real)})`;
    }
  } catch {
    // a dangling link: nothing to resolve
  }
  if (basename(parent) === 'checkpoints' || existsSync(join(parent, 'latest'))) {
    const good = (await intactCheckpoints(parent)).filter((c) => c.dir !== real);
    if (good.length)
      offer = `; the previous intact checkpoint is ${good[0]!.dir} (iteration ${good[0]!.iter}): resume from it with --resume-from ${good[0]!.dir}`;
  }
  throw new CheckpointError(`checkpoint ${shown} is damaged: ${problem}${offer}`);
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  weights: tf.NamedTensorMap;
}

/** Reads `model.json` + weights of a checkpoint folder (or a path to its model.json), verified against its manifest. */
export async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const file = path.endsWith('.json') ? path : join(path, 'model.json');
  const dir = dirname(file);
  if (!existsSync(file)) {
    if (existsSync(join(dir, 'manifest.json'))) await refuseDamaged(path, 'model.json is missing');
    throw new CheckpointError(`no checkpoint at ${path} (missing ${file})`);
  }
  const problem = await verifyCheckpoint(dir);
  if (problem) await refuseDamaged(path, problem);
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new CheckpointError(`${file}: not a JSON checkpoint (${(e as Error).message})`);
  }
  if (!json.weightsManifest?.length) throw new CheckpointError(`${file}: no weightsManifest`);
  const weights: tf.NamedTensorMap = {};
  try {
    for (const group of json.weightsManifest) {
      const bufs = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
      const total = Buffer.concat(bufs);
      const want = group.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
      if (total.byteLength !== want) throw new Error(`${group.paths.join(', ')} has ${total.byteLength} bytes, the weights need ${want}`);
      const ab = total.buffer.slice(total.byteOffset, total.byteOffset + total.byteLength) as ArrayBuffer;
      Object.assign(weights, tf.io.decodeWeights(ab, group.weights));
    }
  } catch (e) {
    tf.dispose(Object.values(weights));
    return refuseDamaged(path, (e as Error).message);
  }
  return { meta: { format: json.format, modelConfig: json.modelConfig, training: json.training ?? {} }, weights };
}

export async function readOptimizerState(dir: string): Promise<NamedTensor[] | null> {
  const file = join(dir, 'optimizer.json');
  if (!existsSync(file)) return null;
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as { weightsManifest: ModelJson['weightsManifest'] };
    const g = json.weightsManifest[0]!;
    const buf = await readFile(join(dir, g.paths[0]!));
    const map = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, g.weights);
    return g.weights.map((w) => ({ name: w.name, tensor: map[w.name]! }));
  } catch (e) {
    return refuseDamaged(dir, `optimizer state: ${(e as Error).message}`);
  }
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
