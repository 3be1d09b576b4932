import { Acosh } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const acoshConfig = unaryKernel(Acosh, 'acosh', [], 'float32');
