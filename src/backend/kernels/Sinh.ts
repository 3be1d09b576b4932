import { Sinh } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const sinhConfig = unaryKernel(Sinh, 'sinh', [], 'float32');
