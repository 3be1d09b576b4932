/**
 * Loads the libtorch addon (native/torch_addon.cc) lazily and exposes ATen operators by schema
 * name. Nothing here knows about TensorFlow.js.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
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
}

/** A native tensor as returned by an operator call. */
export interface NativeTensor {
  id: number;
  dtype: NDType;
  shape: number[];
}

let addon: NativeAddon | null = null;

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cse-autoloss: cannot find the package root (binding.gyp) above ' + fileURLToPath(import.meta.url));
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
  // libgomp's worker threads spin while they wait for work by default. When more runnable threads
  // than cores exist (a search pool, other processes), spinning threads starve the ones doing the
  // work and a training step gets 10x slower or worse. Passive waiting costs little when the
  // machine is idle, so it is the default; set OMP_WAIT_POLICY yourself to choose otherwise.
  // (libgomp reads it when libtorch loads it, i.e. on the require below.)
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
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
