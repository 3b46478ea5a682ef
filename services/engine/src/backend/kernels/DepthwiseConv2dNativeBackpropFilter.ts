import type * as tf from '@tensorflow/tfjs-core';
import { DepthwiseConv2dNativeBackpropFilter, type backend_util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from '../wasm-heap.ts';
import { minPartUnits } from '../wasm-kernel-pool.ts';
import { TASK } from '../wasm-kernel-tasks.mjs';
import type { KernelArgs } from './kernel-config.ts';
import { depthwiseInfo, forEachDepthwiseTap, geometryArgs, type ConvAttrs } from './conv-gradient-util.ts';

/**
 * DepthwiseConv2dNativeBackpropFilter: inputs {x, dy}, attrs {filterShape, strides, pad, dilations}.
 * Without SIMD it is one depthwise convolution whose "channels" are (example, channel) pairs, whose
 * input is x and whose filter is the output gradient (dilated by the stride), then a sum over
 * examples. The SIMD path is faster by 10x: a depthwise convolution with an output-sized filter is
 * a slow case for XNNPACK.
 */
export function depthwiseConv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const heap = new WasmHeap(args.backend as BackendWasm);
  const info = depthwiseInfo(x.shape, attrs.filterShape, attrs);
  const mult = attrs.filterShape[3] ?? 1;
  if (heap.simd() !== null && mult === 1) return depthwiseBackpropFilterSimd(heap, x, dy, info, attrs.filterShape);
  if (mult !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    return depthwiseBackpropFilterLoops(heap, x, dy, info, attrs.filterShape);
  }
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // One depthwise convolution over n*c channels: input xt[i, j, b*c + ch] = x[b, i-pt, j-pl, ch] (zero
  // outside x), filter dyt[oh, ow, b*c + ch] = dy[b, oh, ow, ch] dilated by the stride; its output is
  // [kh, kw, n*c], summed over b afterwards.
  const hp = (ho - 1) * sh + kh;
  const wp = (wo - 1) * sw + kw;
  const nc = n * c;
  const xt = heap.temp([1, hp, wp, nc]);
  const dyt = heap.temp([ho, wo, nc, 1]);
  const out = heap.output(attrs.filterShape);
  {
    const xtv = heap.f32(xt);
    const xv = heap.f32(x);
    const rowLo = Math.max(0, pt);
    const rowHi = Math.min(hp, h + pt);
    const colLo = Math.max(0, pl);
    const colHi = Math.min(wp, w + pl);
    if (rowLo > 0 || colLo > 0 || rowHi < hp || colHi < wp) xtv.fill(0);
    for (let i = rowLo; i < rowHi; i++) {
      const xi = i - pt;
      for (let j = colLo; j < colHi; j++) {
        const xj = j - pl;
        let dst = (i * wp + j) * nc;
        for (let b = 0; b < n; b++, dst += c) {
          const src = ((b * h + xi) * w + xj) * c;
          xtv.set(xv.subarray(src, src + c), dst);
        }
      }
    }
    const dyv = heap.f32(dy);
    const dytv = heap.f32(dyt);
    for (let oh = 0; oh < ho; oh++) {
      for (let ow = 0; ow < wo; ow++) {
        let dst = (oh * wo + ow) * nc;
        for (let b = 0; b < n; b++, dst += c) {
          const src = ((b * ho + oh) * wo + ow) * c;
          dytv.set(dyv.subarray(src, src + c), dst);
        }
      }
    }
  }
  try {
    const per = heap.adopt(
      heap.run('DepthwiseConv2dNative', { x: xt, filter: dyt }, { strides: [1, 1], pad: 'valid', dilations: [sh, sw] }),
    );
    const pv = heap.f32(per);
    const ov = heap.f32(out);
    for (let k = 0; k < kh * kw; k++) {
      const dst = k * c;
      const base = k * nc;
      for (let ch = 0; ch < c; ch++) ov[dst + ch] = pv[base + ch];
      for (let b = 1; b < n; b++) {
        const src = base + b * c;
        for (let ch = 0; ch < c; ch++) ov[dst + ch] += pv[src + ch];
      }
    }
    return out;
  } finally {
    heap.release();
  }
}

/**
 * The depthwise filter gradient (multiplier 1). Each example accumulates into its own partial sums
 * (float32, a few thousand terms each); the partials are added in float64, which keeps the result as
 * accurate as the cpu backend's. The kernel pool splits the examples, then the filter's taps.
 */
function depthwiseBackpropFilterSimd(
  heap: WasmHeap,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
  filterShape: number[],
): tf.TensorInfo {
  const { batchSize: n, inChannels: c, filterHeight: kh, filterWidth: kw, outHeight: ho, outWidth: wo } = info;
  const taps = kh * kw * c;
  const partial = heap.temp([n, taps]);
  const out = heap.output(filterShape);
  const pPtr = heap.ptr(partial);
  heap.task(TASK.DW_FILTER, [pPtr, heap.ptr(x), heap.ptr(dy), ...geometryArgs(info)], n, 1, minPartUnits(ho * wo * taps));
  heap.task(TASK.SUM_EXAMPLES, [heap.ptr(out), pPtr, n, taps], taps, 16, minPartUnits(n));
  heap.release();
  return out;
}

function depthwiseBackpropFilterLoops(
  heap: WasmHeap,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
  filterShape: number[],
): tf.TensorInfo {
  const { inChannels: c, outChannels: oc } = info;
  const m = oc / c;
  const out = heap.output(filterShape);
  const dwv = heap.f32(out);
  const xv = heap.f32(x);
  const dyv = heap.f32(dy);
  dwv.fill(0);
  forEachDepthwiseTap(info, (xOff, dyOff, fOff) => {
    for (let ch = 0; ch < c; ch++) {
      const xval = xv[xOff + ch]!;
      for (let q = 0; q < m; q++) dwv[fOff + ch * m + q] += xval * dyv[dyOff + ch * m + q]!;
    }
  });
  return out;
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropFilter as tf.KernelFunc,
};
