import type * as tf from '@tensorflow/tfjs-core';
import { BatchMatMul } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from '../wasm-heap.ts';
import { activeWasmKernelPool, minPartUnits } from '../wasm-kernel-pool.ts';
import { OUTER_BLOCK_ROWS, TASK } from '../wasm-kernel-tasks.mjs';
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
 * added in float64 in block order. On one thread one task does it all, the block's [m, n] staying in
 * cache. With a kernel pool the blocks are split across threads, each block's float32 sums kept in
 * scratch and added by a second task split by output elements: each thread then reads only its rows
 * of a and b (split by output rows, as on one thread, each read all of b, and the split gained 1.1x
 * on 2 threads in a case-b step). Same bits either way; past MAX_BLOCK_SCRATCH bytes of scratch
 * (large k with large m*n), the pool splits output rows instead.
 */
function outerProductSum(heap: WasmHeap, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const [k, m] = a.shape as [number, number];
  const n = b.shape[1]!;
  if (b.shape[0] !== k) throw new Error(`Error in matMul: inner shapes (${k}) and (${b.shape[0]}) must match`);
  const out = heap.output([m, n]);
  const blocks = Math.ceil(k / OUTER_BLOCK_ROWS);
  if (activeWasmKernelPool() !== undefined && blocks > 1 && blocks * m * n * 4 <= MAX_BLOCK_SCRATCH) {
    const part = heap.temp([blocks, m, n]);
    heap.task(TASK.OUTER_BLOCKS, [heap.ptr(part), heap.ptr(a), heap.ptr(b), k, m, n], blocks, 1, minPartUnits(OUTER_BLOCK_ROWS * m * n));
    heap.task(TASK.SUM_EXAMPLES, [heap.ptr(out), heap.ptr(part), blocks, m * n], m * n, 16, minPartUnits(blocks));
  } else {
    const acc = heap.temp([m, n]);
    heap.task(TASK.OUTER_SUM, [heap.ptr(out), heap.ptr(acc), heap.ptr(a), heap.ptr(b), k, m, n], m, 4, minPartUnits(k * n));
  }
  heap.release();
  return out;
}

/** The most scratch, in bytes, the block split of `outerProductSum` takes for its partial sums. */
const MAX_BLOCK_SCRATCH = 32 << 20;

/** A scratch copy of `t` with its last two axes swapped (the backend's Transpose kernel). */
function transposed(heap: WasmHeap, t: tf.TensorInfo): tf.TensorInfo {
  const rank = t.shape.length;
  const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  return heap.adopt(heap.run('Transpose', { x: t }, { perm }));
}

export const batchMatMulWrapper: KernelWrapper = { kernelName: BatchMatMul, wrap: makeBatchMatMulKernel };
