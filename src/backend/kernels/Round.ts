import { Round } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const roundConfig = unaryKernel(Round, 'round');
