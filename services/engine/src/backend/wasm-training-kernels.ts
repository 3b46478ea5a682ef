import * as tf from '@tensorflow/tfjs-core';
import { registerBatchNormKernels } from './batch-norm-train.ts';
import type { KernelWrapper } from './kernels/kernel-config.ts';
import { batchMatMulWrapper } from './kernels/BatchMatMul.ts';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.ts';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.ts';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter.ts';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput.ts';
import { identityWrapper } from './kernels/Identity.ts';
import { meanWrapper } from './kernels/Mean.ts';
import { padWrapper } from './kernels/PadV2.ts';
import { sliceWrapper } from './kernels/Slice.ts';
import { sumWrapper } from './kernels/Sum.ts';
import { registerFusedActivationGrads } from './kernels/SupernetdReluGrad.ts';

export { setWasmSimdKernels } from './wasm-heap.ts';

/**
 * Kernels tfjs-backend-wasm 4.22 lacks, which training needs, and one it has only as a slow scalar
 * loop (Conv2DBackpropInput); these replace any registered version. One file per kernel under
 * kernels/, as tfjs-backend-wasm lays out its own.
 */
const MISSING: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
];

/** Kernels the backend has but that are slow on training's shapes: a wrapper takes the fast cases. */
const WRAPPED: readonly KernelWrapper[] = [batchMatMulWrapper, sumWrapper, meanWrapper, identityWrapper, padWrapper, sliceWrapper];

let registered = false;

/**
 * Registers the engine's kernels for the `wasm` backend: the convolution gradients that
 * tfjs-backend-wasm 4.22 lacks, and faster paths for BatchMatMul with transposed operands and for
 * Sum/Mean over non-innermost axes, an Identity that shares memory, Slice and PadV2 by row copies,
 * fused ReLU/ReLU6 gradients and the fused kernels of `batchNormTrain`. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  // Gradients live in a registry that loading @tensorflow/tfjs overwrites: checked every time.
  registerFusedActivationGrads();
  if (registered) return;
  registered = true;
  for (const config of MISSING) {
    if (tf.getKernel(config.kernelName, 'wasm') != null) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  for (const { kernelName, wrap } of WRAPPED) {
    const original = tf.getKernel(kernelName, 'wasm');
    if (original == null) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    // The original's setup (binding its wasm function) must still run when the backend starts.
    const config: tf.KernelConfig = { kernelName, backendName: 'wasm', kernelFunc: wrap(original.kernelFunc) };
    if (original.setupFunc !== undefined) config.setupFunc = original.setupFunc;
    if (original.disposeFunc !== undefined) config.disposeFunc = original.disposeFunc;
    tf.registerKernel(config);
  }
  registerBatchNormKernels();
}

/** Names of the kernels `registerWasmTrainingKernels` installs or wraps. */
export function wasmTrainingKernelNames(): string[] {
  return [...MISSING.map((k) => k.kernelName), ...WRAPPED.map((k) => k.kernelName)];
}
