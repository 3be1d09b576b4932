import { ResizeBilinear } from '@tensorflow/tfjs-core';
import type { ResizeBilinearAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { resizeBilinear } from '../resize.js';

export const resizeBilinearConfig = kernel(ResizeBilinear, (b, inputs, attrs) => {
  const x = req(inputs, 'images', ResizeBilinear);
  const { alignCorners, halfPixelCenters, size } = attrs as unknown as ResizeBilinearAttrs;
  return b.output(resizeBilinear(b, x, size, alignCorners, halfPixelCenters), 'float32');
});
