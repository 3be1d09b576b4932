import { UnsortedSegmentSum, util } from '@tensorflow/tfjs-core';
import type { UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten, ScalarType } from '../native.js';

export const unsortedSegmentSumConfig = kernel(UnsortedSegmentSum, (b, inputs, attrs) => {
  const x = req(inputs, 'x', UnsortedSegmentSum);
  const segmentIds = req(inputs, 'segmentIds', UnsortedSegmentSum);
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  const lead = segmentIds.shape.length;
  const n = util.sizeFromShape(segmentIds.shape);
  const rest = x.shape.slice(lead);
  const x2 = b.call(aten('reshape'), b.id(x), [n, util.sizeFromShape(rest)]);
  const ids = b.cast(b.call(aten('reshape'), b.id(segmentIds), [n]), 'int64');
  // Negative ids are dropped (as tfjs): they go to one extra segment that is cut off.
  const neg = b.call(aten('lt', 'Scalar'), ids.id, 0);
  const routed = b.call(aten('masked_fill', 'Scalar'), ids.id, neg.id, numSegments);
  const zeros = b.call(aten('zeros'), [numSegments + 1, util.sizeFromShape(rest)], ScalarType[x.dtype as keyof typeof ScalarType]);
  const sums = b.call(aten('index_add'), zeros.id, 0, routed.id, x2.id);
  const out = b.call(aten('slice', 'Tensor'), sums.id, 0, 0, numSegments, 1);
  return b.output(b.call(aten('reshape'), out.id, [numSegments, ...rest]), x.dtype);
});
