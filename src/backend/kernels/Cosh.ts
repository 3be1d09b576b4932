import { Cosh } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const coshConfig = unaryKernel(Cosh, 'cosh', [], 'float32');
