import { Sin } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const sinConfig = unaryKernel(Sin, 'sin', [], 'float32');
