/**
 * The project's one box IoU, for corner boxes (x1, y1, x2, y2) stored at offsets `ao` and `bo`
 * of flat arrays: intersection over union, 0 when the boxes do not overlap or the union is not
 * positive; areas count negative extents as 0. Computed in doubles; callers that store float32
 * round the result once.
 *
 * Two other overlaps stay separate on purpose, because their semantics differ:
 * - eval/cocoeval.ts reproduces pycocotools' `bbIou` on (x, y, w, h) boxes, where a crowd
 *   ground truth divides by the detection's area instead of the union;
 * - loss/box_iue.ts computes a loss's inputs I, U and E (and their gradients) with the loss's own
 *   conventions, not an IoU.
 */
export function cornerIou(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
  const iw = Math.min(a[ao + 2]!, b[bo + 2]!) - Math.max(a[ao]!, b[bo]!);
  const ih = Math.min(a[ao + 3]!, b[bo + 3]!) - Math.max(a[ao + 1]!, b[bo + 1]!);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const areaA = Math.max(0, a[ao + 2]! - a[ao]!) * Math.max(0, a[ao + 3]! - a[ao + 1]!);
  const areaB = Math.max(0, b[bo + 2]! - b[bo]!) * Math.max(0, b[bo + 3]! - b[bo + 1]!);
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}
