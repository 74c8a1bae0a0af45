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
import { installGradientFixes, uninstallGradientFixes } from './gradients';
import { castConfig, identityConfig } from './identity';
import { maxPoolGradConfig } from './max_pool_grad';
import { meanConfig, sumConfig } from './sum';
import { tileConfig } from './tile';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum';
import { saveStockKernel, stockKernelConfig } from './wasm_ops';

/** Kernels cnnviz adds to (or replaces in) the wasm backend for fast, complete gradients. */
export const wasmKernelConfigs: tf.KernelConfig[] = [
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

let registered = false;

/**
 * Register our wasm kernels once; replaces slower built-ins of the same name. Also installs the
 * gradient fixes of ./gradients (same results, less work: no filter gradient for a saliency map).
 */
export function registerWasmKernels(): void {
  installGradientFixes();
  if (registered) return;
  for (const config of wasmKernelConfigs) {
    if (tf.getKernel(config.kernelName, 'wasm')) {
      saveStockKernel(config.kernelName);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
  registered = true;
}

/** Put the built-in wasm kernels back (for benchmarks comparing against the stock backend). */
export function unregisterWasmKernels(): void {
  uninstallGradientFixes();
  if (!registered) return;
  for (const config of wasmKernelConfigs) {
    tf.unregisterKernel(config.kernelName, 'wasm');
    const stock = stockKernelConfig(config.kernelName);
    if (stock) tf.registerKernel(stock);
  }
  registered = false;
}

export { stockKernelConfig, installGradientFixes, uninstallGradientFixes };
