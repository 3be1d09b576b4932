import { Selu } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const seluConfig = unaryKernel(Selu, 'selu', [], 'float32');
