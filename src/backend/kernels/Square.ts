import { Square } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const squareConfig = unaryKernel(Square, 'square');
