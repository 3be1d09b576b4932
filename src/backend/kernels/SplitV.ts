import { SplitV, backend_util, util } from '@tensorflow/tfjs-core';
import type { SplitVAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const splitVConfig = kernel(SplitV, (b, inputs, attrs) => {
  const x = req(inputs, 'x', SplitV);
  const { numOrSizeSplits, axis } = attrs as unknown as SplitVAttrs;
  const $axis = util.parseAxisParam(axis, x.shape)[0] as number;
  const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
  const outs: TensorInfo[] = [];
  let start = 0;
  for (const s of sizes) {
    outs.push(b.output(b.call(aten('slice', 'Tensor'), b.id(x), $axis, start, start + s, 1), x.dtype));
    start += s;
  }
  return outs;
});
