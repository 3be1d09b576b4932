import { LogicalAnd } from '@tensorflow/tfjs-core';
import { binaryKernel } from '../kernel_utils.js';

export const logicalAndConfig = binaryKernel(LogicalAnd, 'logical_and', '', 'bool');
