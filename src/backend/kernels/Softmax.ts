import { Softmax } from '@tensorflow/tfjs-core';
import type { SoftmaxAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const softmaxConfig = kernel(Softmax, (b, inputs, attrs) => {
  const x = req(inputs, 'logits', Softmax);
  const { dim } = attrs as unknown as SoftmaxAttrs;
  return b.output(b.call(aten('softmax', 'int'), b.id(x), dim), x.dtype);
});
