import { Conv2DBackpropInput, backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { conv2dBackpropInput } from '../conv.js';
import { kernel, req } from '../kernel_utils.js';

export const conv2DBackpropInputConfig = kernel(Conv2DBackpropInput, (b, inputs, attrs) => {
  const dy = req(inputs, 'dy', Conv2DBackpropInput);
  const filter = req(inputs, 'filter', Conv2DBackpropInput);
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  return b.output(conv2dBackpropInput(b, dy, filter, info, false), dy.dtype);
});
