/**
 * The box parts of the reg mode's variables: intersection I, union U and enclosing-box area E of a
 * predicted and a target box (x1, y1, x2, y2), as the public reg_loss computes them, and their
 * gradient with respect to the predicted box. CPV's regression grid, the simplifier's sample
 * points and the MOS regression problem use them.
 */

export type Box = [number, number, number, number];

/** I, U, E as the public reg_loss computes them (eps 1e-7). */
export function boxIUE(p: Box | Float64Array, t: Box | Float64Array, eps = 1e-7): { I: number; U: number; E: number } {
  const iw = Math.max(Math.min(p[2]!, t[2]!) - Math.max(p[0]!, t[0]!), 0);
  const ih = Math.max(Math.min(p[3]!, t[3]!) - Math.max(p[1]!, t[1]!), 0);
  const I = iw * ih;
  const ap = (p[2]! - p[0]!) * (p[3]! - p[1]!);
  const ag = (t[2]! - t[0]!) * (t[3]! - t[1]!);
  const ew = Math.max(Math.max(p[2]!, t[2]!) - Math.min(p[0]!, t[0]!), 0);
  const eh = Math.max(Math.max(p[3]!, t[3]!) - Math.min(p[1]!, t[1]!), 0);
  return { I, U: ap + ag - I + eps, E: ew * eh + eps };
}

/**
 * d(U, I, E)/d(pred x1, y1, x2, y2) (the box areas of boxIUE), combined with upstream gradients
 * gU, gI, gE into out[0..3]. Clamps pass the gradient where their input is ≥ 0, as torch's do.
 */
export function boxIUEGrad(
  p: ArrayLike<number>,
  t: ArrayLike<number>,
  gU: number,
  gI: number,
  gE: number,
  out: { [j: number]: number },
): void {
  const [px1, py1, px2, py2] = [p[0]!, p[1]!, p[2]!, p[3]!];
  const [tx1, ty1, tx2, ty2] = [t[0]!, t[1]!, t[2]!, t[3]!];
  const iw = Math.min(px2, tx2) - Math.max(px1, tx1);
  const ih = Math.min(py2, ty2) - Math.max(py1, ty1);
  const ciw = Math.max(iw, 0);
  const cih = Math.max(ih, 0);
  // Clamp at 0 passes the gradient where its input is ≥ 0 (torch's clamp backward).
  const dIw = iw >= 0 ? cih : 0;
  const dIh = ih >= 0 ? ciw : 0;
  const dI = [px1 > tx1 ? -dIw : 0, py1 > ty1 ? -dIh : 0, px2 < tx2 ? dIw : 0, py2 < ty2 ? dIh : 0];
  const pw = px2 - px1;
  const ph = py2 - py1;
  const dAp = [-ph, -pw, ph, pw];
  const ew = Math.max(px2, tx2) - Math.min(px1, tx1);
  const eh = Math.max(py2, ty2) - Math.min(py1, ty1);
  const dE = [px1 < tx1 ? -eh : 0, py1 < ty1 ? -ew : 0, px2 > tx2 ? eh : 0, py2 > ty2 ? ew : 0];
  for (let j = 0; j < 4; j++) out[j] = gU * (dAp[j]! - dI[j]!) + gI * dI[j]! + gE * dE[j]!;
}
