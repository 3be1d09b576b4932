import { Minimum } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const minimumConfig = binaryKernel(Minimum, 'minimum', '');
