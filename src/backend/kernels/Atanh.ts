import { Atanh } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const atanhConfig = unaryKernel(Atanh, 'atanh', [], 'float32');
