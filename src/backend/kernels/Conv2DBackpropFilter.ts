import { Conv2DBackpropFilter, backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilter, filterGradKey } from '../conv.js';
import { kernel, req } from '../kernel_utils.js';

export const conv2DBackpropFilterConfig = kernel(Conv2DBackpropFilter, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Conv2DBackpropFilter);
  const dy = req(inputs, 'dy', Conv2DBackpropFilter);
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  // computed already, together with the input gradient (gradients.ts: the Conv2D gradient)
  const stashed = b.takeFilterGrad(x.dataId, dy.dataId, filterGradKey(strides, pad, dataFormat, dimRoundingMode, filterShape));
  if (stashed) return b.output(stashed, x.dtype);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  return b.output(conv2dBackpropFilter(b, x, dy, info, filterShape, false), x.dtype);
});
