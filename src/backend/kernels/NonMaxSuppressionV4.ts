import { NonMaxSuppressionV4, kernel_impls } from '@tensorflow/tfjs-core';
import type { NonMaxSuppressionV4Attrs, TypedArray } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { NDType } from '../native.js';

export const nonMaxSuppressionV4Config = kernel(NonMaxSuppressionV4, (b, inputs, attrs) => {
  const boxes = req(inputs, 'boxes', NonMaxSuppressionV4);
  const scores = req(inputs, 'scores', NonMaxSuppressionV4);
  const { maxOutputSize, iouThreshold, scoreThreshold, padToMaxOutputSize } = attrs as unknown as NonMaxSuppressionV4Attrs;
  const { selectedIndices, validOutputs } = kernel_impls.nonMaxSuppressionV4Impl(
    b.readSync(boxes.dataId) as TypedArray,
    b.readSync(scores.dataId) as TypedArray,
    maxOutputSize,
    iouThreshold,
    scoreThreshold,
    padToMaxOutputSize,
  );
  return [
    b.output(b.constant(Int32Array.from(selectedIndices), [selectedIndices.length], NDType.I32), 'int32'),
    b.output(b.constant(Int32Array.of(Number(validOutputs)), [], NDType.I32), 'int32'),
  ];
});
