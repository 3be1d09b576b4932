/**
 * Loads the libtorch addon (native/torch_addon.cc) lazily and exposes ATen operators by schema
 * name. Nothing here knows about TensorFlow.js.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dtype codes shared with the addon. */
export const enum NDType {
  F32 = 0,
  I32 = 1,
  Bool = 2,
  I64 = 3,
  F64 = 4,
  U8 = 5,
}

/** ATen ScalarType enum values (c10/core/ScalarType.h), for `ScalarType dtype` arguments. */
export const ScalarType = { uint8: 0, int32: 3, int64: 4, float32: 6, float64: 7, bool: 11 } as const;
/** ATen MemoryFormat enum values. */
export const MemoryFormat = { contiguous: 0, preserve: 1, channelsLast: 2 } as const;

export interface NativeAddon {
  opHandle(name: string, overload: string): number;
  schema(handle: number): string;
  call(handle: number, args: unknown[]): number[];
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: number): number;
  toBuffer(id: number): Float32Array | Int32Array | Uint8Array | Float64Array | BigInt64Array;
  free(id: number): boolean;
  info(id: number): number[];
  numTensors(): number;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  setDevice(device: string): void;
  hasCuda(): boolean;
  setMkldnn(enabled: boolean): boolean;
  /** Starts timing every ATen operator call (inclusive: nested operators count in each). */
  profileStart(parents?: boolean): void;
  /** Stops timing; flat [name, calls, total microseconds, ...]. */
  profileStop(): (string | number)[];
}

/** A native tensor as returned by an operator call. */
export interface NativeTensor {
  id: number;
  dtype: NDType;
  shape: number[];
}

let addon: NativeAddon | null = null;

/** The addon when it is already loaded, else null (never loads it: for provenance records). */
export function loadedAddon(): NativeAddon | null {
  return addon;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cse-autoloss: cannot find the package root (binding.gyp) above ' + fileURLToPath(import.meta.url));
}

/** libgomp's spin count before an idle worker thread sleeps, on a machine that is not busy. */
export const DEFAULT_GOMP_SPINCOUNT = 30_000;

/**
 * How libgomp's idle worker threads should wait for the next parallel region, unless the user set
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT (then null: theirs stands).
 * - Sleeping at once (PASSIVE) costs a futex wake-up per parallel region: a cpu-small FCOS step
 *   has hundreds of them, and took ~260-300 ms instead of ~205-220 ms (bench:threading).
 * - Spinning without bound (ACTIVE), or long (libgomp's default of 300k spins), collapses when
 *   more runnable threads than cores exist: 10-20x slower with two busy processes alongside.
 * So: a short spin (30k) when the machine is not busy (1-minute load below half the cores), which
 * keeps the threads awake across a step's short serial gaps; PASSIVE when it is busy.
 */
export function ompWaitSetting(env: NodeJS.ProcessEnv, load1: number, cores: number): { name: string; value: string } | null {
  if (env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) return null;
  if (load1 >= cores / 2) return { name: 'OMP_WAIT_POLICY', value: 'PASSIVE' };
  return { name: 'GOMP_SPINCOUNT', value: String(DEFAULT_GOMP_SPINCOUNT) };
}

/** The addon, loaded on first use. Throws a clear error when it is not built or libtorch is missing. */
export function native(): NativeAddon {
  if (addon) return addon;
  const root = packageRoot();
  const file = process.env.CSE_TORCH_ADDON ?? join(root, 'build', 'Release', 'torch_addon.node');
  if (!existsSync(file)) {
    throw new Error(
      `the libtorch addon is not built (${file} is missing). Run \`bash scripts/setup.sh\` ` +
        '(it installs Debian libtorch-dev when needed and builds the addon; set LIBTORCH=/path/to/libtorch to use another libtorch).',
    );
  }
  // libgomp reads OMP_WAIT_POLICY / GOMP_SPINCOUNT when libtorch loads it, i.e. on the require below.
  const wait = ompWaitSetting(process.env, loadavg()[0] ?? 0, availableParallelism());
  if (wait) process.env[wait.name] = wait.value;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    const msg = (err as Error).message;
    const hint = /libtorch|libc10|cannot open shared object/.test(msg)
      ? ' libtorch cannot be loaded: install it (`apt-get install libtorch-dev`) or set LIBTORCH to a libtorch directory and rebuild with `bash scripts/setup.sh`.'
      : '';
    throw new Error(`cannot load the libtorch addon ${file}: ${msg}.${hint}`);
  }
  return addon;
}

/** A floating-point Scalar argument even for an integral value (plain integral numbers become int scalars). */
export function dbl(x: number): { d: number } {
  return { d: x };
}

/** An ATen operator resolved once by schema name and overload, e.g. aten('add', 'Tensor'). */
export interface AtenOp {
  (...args: unknown[]): number[];
  readonly opName: string;
}

const opCache = new Map<string, AtenOp>();

export function aten(name: string, overload = ''): AtenOp {
  const key = `${name}.${overload}`;
  let op = opCache.get(key);
  if (op) return op;
  const n = native();
  const handle = n.opHandle(`aten::${name}`, overload);
  const call = n.call;
  const fn = ((...args: unknown[]) => call(handle, args)) as AtenOp;
  Object.defineProperty(fn, 'opName', { value: overload ? `aten::${name}.${overload}` : `aten::${name}` });
  op = fn;
  opCache.set(key, op);
  return op;
}

/** Decodes the flat result array of an operator call into tensors (in order). */
export function decodeTensors(flat: number[]): NativeTensor[] {
  const out: NativeTensor[] = [];
  let i = 0;
  while (i < flat.length) {
    const tag = flat[i] as number;
    if (tag === -2) {
      i += 2; // list header: the tensors follow
    } else if (tag === -1) {
      i += 2;
    } else if (tag === -3) {
      i += 1;
    } else {
      const ndim = flat[i + 2] as number;
      out.push({ id: tag, dtype: flat[i + 1] as NDType, shape: flat.slice(i + 3, i + 3 + ndim) });
      i += 3 + ndim;
    }
  }
  return out;
}
