import { NonMaxSuppressionV3, kernel_impls } from '@tensorflow/tfjs-core';
import type { NonMaxSuppressionV3Attrs, TypedArray } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { NDType } from '../native.js';

/** Greedy NMS on the CPU (tfjs-core's reference implementation over the boxes read back). */
export const nonMaxSuppressionV3Config = kernel(NonMaxSuppressionV3, (b, inputs, attrs) => {
  const boxes = req(inputs, 'boxes', NonMaxSuppressionV3);
  const scores = req(inputs, 'scores', NonMaxSuppressionV3);
  const { maxOutputSize, iouThreshold, scoreThreshold } = attrs as unknown as NonMaxSuppressionV3Attrs;
  const { selectedIndices } = kernel_impls.nonMaxSuppressionV3Impl(
    b.readSync(boxes.dataId) as TypedArray,
    b.readSync(scores.dataId) as TypedArray,
    maxOutputSize,
    iouThreshold,
    scoreThreshold,
  );
  return b.output(b.constant(Int32Array.from(selectedIndices), [selectedIndices.length], NDType.I32), 'int32');
});
