import type * as tf from '@tensorflow/tfjs-core';
import { BatchMatMul } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from '../wasm-heap.ts';
import { minPartUnits } from '../wasm-kernel-pool.ts';
import { TASK } from '../wasm-kernel-tasks.mjs';
import type { KernelWrapper } from './kernel-config.ts';

/**
 * BatchMatMul for the `wasm` backend with transposed operands made explicit: the backend's kernel is
 * several times slower with `transposeA` or `transposeB` than without (the gradients of every matMul
 * use them), so a transposed operand is copied transposed first (the backend's Transpose kernel,
 * fast for rank 2 and 3) and the product runs untransposed.
 */
export function makeBatchMatMulKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const heap = new WasmHeap(args.backend as BackendWasm);
    const simd = heap.simd();
    if (simd !== null && transposeA && !transposeB && a.shape.length === 2 && b.shape.length === 2) {
      return outerProductSum(heap, a, b);
    }
    const at = transposeA ? transposed(heap, a) : a;
    const bt = transposeB ? transposed(heap, b) : b;
    try {
      return fallback({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      heap.release();
    }
  };
}

/**
 * a^T b for a [k, m], b [k, n] as a sum of k outer products (the weight gradient of a 1x1 conv,
 * k = N*H*W). The backend's kernel on the transposed a packs all of b as GEMM weights first, which
 * costs several times the product when k is large. Blocks of rows accumulate in float32 and are
 * added in float64. The kernel pool splits the output's rows (m) across threads.
 */
function outerProductSum(heap: WasmHeap, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const [k, m] = a.shape as [number, number];
  const n = b.shape[1]!;
  if (b.shape[0] !== k) throw new Error(`Error in matMul: inner shapes (${k}) and (${b.shape[0]}) must match`);
  const out = heap.output([m, n]);
  const acc = heap.temp([m, n]);
  heap.task(TASK.OUTER_SUM, [heap.ptr(out), heap.ptr(acc), heap.ptr(a), heap.ptr(b), k, m, n], m, 4, minPartUnits(k * n));
  heap.release();
  return out;
}

/** A scratch copy of `t` with its last two axes swapped (the backend's Transpose kernel). */
function transposed(heap: WasmHeap, t: tf.TensorInfo): tf.TensorInfo {
  const rank = t.shape.length;
  const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  return heap.adopt(heap.run('Transpose', { x: t }, { perm }));
}

export const batchMatMulWrapper: KernelWrapper = { kernelName: BatchMatMul, wrap: makeBatchMatMulKernel };
