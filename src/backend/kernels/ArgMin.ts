import { ArgMin } from '@tensorflow/tfjs-core';
import { argReduceKernel } from '../reduce.js';

export const argMinConfig = argReduceKernel(ArgMin, 'argmin');
