import { Softplus } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

/** log(1 + exp(x)), x itself above 20 (torch's threshold). */
export const softplusConfig = unaryKernel(Softplus, 'softplus', [], 'float32');
