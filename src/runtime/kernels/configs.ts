/**
 * The kernels cnnviz adds to (or replaces in) the wasm backend, apart from the gradient fixes
 * (./gradients, which reach into tfjs-core through Node's module resolution). The explorer page
 * registers the same list in the browser's wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import { batchMatMulConfig } from './batch_mat_mul';
import { fusedBatchNormConfig } from './batch_norm';
import { batchNormTrainingGradConfig, channelVarianceConfig } from './batch_norm_grad';
import { clipGradConfig, reluGradConfig } from './clip_grad';
import { comparisonConfigs, logicalAndConfig, logicalOrConfig, selectConfig } from './compare';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter';
import { conv2DBackpropInputConfig } from './conv2d_backprop_input';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise_backprop_filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise_backprop_input';
import { castConfig, identityConfig } from './identity';
import { maxPoolGradConfig } from './max_pool_grad';
import { conv2DConfig, fusedConv2DConfig } from './pointwise_conv';
import { meanConfig, sumConfig } from './sum';
import { tileConfig } from './tile';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum';

export const wasmKernelConfigs: tf.KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  batchMatMulConfig,
  fusedBatchNormConfig,
  sumConfig,
  meanConfig,
  unsortedSegmentSumConfig,
  identityConfig,
  castConfig,
  tileConfig,
  ...comparisonConfigs,
  logicalAndConfig,
  logicalOrConfig,
  selectConfig,
  clipGradConfig,
  reluGradConfig,
  batchNormTrainingGradConfig,
  channelVarianceConfig,
];
