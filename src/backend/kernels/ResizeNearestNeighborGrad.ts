import { ResizeNearestNeighborGrad } from '@tensorflow/tfjs-core';
import type { ResizeNearestNeighborGradAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { resizeNearestGrad } from '../resize.js';

export const resizeNearestNeighborGradConfig = kernel(ResizeNearestNeighborGrad, (b, inputs, attrs) => {
  const x = req(inputs, 'images', ResizeNearestNeighborGrad);
  const dy = req(inputs, 'dy', ResizeNearestNeighborGrad);
  const { alignCorners, halfPixelCenters } = attrs as unknown as ResizeNearestNeighborGradAttrs;
  return b.output(resizeNearestGrad(b, dy, x, alignCorners, halfPixelCenters), 'float32');
});
