/**
 * Gradient overrides that let the torch backend run a fused ATen backward kernel where tfjs-core's
 * generic gradient would chain several elementwise kernels. On any other backend each override
 * computes exactly what tfjs-core's own gradient computes.
 */
import { tf } from '../tf.js';
import { backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DAttrs, GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { conv2dBackwardBoth, filterGradKey } from './conv.js';
import { kernel, req } from './kernel_utils.js';
import { aten } from './native.js';

/** dx = dy where x > 0, else 0 (ATen threshold_backward). */
export const TORCH_RELU_GRAD = 'TorchReluGrad';

export const torchReluGradConfig = kernel(TORCH_RELU_GRAD, (b, inputs) => {
  const dy = req(inputs, 'dy', TORCH_RELU_GRAD);
  const x = req(inputs, 'x', TORCH_RELU_GRAD);
  return b.output(b.call(aten('threshold_backward'), b.id(dy), b.id(x), 0), 'float32');
});

const reluGrad: GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved as [Tensor];
    const g = dy as Tensor;
    if (tf.getBackend() === 'torch' && x.dtype === 'float32' && g.dtype === 'float32') {
      return { x: () => tf.engine().runKernel(TORCH_RELU_GRAD, { dy: g, x }) as Tensor };
    }
    return { x: () => tf.mul(g, tf.cast(tf.step(x), 'float32')) };
  },
};

/**
 * Input gradient of a Conv2D, with its filter gradient computed in the same ATen call and stashed
 * for the Conv2DBackpropFilter kernel tfjs runs next for this node (see conv2dBackwardBoth).
 */
export const TORCH_CONV2D_BACKWARD = 'TorchConv2DBackward';

export const torchConv2DBackwardConfig = kernel(TORCH_CONV2D_BACKWARD, (b, inputs, attrs) => {
  const x = req(inputs, 'x', TORCH_CONV2D_BACKWARD);
  const dy = req(inputs, 'dy', TORCH_CONV2D_BACKWARD);
  const filter = req(inputs, 'filter', TORCH_CONV2D_BACKWARD);
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const { dx, dw } = conv2dBackwardBoth(b, x, dy, filter, info);
  b.stashFilterGrad(x.dataId, dy.dataId, filterGradKey(strides, pad, dataFormat, dimRoundingMode, filter.shape), dw);
  return b.output(dx, 'float32');
});

/** tfjs-core's Conv2D gradient, with the fused backward on the torch backend. */
const conv2DGrad: GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = dy as tf.Tensor4D;
    const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
    if (dilations !== undefined && !backend_util.tupleValuesAreOne(dilations)) {
      throw new Error(
        `Error in gradient of conv2D: dilation rates greater than 1 are not yet supported in gradients. Got dilations '${dilations}'`,
      );
    }
    const filterGrad = () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: g }, {
        strides,
        pad,
        dataFormat,
        dimRoundingMode,
        filterShape: filter.shape,
      } as unknown as NamedAttrMap) as Tensor;
    if (tf.getBackend() === 'torch' && x.dtype === 'float32' && filter.dtype === 'float32' && g.dtype === 'float32') {
      // tfjs calls x() then, if the filter needs a gradient, filter() for the same x and dy
      return { x: () => tf.engine().runKernel(TORCH_CONV2D_BACKWARD, { x, dy: g, filter }, attrs) as Tensor, filter: filterGrad };
    }
    return {
      x: () =>
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: g, filter }, {
          strides,
          pad,
          dataFormat,
          dimRoundingMode,
          inputShape: x.shape,
        } as unknown as NamedAttrMap) as Tensor,
      filter: filterGrad,
    };
  },
};

export function registerGradientOverrides(): void {
  tf.registerGradient(reluGrad);
  tf.registerGradient(conv2DGrad);
}
