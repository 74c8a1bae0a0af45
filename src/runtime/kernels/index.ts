import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter';

/** Kernels cnnviz adds to (or replaces in) the wasm backend for fast, complete gradients. */
export const wasmKernelConfigs: tf.KernelConfig[] = [conv2DBackpropFilterConfig];

let registered = false;

/** Register our wasm kernels once; replaces slower built-ins of the same name. */
export function registerWasmKernels(): void {
  if (registered) return;
  for (const config of wasmKernelConfigs) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
