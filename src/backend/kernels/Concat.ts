import { Concat, backend_util, util } from '@tensorflow/tfjs-core';
import type { ConcatAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_utils.js';
import { aten, ScalarType } from '../native.js';

export const concatConfig = kernel(Concat, (b, inputs, attrs) => {
  const list = inputs as unknown as TensorInfo[];
  const first = list[0];
  if (!first) throw new Error('Concat: no inputs');
  const axis = util.parseAxisParam((attrs as unknown as ConcatAttrs).axis, first.shape)[0] as number;
  backend_util.assertParamsConsistent(
    list.map((t) => t.shape),
    axis,
  );
  const outShape = backend_util.computeOutShape(
    list.map((t) => t.shape),
    axis,
  );
  const dtype = first.dtype;
  if (util.sizeFromShape(outShape) === 0) {
    return b.output(b.call(aten('zeros'), outShape, ScalarType[dtype as keyof typeof ScalarType]), dtype);
  }
  const nonEmpty = list.filter((t) => util.sizeFromShape(t.shape) > 0);
  if (nonEmpty.length === 1) return b.output(b.call(aten('alias'), b.id(nonEmpty[0] as TensorInfo)), dtype);
  return b.output(
    b.call(
      aten('cat'),
      nonEmpty.map((t) => b.id(t)),
      axis,
    ),
    dtype,
  );
});
