import { NonMaxSuppressionV5, kernel_impls } from '@tensorflow/tfjs-core';
import type { NonMaxSuppressionV5Attrs, TypedArray } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { NDType } from '../native.js';

export const nonMaxSuppressionV5Config = kernel(NonMaxSuppressionV5, (b, inputs, attrs) => {
  const boxes = req(inputs, 'boxes', NonMaxSuppressionV5);
  const scores = req(inputs, 'scores', NonMaxSuppressionV5);
  const { maxOutputSize, iouThreshold, scoreThreshold, softNmsSigma } = attrs as unknown as NonMaxSuppressionV5Attrs;
  const { selectedIndices, selectedScores } = kernel_impls.nonMaxSuppressionV5Impl(
    b.readSync(boxes.dataId) as TypedArray,
    b.readSync(scores.dataId) as TypedArray,
    maxOutputSize,
    iouThreshold,
    scoreThreshold,
    softNmsSigma,
  );
  return [
    b.output(b.constant(Int32Array.from(selectedIndices), [selectedIndices.length], NDType.I32), 'int32'),
    b.output(b.constant(Float32Array.from(selectedScores ?? []), [selectedScores?.length ?? 0], NDType.F32), 'float32'),
  ];
});
