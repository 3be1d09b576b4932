import { ResizeNearestNeighbor } from '@tensorflow/tfjs-core';
import type { ResizeNearestNeighborAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { resizeNearest } from '../resize.js';

export const resizeNearestNeighborConfig = kernel(ResizeNearestNeighbor, (b, inputs, attrs) => {
  const x = req(inputs, 'images', ResizeNearestNeighbor);
  const { alignCorners, halfPixelCenters, size } = attrs as unknown as ResizeNearestNeighborAttrs;
  return b.output(resizeNearest(b, x, size, alignCorners, halfPixelCenters), x.dtype);
});
