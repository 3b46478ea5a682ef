import type * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropFilter, type backend_util } from '@tensorflow/tfjs-core';
import type { WasmHeap } from '../wasm-heap.ts';
import { minPartUnits } from '../wasm-kernel-pool.ts';
import { TASK } from '../wasm-kernel-tasks.mjs';
import type { KernelArgs } from './kernel-config.ts';
import { conv2dGradientSetup, geometryArgs, transposeInto, type ConvAttrs } from './conv-gradient-util.ts';

/**
 * Conv2DBackpropFilter: inputs {x, dy}, attrs {filterShape, strides, pad, dataFormat,
 * dimRoundingMode}. Without SIMD it is im2col(x)^T . dy as one BatchMatMul; with SIMD, sums of
 * outer products along output rows (no im2col).
 */
export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const { heap, info } = conv2dGradientSetup('Conv2DBackpropFilter', args.backend, x.shape, attrs.filterShape, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  if (heap.simd() !== null) return conv2dBackpropFilterSimd(heap, x, dy, info, attrs.filterShape);
  const p = n * ho * wo;
  const k = kh * kw * ci;
  // dW^T [co, k] = dy^T [co, p] . cols [p, k]: transposing dy in JS is cheaper than BatchMatMul's
  // transposeA, and the result is small.
  const cols = heap.temp([1, p, k]);
  const dyT = heap.temp([1, co, p]);
  const out = heap.output(attrs.filterShape);
  {
    const cv = heap.f32(cols);
    const xv = heap.f32(x);
    let row = 0;
    for (let b = 0; b < n; b++) {
      for (let oh = 0; oh < ho; oh++) {
        for (let ow = 0; ow < wo; ow++, row++) {
          let dst = row * k;
          for (let i = 0; i < kh; i++) {
            const xi = oh * sh - pt + i;
            if (xi < 0 || xi >= h) {
              cv.fill(0, dst, dst + kw * ci);
              dst += kw * ci;
              continue;
            }
            for (let j = 0; j < kw; j++, dst += ci) {
              const xj = ow * sw - pl + j;
              if (xj < 0 || xj >= w) {
                cv.fill(0, dst, dst + ci);
              } else {
                // A loop, not set(subarray): a view per tap costs more than copying a few channels.
                const src = ((b * h + xi) * w + xj) * ci;
                for (let q = 0; q < ci; q++) cv[dst + q] = xv[src + q]!;
              }
            }
          }
        }
      }
    }
    transposeInto(heap.f32(dy), heap.f32(dyT), p, co);
  }
  try {
    const prod = heap.adopt(heap.run('BatchMatMul', { a: dyT, b: cols }, { transposeA: false, transposeB: false }));
    transposeInto(heap.f32(prod), heap.f32(out), co, k);
    return out;
  } finally {
    heap.release();
  }
}

/**
 * Conv2D filter gradient without im2col: for every example, output row and tap, one call of the
 * SIMD outer-product routine adds x[pixel, :] (x) dy[pixel', :] along the row into the tap's
 * [cin, cout] slice. Per-example float32 sums are added in float64. The kernel pool splits the
 * input channels across threads.
 */
function conv2dBackpropFilterSimd(
  heap: WasmHeap,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
  filterShape: number[],
): tf.TensorInfo {
  const { batchSize: n, inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw, outHeight: ho, outWidth: wo } = info;
  const out = heap.output(filterShape);
  const acc = heap.temp([kh * kw * ci * co]);
  const args = [heap.ptr(out), heap.ptr(acc), heap.ptr(x), heap.ptr(dy), co, ...geometryArgs(info)];
  heap.task(TASK.CONV_FILTER, args, ci, 4, minPartUnits(n * ho * wo * kh * kw * co));
  heap.release();
  return out;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as tf.KernelFunc,
};
