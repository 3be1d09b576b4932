import { Atan } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const atanConfig = unaryKernel(Atan, 'atan', [], 'float32');
