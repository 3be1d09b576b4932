import { Conv2DBackpropFilter, backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilter } from '../conv.js';
import { kernel, req } from '../kernel_utils.js';

export const conv2DBackpropFilterConfig = kernel(Conv2DBackpropFilter, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Conv2DBackpropFilter);
  const dy = req(inputs, 'dy', Conv2DBackpropFilter);
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  return b.output(conv2dBackpropFilter(b, x, dy, info, filterShape, false), x.dtype);
});
