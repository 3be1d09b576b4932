import { Conv2D, backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DAttrs } from '@tensorflow/tfjs-core';
import { conv2d } from '../conv.js';
import { kernel, req } from '../kernel_utils.js';

export const conv2DConfig = kernel(Conv2D, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Conv2D);
  const filter = req(inputs, 'filter', Conv2D);
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  return b.output(conv2d(b, { x, filter, info, depthwise: false }), x.dtype);
});
