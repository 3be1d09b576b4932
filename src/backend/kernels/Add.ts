import { Add } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const addConfig = binaryKernel(Add, 'add', 'Tensor');
