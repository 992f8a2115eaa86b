/**
 * Training kernels for the tfjs wasm backend, registered by initTraining before it checks the
 * backend's kernels against TRAINING_KERNELS. Each is checked against the cpu backend in
 * tests/train/kernels.
 *
 * tfjs-backend-wasm 4.22.0 has every kernel of an SSD training step but Conv2DBackpropFilter (and,
 * for MobileNet SSDs, DepthwiseConv2dNativeBackpropInput and …Filter, added here too: those two run
 * in ssd-edge's own SIMD wasm module, loaded first by loadTrainingCore);
 * its MaxPoolGrad gives wrong gradients and its OneHot ignores the dtype (float32 one-hots hold
 * int bit patterns), so both are replaced; its Conv2DBackpropInput is correct but slow (a direct
 * loop, ~4× slower than the matrix-product one here) and is replaced too. The rest of a step
 * matches the cpu backend (tests/train/kernels) and is kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterWasmConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputWasmConfig } from './conv2d-backprop-input.js';
import { depthwiseConv2dNativeBackpropFilterWasmConfig } from './depthwise-conv2d-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputWasmConfig } from './depthwise-conv2d-backprop-input.js';
import { maxPoolGradWasmConfig } from './max-pool-grad.js';
import { oneHotWasmConfig } from './one-hot.js';

export { COLS_LIMIT } from './conv2d-backprop-filter.js';
export { loadTrainingCore } from './training-core.js';

/**
 * The kernels ssd-edge installs on the wasm backend: Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput and …Filter (missing); Conv2DBackpropInput, MaxPoolGrad,
 * OneHot (replaced).
 */
export const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterWasmConfig,
  conv2DBackpropInputWasmConfig,
  depthwiseConv2dNativeBackpropFilterWasmConfig,
  depthwiseConv2dNativeBackpropInputWasmConfig,
  maxPoolGradWasmConfig,
  oneHotWasmConfig,
];

/**
 * Registers WASM_TRAINING_KERNELS for the 'wasm' backend, replacing a kernel of the same name
 * there (tfjs-backend-wasm's own Conv2DBackpropInput, MaxPoolGrad and OneHot). Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current === config) continue;
    if (current !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
