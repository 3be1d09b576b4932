import { Tanh } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const tanhConfig = unaryKernel(Tanh, 'tanh', [], 'float32');
