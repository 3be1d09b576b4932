import { Multiply } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const multiplyConfig = binaryKernel(Multiply, 'mul', 'Tensor');
