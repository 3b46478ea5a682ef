import type * as tf from '@tensorflow/tfjs-core';
import { Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { KernelArgs } from './kernel-config.ts';
import { conv2dGradientSetup, transposeInto, type ConvAttrs } from './conv-gradient-util.ts';

/**
 * Conv2DBackpropInput: inputs {dy, filter}, attrs {inputShape, strides, pad, dataFormat,
 * dimRoundingMode}. The backend has this kernel, but as a scalar loop about 10x slower than the
 * forward convolution; here it is one XNNPACK convolution of the zero-dilated, padded dy with the
 * flipped filter whose channel axes are swapped.
 */
export function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const { heap, info } = conv2dGradientSetup('Conv2DBackpropInput', args.backend, attrs.inputShape, filter.shape, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const hd = h + kh - 1;
  const wd = w + kw - 1;
  const d = heap.temp([n, hd, wd, co]);
  const flipped = heap.temp([kh, kw, co, ci]);
  {
    const dv = heap.f32(d);
    const dyv = heap.f32(dy);
    dv.fill(0);
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    for (let b = 0; b < n; b++) {
      for (let oh = 0; oh < ho; oh++) {
        const r = oh * sh + top;
        if (r >= hd) break;
        const rowBase = (b * hd + r) * wd;
        for (let ow = 0; ow < wo; ow++) {
          const col = ow * sw + left;
          if (col >= wd) break;
          const src = ((b * ho + oh) * wo + ow) * co;
          dv.set(dyv.subarray(src, src + co), (rowBase + col) * co);
        }
      }
    }
    const fv = heap.f32(filter);
    const ffv = heap.f32(flipped);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const src = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
        transposeInto(fv.subarray(src, src + ci * co), ffv.subarray((i * kw + j) * co * ci, (i * kw + j + 1) * co * ci), ci, co);
      }
    }
  }
  try {
    return heap.run('Conv2D', { x: d, filter: flipped }, { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC' });
  } finally {
    heap.release();
  }
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as tf.KernelFunc,
};
