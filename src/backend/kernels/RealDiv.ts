import { RealDiv } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const realDivConfig = binaryKernel(RealDiv, 'div', 'Tensor');
