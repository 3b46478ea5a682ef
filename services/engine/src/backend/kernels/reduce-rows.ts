import type * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from '../wasm-heap.ts';

/**
 * Sum and Mean over leading or middle axes of float32 tensors for the `wasm` backend (batch-norm
 * statistics over [N, H, W] of NHWC, global average pooling over [H, W], bias gradients). The
 * backend's own kernels first transpose the reduced axes innermost, a data-movement op that costs
 * several times the reduction; these add rows in place instead, with the SIMD routine, in blocks
 * whose partial sums are combined in float64. Other reductions go to the backend's kernels.
 */

const BLOCK_ROWS = 256;

/** Wraps the backend's Sum or Mean kernel (`fallback`) with the in-place path. */
export function makeReduceKernel(fallback: tf.KernelFunc, mean: boolean): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const heap = new WasmHeap(args.backend as BackendWasm);
    const mac = heap.mac();
    const rank = x.shape.length;
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const lo = axes[0];
    const hi = axes[axes.length - 1];
    const contiguous = lo !== undefined && hi !== undefined && hi - lo + 1 === axes.length;
    if (mac === null || x.dtype !== 'float32' || !contiguous || hi >= rank - 1 || util.sizeFromShape(x.shape) === 0) {
      return fallback(args);
    }
    const outer = util.sizeFromShape(x.shape.slice(0, lo));
    const rows = util.sizeFromShape(x.shape.slice(lo, hi + 1));
    const cols = util.sizeFromShape(x.shape.slice(hi + 1));
    const outShape = keepDims ? x.shape.map((d, i) => (i >= lo && i <= hi ? 1 : d)) : x.shape.filter((_, i) => i < lo || i > hi);
    const out = heap.output(outShape);
    const ones = heap.temp([cols]);
    const acc = heap.temp([cols]);
    heap.f32(ones).fill(1);
    const xPtr = heap.ptr(x);
    const accPtr = heap.ptr(acc);
    const onesPtr = heap.ptr(ones);
    const rowBytes = cols * 4;
    const sums = new Float64Array(cols);
    const scale = mean ? 1 / rows : 1;
    for (let a = 0; a < outer; a++) {
      sums.fill(0);
      for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
        const count = Math.min(BLOCK_ROWS, rows - r0);
        const accView = heap.f32(acc);
        accView.fill(0);
        mac(accPtr, 0, xPtr + (a * rows + r0) * rowBytes, rowBytes, onesPtr, 0, count, cols);
        for (let c = 0; c < cols; c++) sums[c]! += accView[c]!;
      }
      const ov = heap.f32(out);
      const base = a * cols;
      for (let c = 0; c < cols; c++) ov[base + c] = sums[c]! * scale;
    }
    heap.release();
    return out;
  };
}
