import { Tile } from '@tensorflow/tfjs-core';
import type { TileAttrs } from '@tensorflow/tfjs-core';
import { kernel, req } from '../kernel_utils.js';
import { aten } from '../native.js';

export const tileConfig = kernel(Tile, (b, inputs, attrs) => {
  const x = req(inputs, 'x', Tile);
  const { reps } = attrs as unknown as TileAttrs;
  return b.output(b.call(aten('repeat'), b.id(x), reps), x.dtype);
});
