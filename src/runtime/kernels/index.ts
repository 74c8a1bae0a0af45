import * as tf from '@tensorflow/tfjs';
import { wasmKernelConfigs } from './configs';
import { installGradientFixes, uninstallGradientFixes } from './gradients';
import { saveStockKernel, stockKernelConfig } from './wasm_ops';

export { wasmKernelConfigs };

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
