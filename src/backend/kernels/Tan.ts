import { Tan } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const tanConfig = unaryKernel(Tan, 'tan', [], 'float32');
