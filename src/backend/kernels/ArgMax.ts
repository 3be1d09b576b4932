import { ArgMax } from '@tensorflow/tfjs-core';
import { argReduceKernel } from '../reduce.js';

export const argMaxConfig = argReduceKernel(ArgMax, 'argmax');
