import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from '../wasm-heap.ts';
import { minPartUnits } from '../wasm-kernel-pool.ts';
import { TASK } from '../wasm-kernel-tasks.mjs';
import type { KernelArgs } from './kernel-config.ts';

/**
 * Fused ReLU and ReLU6 gradients for the `wasm` backend. tfjs builds them from four or five
 * element-wise kernels (step, lessEqual, cast, two multiplies), each a full pass over the
 * activation; here one branch-free SIMD pass over the heap does it (a JS loop is slower than the
 * five kernels: its branch on the sign of x mispredicts half the time). The gradients are re-registered for every
 * backend (the gradient registry is global) and take the fused kernel only while `wasm` is active.
 */
export const RELU_GRAD_KERNEL = 'SupernetdReluGrad';

/** dx = dy where 0 < x <= upper (tfjs's own convention at the kinks), else 0. */
function reluGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const upper = (args.attrs as unknown as { upper: number }).upper;
  const heap = new WasmHeap(args.backend as BackendWasm);
  const out = heap.output(x.shape);
  const simd = heap.simd();
  if (simd !== null) {
    // Element ranges across the kernel pool's threads, in whole 64-byte lines.
    const a = [heap.ptr(x), heap.ptr(dy), heap.ptr(out), upper === Infinity ? 3.4e38 : upper];
    heap.task(TASK.RELU_GRAD, a, util.sizeFromShape(x.shape), 16, minPartUnits(1));
    return out;
  }
  const xv = heap.f32(x);
  const dyv = heap.f32(dy);
  const ov = heap.f32(out);
  const n = xv.length;
  for (let i = 0; i < n; i++) {
    const v = xv[i]!;
    ov[i] = v > 0 && v <= upper ? dyv[i]! : 0;
  }
  return out;
}

/** The gradient functions registered here (a stock gradient registered later replaces them). */
const ours = new Set<tf.GradFunc>();

/**
 * Registers the fused kernel for `wasm` and puts the fused gradients in front of the stock ReLU and
 * ReLU6 gradients. Idempotent; call it again on each activation of `wasm`: loading
 * `@tensorflow/tfjs` (which tfjs-node does) registers every stock gradient again in the registry
 * all copies share, and this puts the fused ones back.
 */
export function registerFusedActivationGrads(): void {
  if (tf.getKernel(RELU_GRAD_KERNEL, 'wasm') == null) {
    tf.registerKernel({ kernelName: RELU_GRAD_KERNEL, backendName: 'wasm', kernelFunc: reluGrad as tf.KernelFunc });
  }
  for (const [kernelName, upper] of [['Relu', Infinity], ['Relu6', 6]] as const) {
    const original = tf.getGradient(kernelName);
    if (original == null || ours.has(original.gradFunc)) continue;
    const gradFunc: tf.GradFunc = (dy, saved, attrs) => {
      if (tf.getBackend() !== 'wasm' || (dy as tf.Tensor).dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
      const x = saved[0]!;
      return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dy as tf.Tensor, x }, { upper }) as tf.Tensor };
    };
    ours.add(gradFunc);
    tf.registerGradient({ kernelName, inputsToSave: ['x'], gradFunc });
  }
}
