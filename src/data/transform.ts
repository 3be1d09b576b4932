/**
 * The per-image part of the input pipeline, pure functions of their arguments (so the same
 * result comes out in the main thread and in the read-ahead worker):
 * resize keeping the aspect ratio (bilinear, half-pixel centres), optional horizontal
 * flip, per-channel normalisation, zero padding at the right and bottom.
 */

/** Per-channel mean and std in 0..255 pixel units (RGB). */
export interface Normalization {
  mean: [number, number, number];
  std: [number, number, number];
}

/** ImageNet statistics, the usual choice for detection backbones. */
export const IMAGENET_NORMALIZATION: Normalization = {
  mean: [123.675, 116.28, 103.53],
  std: [58.395, 57.12, 57.375],
};

/** How one image is placed into the network input. */
export interface ResizePlan {
  /** input px = original px * scale (both axes). */
  scale: number;
  /** Size of the resized content (top-left of the padded input). */
  width: number;
  height: number;
}

/** The largest scale at which a w x h image fits inside maxW x maxH. */
export function planResize(w: number, h: number, maxW: number, maxH: number): ResizePlan {
  const scale = Math.min(maxW / w, maxH / h);
  return {
    scale,
    width: Math.max(1, Math.min(maxW, Math.round(w * scale))),
    height: Math.max(1, Math.min(maxH, Math.round(h * scale))),
  };
}

/**
 * Writes one image into `out` (a [padH, padW, 3] float32 slice, already zero-filled):
 * bilinear resize of `rgb` ([h, w, 3] uint8) by plan.scale, mirrored left-right when `flip`,
 * normalised. Padding stays 0 (= the mean colour after normalisation).
 */
export function renderInput(
  rgb: Uint8Array,
  w: number,
  h: number,
  plan: ResizePlan,
  flip: boolean,
  norm: Normalization,
  out: Float32Array,
  padW: number,
): void {
  const { scale, width: ow, height: oh } = plan;
  const inv = 1 / scale;
  const [m0, m1, m2] = norm.mean;
  const s0 = 1 / norm.std[0];
  const s1 = 1 / norm.std[1];
  const s2 = 1 / norm.std[2];
  // Horizontal sample positions once per column.
  const xi0 = new Int32Array(ow);
  const xi1 = new Int32Array(ow);
  const xf = new Float32Array(ow);
  for (let x = 0; x < ow; x++) {
    let sx = (x + 0.5) * inv - 0.5;
    if (sx < 0) sx = 0;
    if (sx > w - 1) sx = w - 1;
    const x0 = Math.floor(sx);
    xi0[x] = x0 * 3;
    xi1[x] = Math.min(x0 + 1, w - 1) * 3;
    xf[x] = sx - x0;
  }
  for (let y = 0; y < oh; y++) {
    let sy = (y + 0.5) * inv - 0.5;
    if (sy < 0) sy = 0;
    if (sy > h - 1) sy = h - 1;
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    const r0 = y0 * w * 3;
    const r1 = y1 * w * 3;
    const rowOut = y * padW * 3;
    for (let x = 0; x < ow; x++) {
      const fx = xf[x]!;
      const a = r0 + xi0[x]!;
      const b = r0 + xi1[x]!;
      const c = r1 + xi0[x]!;
      const d = r1 + xi1[x]!;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const dx = flip ? ow - 1 - x : x;
      const o = rowOut + dx * 3;
      out[o] = (rgb[a]! * w00 + rgb[b]! * w01 + rgb[c]! * w10 + rgb[d]! * w11 - m0) * s0;
      out[o + 1] = (rgb[a + 1]! * w00 + rgb[b + 1]! * w01 + rgb[c + 1]! * w10 + rgb[d + 1]! * w11 - m1) * s1;
      out[o + 2] = (rgb[a + 2]! * w00 + rgb[b + 2]! * w01 + rgb[c + 2]! * w10 + rgb[d + 2]! * w11 - m2) * s2;
    }
  }
}

/**
 * Boxes [x, y, w, h] in original pixels -> x1y1x2y2 in input pixels under the plan (and the
 * flip, which mirrors within the resized content width).
 */
export function transformBoxes(boxes: readonly (readonly number[])[], plan: ResizePlan, flip: boolean): Float32Array {
  const out = new Float32Array(boxes.length * 4);
  const s = plan.scale;
  boxes.forEach((b, i) => {
    let x1 = b[0]! * s;
    let x2 = (b[0]! + b[2]!) * s;
    const y1 = b[1]! * s;
    const y2 = (b[1]! + b[3]!) * s;
    if (flip) {
      const f1 = plan.width - x2;
      const f2 = plan.width - x1;
      x1 = f1;
      x2 = f2;
    }
    out[i * 4] = x1;
    out[i * 4 + 1] = y1;
    out[i * 4 + 2] = x2;
    out[i * 4 + 3] = y2;
  });
  return out;
}
