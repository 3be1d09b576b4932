import { Less } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const lessConfig = binaryKernel(Less, 'lt', 'Tensor', 'bool');
