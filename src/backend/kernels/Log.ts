import { Log } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const logConfig = unaryKernel(Log, 'log', [], 'float32');
