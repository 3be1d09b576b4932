import { NotEqual } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const notEqualConfig = binaryKernel(NotEqual, 'ne', 'Tensor', 'bool');
