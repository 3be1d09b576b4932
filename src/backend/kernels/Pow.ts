import { Pow } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const powConfig = binaryKernel(Pow, 'pow', 'Tensor_Tensor');
