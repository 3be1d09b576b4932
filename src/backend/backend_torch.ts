/**
 * The TensorFlow.js backend `torch`: tensor storage in libtorch through the native addon.
 * Each tfjs dataId maps to exactly one native tensor (possibly a view sharing storage with
 * another one; tfjs tensors are immutable, so sharing is safe).
 */
import { KernelBackend, util } from '@tensorflow/tfjs-core';
import type { BackendTimingInfo, BackendValues, DataId, DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { aten, decodeTensors, NDType, native, ScalarType } from './native.js';
import type { AtenOp, NativeAddon, NativeTensor } from './native.js';

interface Entry {
  id: number; // native tensor id
  refCount: number;
  shape: number[];
  dtype: DataType;
}

const NDTYPE: Record<string, NDType> = { float32: NDType.F32, int32: NDType.I32, bool: NDType.Bool };

function tfDtypeOf(nd: NDType): DataType {
  switch (nd) {
    case NDType.F32:
    case NDType.F64:
      return 'float32';
    case NDType.I32:
    case NDType.I64:
      return 'int32';
    default:
      return 'bool';
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class TorchBackend extends KernelBackend {
  readonly n: NativeAddon;
  private data = new WeakMap<DataId, Entry>();
  /** Native tensors attached to a dataId and freed with it (max-pool argmax indices for the gradient). */
  private sidecars = new WeakMap<DataId, number>();
  private count = 0;
  private bytes = 0;
  /** Native ids created while a kernel runs; freed when it returns unless handed out as outputs. */
  private scratch: number[] | null = null;
  /**
   * A convolution's filter gradient computed together with its input gradient (one ATen call for
   * both), waiting for the Conv2DBackpropFilter kernel that tfjs runs next for the same x and dy.
   * One slot: a new stash, or disposing that x or dy, frees an unclaimed one.
   */
  private filterGradStash: { x: DataId; dy: DataId; key: string; id: number } | null = null;

  constructor() {
    super();
    this.n = native();
  }

  // ---- storage ----

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = {};
    this.writeTo(dataId, values, shape, dtype, 1);
    return dataId;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.writeTo(dataId, values, shape, dtype, refCount);
  }

  private writeTo(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    const code = NDTYPE[dtype];
    if (code === undefined) {
      throw new Error(`torch backend: dtype '${dtype}' is not supported (float32, int32 and bool are)`);
    }
    const size = util.sizeFromShape(shape);
    let buf: ArrayBufferView;
    if (values == null) {
      buf = dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
    } else if (dtype === 'float32') {
      buf = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    } else if (dtype === 'int32') {
      buf = values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
    } else {
      buf = values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
    }
    const id = this.n.fromBuffer(buf, shape, code);
    this.data.set(dataId, { id, refCount, shape: shape.slice(), dtype });
    this.count++;
    this.bytes += size * (dtype === 'float32' || dtype === 'int32' ? 4 : 1);
  }

  override readSync(dataId: DataId): BackendValues {
    const e = this.entry(dataId);
    const buf = this.n.toBuffer(e.id);
    if (buf instanceof BigInt64Array || buf instanceof Float64Array) {
      throw new Error('torch backend: internal error, a 64-bit tensor was stored');
    }
    return buf;
  }

  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const e = this.data.get(dataId);
    if (!e) return true;
    e.refCount--;
    if (!force && e.refCount > 0) return false;
    this.n.free(e.id);
    const side = this.sidecars.get(dataId);
    if (side !== undefined) {
      this.n.free(side);
      this.sidecars.delete(dataId);
    }
    const st = this.filterGradStash;
    if (st && (st.x === dataId || st.dy === dataId)) {
      // nobody asked for that filter gradient (e.g. a gradient with respect to the input only)
      this.n.free(st.id);
      this.filterGradStash = null;
    }
    this.data.delete(dataId);
    this.count--;
    this.bytes -= util.sizeFromShape(e.shape) * (e.dtype === 'bool' ? 1 : 4);
    return true;
  }

  override refCount(dataId: DataId): number {
    return this.data.get(dataId)?.refCount ?? 0;
  }

  override incRef(dataId: DataId): void {
    const e = this.data.get(dataId);
    if (e) e.refCount++;
  }

  override numDataIds(): number {
    return this.count;
  }

  override memory(): { unreliable: boolean; reasons?: string[]; numBytesInTorch?: number } {
    return { unreliable: true, reasons: ['bytes are counted by the torch backend, not by the allocator'], numBytesInTorch: this.bytes };
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    const t0 = performance.now();
    f();
    return { kernelMs: performance.now() - t0 };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override dispose(): void {
    // Tensors are freed one by one through disposeData; nothing global to release here.
  }

  // ---- helpers for kernels ----

  entry(dataId: DataId): Entry {
    const e = this.data.get(dataId);
    if (!e) throw new Error('torch backend: tensor data not found (disposed, or made on another backend)');
    return e;
  }

  /** Takes a temporary of the current kernel out of its scratch list (it then outlives the kernel). */
  private claim(t: NativeTensor, what: string): void {
    const k = this.scratch ? this.scratch.lastIndexOf(t.id) : -1;
    if (k < 0) throw new Error(`torch backend: internal error, ${what}`);
    (this.scratch as number[])[k] = -1;
  }

  /**
   * Makes a kernel temporary the storage of `dataId` (same shape and dtype), freeing the old one:
   * an in-place update that was computed out of place (the fused optimizer step).
   */
  replaceStorage(dataId: DataId, t: NativeTensor): void {
    const e = this.entry(dataId);
    if (!sameShape(e.shape, t.shape) || NDTYPE[e.dtype] !== t.dtype)
      throw new Error('torch backend: internal error, replaceStorage needs the same shape and dtype');
    this.claim(t, 'only a kernel temporary can become storage');
    this.n.free(e.id);
    e.id = t.id;
  }

  /** The native id behind a tfjs tensor. */
  id(t: TensorInfo): number {
    return this.input(t).id;
  }

  /** Runs a kernel body, freeing every native temporary it made that did not become an output. */
  runKernel<T>(body: () => T): T {
    const outer = this.scratch;
    const mine: number[] = [];
    this.scratch = mine;
    try {
      return body();
    } finally {
      this.scratch = outer;
      for (const id of mine) if (id >= 0) this.n.free(id);
    }
  }

  /** Calls an ATen operator; returns all its tensor outputs (temporaries of the current kernel). */
  callAll(op: AtenOp, ...args: unknown[]): NativeTensor[] {
    const outs = decodeTensors(op(...args));
    if (this.scratch) for (const t of outs) this.scratch.push(t.id);
    return outs;
  }

  /**
   * Calls an operator; if oneDNN rejects the shapes ("could not create a descriptor"), runs it
   * again on ATen's own kernels.
   */
  callAllWithFallback(op: AtenOp, ...args: unknown[]): NativeTensor[] {
    try {
      return this.callAll(op, ...args);
    } catch (err) {
      if (!/could not create a descriptor/.test((err as Error).message)) throw err;
      const before = this.n.setMkldnn(false);
      try {
        return this.callAll(op, ...args);
      } finally {
        this.n.setMkldnn(before);
      }
    }
  }

  /** Calls an ATen operator with one tensor result (a temporary of the current kernel). */
  call(op: AtenOp, ...args: unknown[]): NativeTensor {
    const outs = this.callAll(op, ...args);
    const first = outs[0];
    if (!first) throw new Error(`${op.opName} returned no tensor`);
    return first;
  }

  /** Makes a native tensor from values (a temporary of the current kernel). */
  constant(values: Float32Array | Int32Array | Uint8Array | BigInt64Array, shape: number[], nd: NDType): NativeTensor {
    const id = this.n.fromBuffer(values, shape, nd);
    if (this.scratch) this.scratch.push(id);
    return { id, dtype: nd, shape };
  }

  /** Casts a native tensor to an ATen dtype (a temporary). */
  cast(t: NativeTensor, to: keyof typeof ScalarType): NativeTensor {
    return this.call(aten('_to_copy'), t.id, ScalarType[to]);
  }

  /**
   * Turns a native tensor into a tfjs output, converting 64-bit results to the tfjs dtype
   * (or to `dtype` when given).
   */
  output(t: NativeTensor, dtype?: DataType): TensorInfo {
    const want = dtype ?? tfDtypeOf(t.dtype);
    if (want === 'complex64' || want === 'string') throw new Error(`torch backend: dtype '${want}' is not supported`);
    let out = t;
    if (NDTYPE[want] !== t.dtype) out = this.cast(t, want as keyof typeof ScalarType);
    this.claim(out, 'a kernel output must be a fresh native tensor');
    const dataId = {};
    this.data.set(dataId, { id: out.id, refCount: 1, shape: out.shape, dtype: want });
    this.count++;
    this.bytes += util.sizeFromShape(out.shape) * (want === 'bool' ? 1 : 4);
    return { dataId, shape: out.shape, dtype: want };
  }

  /** Keeps a kernel temporary alive as long as `dataId` lives (it is freed with it). */
  attach(dataId: DataId, t: NativeTensor): void {
    this.claim(t, 'only a kernel temporary can be attached');
    const old = this.sidecars.get(dataId);
    if (old !== undefined) this.n.free(old);
    this.sidecars.set(dataId, t.id);
  }

  /** Keeps a kernel temporary (a filter gradient for x, dy, key) for `takeFilterGrad`. */
  stashFilterGrad(x: DataId, dy: DataId, key: string, t: NativeTensor): void {
    this.claim(t, 'only a kernel temporary can be stashed');
    if (this.filterGradStash) this.n.free(this.filterGradStash.id);
    this.filterGradStash = { x, dy, key, id: t.id };
  }

  /** The stashed filter gradient for exactly these x, dy and key, as a temporary of the current kernel. */
  takeFilterGrad(x: DataId, dy: DataId, key: string): NativeTensor | null {
    const s = this.filterGradStash;
    if (!s || s.x !== x || s.dy !== dy || s.key !== key || !this.scratch) return null;
    this.filterGradStash = null;
    this.scratch.push(s.id);
    const info = this.n.info(s.id);
    return { id: s.id, dtype: info[0] as NDType, shape: info.slice(1) };
  }

  /** The native tensor attached to `dataId`, if any. */
  sidecar(dataId: DataId): NativeTensor | null {
    const id = this.sidecars.get(dataId);
    if (id === undefined) return null;
    const info = this.n.info(id);
    return { id, dtype: info[0] as NDType, shape: info.slice(1) };
  }

  /** A tfjs input as a NativeTensor descriptor (not owned by the kernel). */
  input(t: TensorInfo): NativeTensor {
    const e = this.entry(t.dataId);
    const nd = NDTYPE[e.dtype] as NDType;
    // Reshape and Identity share a dataId between tensors of different shapes (as tfjs's CPU
    // backend does); such an input is viewed with its own shape here.
    if (!sameShape(e.shape, t.shape)) return this.call(aten('reshape'), e.id, t.shape);
    return { id: e.id, dtype: nd, shape: e.shape };
  }

  /** Output that shares the input's data (no native call): Identity and Reshape. */
  share(t: TensorInfo, shape: number[]): TensorInfo {
    this.incRef(t.dataId);
    return { dataId: t.dataId, shape, dtype: t.dtype };
  }
}
