import { Asinh } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const asinhConfig = unaryKernel(Asinh, 'asinh', [], 'float32');
