import type * as tf from '@tensorflow/tfjs-core';

/** What the kernel registry hands a kernel function. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/**
 * A kernel the `wasm` backend has but that is slow on training's shapes: `wrap` takes the backend's
 * kernel function and returns one that runs the fast cases itself and hands the rest to it.
 */
export interface KernelWrapper {
  kernelName: string;
  wrap: (original: tf.KernelFunc) => tf.KernelFunc;
}
