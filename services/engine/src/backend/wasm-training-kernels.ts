import * as tf from '@tensorflow/tfjs-core';
import {
  conv2dBackpropFilter,
  conv2dBackpropInput,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
} from './wasm-conv-gradients.ts';
import { registerFusedActivationGrads } from './wasm-activation-grads.ts';
import { registerBatchNormKernels } from './batch-norm-train.ts';
import { makeIdentityKernel } from './wasm-identity-kernel.ts';
import { makeBatchMatMulKernel } from './wasm-matmul-kernel.ts';
import { makeReduceKernel } from './wasm-reduce-kernels.ts';

export { setWasmSimdKernels } from './wasm-heap.ts';

/**
 * Kernels tfjs-backend-wasm 4.22 lacks, which training needs, and one it has only as a slow scalar
 * loop (Conv2DBackpropInput); these replace any registered version.
 */
const MISSING: readonly { kernelName: string; kernelFunc: tf.KernelFunc }[] = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2dBackpropFilter as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2dBackpropInput as tf.KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseConv2dBackpropInput as tf.KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseConv2dBackpropFilter as tf.KernelFunc },
];

/** Kernels the backend has but that are slow on training's shapes: a wrapper takes the fast cases. */
const WRAPPED: readonly { kernelName: string; wrap: (original: tf.KernelFunc) => tf.KernelFunc }[] = [
  { kernelName: 'BatchMatMul', wrap: makeBatchMatMulKernel },
  { kernelName: 'Sum', wrap: (k) => makeReduceKernel(k, false) },
  { kernelName: 'Mean', wrap: (k) => makeReduceKernel(k, true) },
  { kernelName: 'Identity', wrap: makeIdentityKernel },
];

let registered = false;

/**
 * Registers the engine's kernels for the `wasm` backend: the convolution gradients that
 * tfjs-backend-wasm 4.22 lacks, and faster paths for BatchMatMul with transposed operands and for
 * Sum/Mean over non-innermost axes, an Identity that shares memory, fused ReLU/ReLU6 gradients and the fused kernels of
 * `batchNormTrain`. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  // Gradients live in a registry that loading @tensorflow/tfjs overwrites: checked every time.
  registerFusedActivationGrads();
  if (registered) return;
  registered = true;
  for (const { kernelName, kernelFunc } of MISSING) {
    if (tf.getKernel(kernelName, 'wasm') != null) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
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
