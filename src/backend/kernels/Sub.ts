import { Sub } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const subConfig = binaryKernel(Sub, 'sub', 'Tensor');
