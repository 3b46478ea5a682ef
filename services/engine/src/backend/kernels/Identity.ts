import type * as tf from '@tensorflow/tfjs-core';
import { Identity } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelWrapper } from './kernel-config.ts';

/**
 * Identity for the `wasm` backend that shares the input's memory (a reference count) instead of
 * copying it, as the cpu backend's does. tfjs clones every tensor it saves for the backward pass
 * through Identity, so the copying kernel costs a full copy of most activations per training step.
 * Tensors are immutable (a variable's assign swaps in new memory), so sharing is safe; the backend's
 * Reshape already shares memory the same way.
 */
export function makeIdentityKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return fallback(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

export const identityWrapper: KernelWrapper = { kernelName: Identity, wrap: makeIdentityKernel };
