import { FloorDiv } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const floorDivConfig = kernel(FloorDiv, (b, inputs) => {
  const a = req(inputs, 'a', FloorDiv);
  const c = req(inputs, 'b', FloorDiv);
  // tfjs's floorDiv is int32 whatever its inputs.
  return b.output(b.call(aten('div', 'Tensor_mode'), b.id(a), b.id(c), 'floor'), 'int32');
});
