import { ResizeBilinearGrad } from '@tensorflow/tfjs-core';
import type { ResizeBilinearGradAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { resizeBilinearGrad } from '../resize.js';

export const resizeBilinearGradConfig = kernel(ResizeBilinearGrad, (b, inputs, attrs) => {
  const x = req(inputs, 'images', ResizeBilinearGrad);
  const dy = req(inputs, 'dy', ResizeBilinearGrad);
  const { alignCorners, halfPixelCenters } = attrs as unknown as ResizeBilinearGradAttrs;
  return b.output(resizeBilinearGrad(b, dy, x, alignCorners, halfPixelCenters), 'float32');
});
