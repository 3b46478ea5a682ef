import type * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from './wasm-heap.ts';
import { transposeInto } from './wasm-conv-gradients.ts';

/**
 * BatchMatMul for the `wasm` backend with transposed operands made explicit: the backend's kernel is
 * several times slower with `transposeA` or `transposeB` than without (the gradients of every matMul
 * use them), so a transposed operand is copied transposed first (a tiled JS loop over the heap) and
 * the product runs untransposed.
 */
export function makeBatchMatMulKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const heap = new WasmHeap(args.backend as BackendWasm);
    const at = transposeA ? transposed(heap, a) : a;
    const bt = transposeB ? transposed(heap, b) : b;
    try {
      return fallback({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      heap.release();
    }
  };
}

/** A scratch copy of `t` with its last two axes swapped. */
function transposed(heap: WasmHeap, t: tf.TensorInfo): tf.TensorInfo {
  const rank = t.shape.length;
  const rows = t.shape[rank - 2]!;
  const cols = t.shape[rank - 1]!;
  const batch = util.sizeFromShape(t.shape.slice(0, -2));
  const out = heap.temp([...t.shape.slice(0, -2), cols, rows]);
  const src = heap.f32(t);
  const dst = heap.f32(out);
  const size = rows * cols;
  for (let i = 0; i < batch; i++) {
    transposeInto(src.subarray(i * size, (i + 1) * size), dst.subarray(i * size, (i + 1) * size), rows, cols);
  }
  return out;
}
