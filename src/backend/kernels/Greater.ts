import { Greater } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const greaterConfig = binaryKernel(Greater, 'gt', 'Tensor', 'bool');
