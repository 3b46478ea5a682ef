import type * as tf from '@tensorflow/tfjs-core';
import { DepthwiseConv2dNativeBackpropInput, type backend_util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from '../wasm-heap.ts';
import { minPartUnits } from '../wasm-kernel-pool.ts';
import { TASK } from '../wasm-kernel-tasks.mjs';
import type { KernelArgs } from './kernel-config.ts';
import { depthwiseInfo, forEachDepthwiseTap, geometryArgs, type ConvAttrs } from './conv-gradient-util.ts';

/**
 * DepthwiseConv2dNativeBackpropInput: inputs {dy, filter}, attrs {inputShape, strides, pad,
 * dilations}. Without SIMD it is the depthwise convolution of the zero-dilated, padded output
 * gradient with the spatially flipped filter (one XNNPACK call).
 */
export function depthwiseConv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const heap = new WasmHeap(args.backend as BackendWasm);
  const info = depthwiseInfo(attrs.inputShape, filter.shape, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const mult = filter.shape[3] ?? 1;
  if (heap.simd() !== null && mult === 1) return depthwiseBackpropInputSimd(heap, dy, filter, info);
  if (mult !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    return depthwiseBackpropInputLoops(heap, dy, filter, info);
  }
  // dx = correlation of D with the flipped filter, where D holds dy[oh, ow] at
  // (oh*sh + kh-1-pt, ow*sw + kw-1-pl) and zeros elsewhere, size (h+kh-1) x (w+kw-1).
  const hd = h + kh - 1;
  const wd = w + kw - 1;
  const d = heap.temp([n, hd, wd, c]);
  const flipped = heap.temp([kh, kw, c, 1]);
  {
    const dv = heap.f32(d);
    const dyv = heap.f32(dy);
    dv.fill(0);
    const top = kh - 1 - pt;
    const left = kw - 1 - pl;
    for (let b = 0; b < n; b++) {
      for (let oh = 0; oh < ho; oh++) {
        const r = oh * sh + top;
        if (r >= hd) break;
        const rowBase = (b * hd + r) * wd;
        let src = ((b * ho + oh) * wo) * c;
        for (let ow = 0; ow < wo; ow++, src += c) {
          const col = ow * sw + left;
          if (col >= wd) break;
          dv.set(dyv.subarray(src, src + c), (rowBase + col) * c);
        }
      }
    }
    const fv = heap.f32(filter);
    const ffv = heap.f32(flipped);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const src = ((kh - 1 - i) * kw + (kw - 1 - j)) * c;
        ffv.set(fv.subarray(src, src + c), (i * kw + j) * c);
      }
    }
  }
  try {
    return heap.run('DepthwiseConv2dNative', { x: d, filter: flipped }, { strides: [1, 1], pad: 'valid', dilations: [1, 1] });
  } finally {
    heap.release();
  }
}

/** The depthwise input gradient (multiplier 1); the kernel pool splits the examples across threads. */
function depthwiseBackpropInputSimd(
  heap: WasmHeap,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const out = heap.output([n, h, w, c]);
  heap.task(TASK.DW_INPUT, [heap.ptr(out), heap.ptr(dy), heap.ptr(filter), ...geometryArgs(info)], n, 1, minPartUnits(ho * wo * kh * kw * c));
  return out;
}

function depthwiseBackpropInputLoops(
  heap: WasmHeap,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outChannels: oc } = info;
  const m = oc / c;
  const out = heap.output([n, h, w, c]);
  const dx = heap.f32(out);
  const dyv = heap.f32(dy);
  const fv = heap.f32(filter);
  dx.fill(0);
  forEachDepthwiseTap(info, (xOff, dyOff, fOff) => {
    for (let ch = 0; ch < c; ch++) {
      let acc = 0;
      for (let q = 0; q < m; q++) acc += dyv[dyOff + ch * m + q]! * fv[fOff + ch * m + q]!;
      dx[xOff + ch] += acc;
    }
  });
  return out;
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropInput as tf.KernelFunc,
};
