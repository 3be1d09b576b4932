import { IsNan } from '@tensorflow/tfjs-core';
import { unaryKernel } from '../kernel_utils.js';

export const isNanConfig = unaryKernel(IsNan, 'isnan', [], 'bool');
