import * as tf from '@tensorflow/tfjs-core';
import {
  conv2dBackpropFilter,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
} from './wasm-conv-gradients.ts';

export { setWasmSimdKernels } from './wasm-heap.ts';

/** Kernels the engine supplies for `wasm`: name and implementation. */
const KERNELS: readonly { kernelName: string; kernelFunc: tf.KernelFunc }[] = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2dBackpropFilter as tf.KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseConv2dBackpropInput as tf.KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseConv2dBackpropFilter as tf.KernelFunc },
];

let registered = false;

/**
 * Registers the engine's kernels for the `wasm` backend: the convolution gradients that
 * tfjs-backend-wasm 4.22 lacks. A kernel the backend already registers under the same name is
 * replaced. Idempotent; call before the `wasm` backend is first used.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const { kernelName, kernelFunc } of KERNELS) {
    if (tf.getKernel(kernelName, 'wasm') != null) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

/** Names of the kernels `registerWasmTrainingKernels` installs. */
export function wasmTrainingKernelNames(): string[] {
  return KERNELS.map((k) => k.kernelName);
}
