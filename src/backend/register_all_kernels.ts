/** Every kernel of the torch backend, one file each in ./kernels. */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { absConfig } from './kernels/Abs.js';
import { acosConfig } from './kernels/Acos.js';
import { acoshConfig } from './kernels/Acosh.js';
import { addConfig } from './kernels/Add.js';
import { addNConfig } from './kernels/AddN.js';
import { allConfig } from './kernels/All.js';
import { anyConfig } from './kernels/Any.js';
import { argMaxConfig } from './kernels/ArgMax.js';
import { argMinConfig } from './kernels/ArgMin.js';
import { asinConfig } from './kernels/Asin.js';
import { asinhConfig } from './kernels/Asinh.js';
import { atanConfig } from './kernels/Atan.js';
import { atan2Config } from './kernels/Atan2.js';
import { atanhConfig } from './kernels/Atanh.js';
import { avgPoolConfig } from './kernels/AvgPool.js';
import { avgPoolGradConfig } from './kernels/AvgPoolGrad.js';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { fusedBatchNormConfig } from './kernels/BatchNorm.js';
import { broadcastToConfig } from './kernels/BroadcastTo.js';
import { castConfig } from './kernels/Cast.js';
import { ceilConfig } from './kernels/Ceil.js';
import { clipByValueConfig } from './kernels/ClipByValue.js';
import { concatConfig } from './kernels/Concat.js';
import { conv2DConfig } from './kernels/Conv2D.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { cosConfig } from './kernels/Cos.js';
import { coshConfig } from './kernels/Cosh.js';
import { cropAndResizeConfig } from './kernels/CropAndResize.js';
import { cumprodConfig } from './kernels/Cumprod.js';
import { cumsumConfig } from './kernels/Cumsum.js';
import { depthwiseConv2dNativeConfig } from './kernels/DepthwiseConv2dNative.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput.js';
import { einsumConfig } from './kernels/Einsum.js';
import { eluConfig } from './kernels/Elu.js';
import { eluGradConfig } from './kernels/EluGrad.js';
import { equalConfig } from './kernels/Equal.js';
import { erfConfig } from './kernels/Erf.js';
import { expConfig } from './kernels/Exp.js';
import { expm1Config } from './kernels/Expm1.js';
import { fillConfig } from './kernels/Fill.js';
import { flipLeftRightConfig } from './kernels/FlipLeftRight.js';
import { floorConfig } from './kernels/Floor.js';
import { floorDivConfig } from './kernels/FloorDiv.js';
import { fusedConv2DConfig } from './kernels/FusedConv2D.js';
import { fusedDepthwiseConv2DConfig } from './kernels/FusedDepthwiseConv2D.js';
import { gatherNdConfig } from './kernels/GatherNd.js';
import { gatherV2Config } from './kernels/GatherV2.js';
import { greaterConfig } from './kernels/Greater.js';
import { greaterEqualConfig } from './kernels/GreaterEqual.js';
import { identityConfig } from './kernels/Identity.js';
import { isFiniteConfig } from './kernels/IsFinite.js';
import { isInfConfig } from './kernels/IsInf.js';
import { isNanConfig } from './kernels/IsNan.js';
import { leakyReluConfig } from './kernels/LeakyRelu.js';
import { lessConfig } from './kernels/Less.js';
import { lessEqualConfig } from './kernels/LessEqual.js';
import { linSpaceConfig } from './kernels/LinSpace.js';
import { logConfig } from './kernels/Log.js';
import { log1pConfig } from './kernels/Log1p.js';
import { logicalAndConfig } from './kernels/LogicalAnd.js';
import { logicalNotConfig } from './kernels/LogicalNot.js';
import { logicalOrConfig } from './kernels/LogicalOr.js';
import { maxConfig } from './kernels/Max.js';
import { maxPoolConfig } from './kernels/MaxPool.js';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad.js';
import { maximumConfig } from './kernels/Maximum.js';
import { meanConfig } from './kernels/Mean.js';
import { minConfig } from './kernels/Min.js';
import { minimumConfig } from './kernels/Minimum.js';
import { mirrorPadConfig } from './kernels/MirrorPad.js';
import { modConfig } from './kernels/Mod.js';
import { multiplyConfig } from './kernels/Multiply.js';
import { negConfig } from './kernels/Neg.js';
import { nonMaxSuppressionV3Config } from './kernels/NonMaxSuppressionV3.js';
import { nonMaxSuppressionV4Config } from './kernels/NonMaxSuppressionV4.js';
import { nonMaxSuppressionV5Config } from './kernels/NonMaxSuppressionV5.js';
import { notEqualConfig } from './kernels/NotEqual.js';
import { oneHotConfig } from './kernels/OneHot.js';
import { onesLikeConfig } from './kernels/OnesLike.js';
import { packConfig } from './kernels/Pack.js';
import { padV2Config } from './kernels/PadV2.js';
import { powConfig } from './kernels/Pow.js';
import { preluConfig } from './kernels/Prelu.js';
import { prodConfig } from './kernels/Prod.js';
import { rangeConfig } from './kernels/Range.js';
import { realDivConfig } from './kernels/RealDiv.js';
import { reciprocalConfig } from './kernels/Reciprocal.js';
import { reluConfig } from './kernels/Relu.js';
import { relu6Config } from './kernels/Relu6.js';
import { reshapeConfig } from './kernels/Reshape.js';
import { resizeBilinearConfig } from './kernels/ResizeBilinear.js';
import { resizeBilinearGradConfig } from './kernels/ResizeBilinearGrad.js';
import { resizeNearestNeighborConfig } from './kernels/ResizeNearestNeighbor.js';
import { resizeNearestNeighborGradConfig } from './kernels/ResizeNearestNeighborGrad.js';
import { reverseConfig } from './kernels/Reverse.js';
import { roundConfig } from './kernels/Round.js';
import { rsqrtConfig } from './kernels/Rsqrt.js';
import { scatterNdConfig } from './kernels/ScatterNd.js';
import { selectConfig } from './kernels/Select.js';
import { seluConfig } from './kernels/Selu.js';
import { sigmoidConfig } from './kernels/Sigmoid.js';
import { signConfig } from './kernels/Sign.js';
import { sinConfig } from './kernels/Sin.js';
import { sinhConfig } from './kernels/Sinh.js';
import { sliceConfig } from './kernels/Slice.js';
import { softmaxConfig } from './kernels/Softmax.js';
import { softplusConfig } from './kernels/Softplus.js';
import { splitVConfig } from './kernels/SplitV.js';
import { sqrtConfig } from './kernels/Sqrt.js';
import { squareConfig } from './kernels/Square.js';
import { squaredDifferenceConfig } from './kernels/SquaredDifference.js';
import { stepConfig } from './kernels/Step.js';
import { stridedSliceConfig } from './kernels/StridedSlice.js';
import { subConfig } from './kernels/Sub.js';
import { sumConfig } from './kernels/Sum.js';
import { tanConfig } from './kernels/Tan.js';
import { tanhConfig } from './kernels/Tanh.js';
import { tileConfig } from './kernels/Tile.js';
import { topKConfig } from './kernels/TopK.js';
import { transposeConfig } from './kernels/Transpose.js';
import { unpackConfig } from './kernels/Unpack.js';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';
import { zerosLikeConfig } from './kernels/ZerosLike.js';
import { fusedMatMulConfig } from './kernels/_FusedMatMul.js';

export const kernelConfigs: KernelConfig[] = [
  absConfig,
  acosConfig,
  acoshConfig,
  addConfig,
  addNConfig,
  allConfig,
  anyConfig,
  argMaxConfig,
  argMinConfig,
  asinConfig,
  asinhConfig,
  atanConfig,
  atan2Config,
  atanhConfig,
  avgPoolConfig,
  avgPoolGradConfig,
  batchMatMulConfig,
  fusedBatchNormConfig,
  broadcastToConfig,
  castConfig,
  ceilConfig,
  clipByValueConfig,
  concatConfig,
  conv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  cosConfig,
  coshConfig,
  cropAndResizeConfig,
  cumprodConfig,
  cumsumConfig,
  depthwiseConv2dNativeConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  einsumConfig,
  eluConfig,
  eluGradConfig,
  equalConfig,
  erfConfig,
  expConfig,
  expm1Config,
  fillConfig,
  flipLeftRightConfig,
  floorConfig,
  floorDivConfig,
  fusedConv2DConfig,
  fusedDepthwiseConv2DConfig,
  gatherNdConfig,
  gatherV2Config,
  greaterConfig,
  greaterEqualConfig,
  identityConfig,
  isFiniteConfig,
  isInfConfig,
  isNanConfig,
  leakyReluConfig,
  lessConfig,
  lessEqualConfig,
  linSpaceConfig,
  logConfig,
  log1pConfig,
  logicalAndConfig,
  logicalNotConfig,
  logicalOrConfig,
  maxConfig,
  maxPoolConfig,
  maxPoolGradConfig,
  maximumConfig,
  meanConfig,
  minConfig,
  minimumConfig,
  mirrorPadConfig,
  modConfig,
  multiplyConfig,
  negConfig,
  nonMaxSuppressionV3Config,
  nonMaxSuppressionV4Config,
  nonMaxSuppressionV5Config,
  notEqualConfig,
  oneHotConfig,
  onesLikeConfig,
  packConfig,
  padV2Config,
  powConfig,
  preluConfig,
  prodConfig,
  rangeConfig,
  realDivConfig,
  reciprocalConfig,
  reluConfig,
  relu6Config,
  reshapeConfig,
  resizeBilinearConfig,
  resizeBilinearGradConfig,
  resizeNearestNeighborConfig,
  resizeNearestNeighborGradConfig,
  reverseConfig,
  roundConfig,
  rsqrtConfig,
  scatterNdConfig,
  selectConfig,
  seluConfig,
  sigmoidConfig,
  signConfig,
  sinConfig,
  sinhConfig,
  sliceConfig,
  softmaxConfig,
  softplusConfig,
  splitVConfig,
  sqrtConfig,
  squareConfig,
  squaredDifferenceConfig,
  stepConfig,
  stridedSliceConfig,
  subConfig,
  sumConfig,
  tanConfig,
  tanhConfig,
  tileConfig,
  topKConfig,
  transposeConfig,
  unpackConfig,
  unsortedSegmentSumConfig,
  zerosLikeConfig,
  fusedMatMulConfig,
];
