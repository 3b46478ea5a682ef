import type * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from '../wasm-heap.ts';

/**
 * Helpers shared by the convolution gradient kernels of the `wasm` backend (Conv2DBackpropFilter,
 * Conv2DBackpropInput, DepthwiseConv2dNativeBackpropInput, DepthwiseConv2dNativeBackpropFilter),
 * which tfjs-backend-wasm 4.22 lacks or has only as a slow scalar loop. Each kernel is rewritten as
 * data movement done in JS over the heap plus one call of a fast XNNPACK kernel that the backend
 * already has (depthwise convolution, Conv2D, BatchMatMul), so the arithmetic runs in SIMD wasm and
 * JS only copies memory. Where WebAssembly SIMD is available (Node 20 has it), the depthwise
 * gradients and the conv2d filter gradient instead run their inner loops in the engine's SIMD
 * routines (wasm-simd.ts) directly over the heap, on the kernel pool's threads. Cases no fast path
 * covers (channel multiplier > 1 without SIMD, dilation > 1) use plain loops.
 */

export type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
};

function asPair(v: [number, number] | number | undefined): [number, number] {
  if (v === undefined) return [1, 1];
  return typeof v === 'number' ? [v, v] : v;
}

export function depthwiseInfo(xShape: number[], filterShape: number[], a: ConvAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    asPair(a.dilations),
    a.pad,
    a.dimRoundingMode,
    true,
  );
}

/**
 * The heap and geometry of a conv2d gradient kernel (no dilation). Throws Error naming `kernel` when
 * the data format is NCHW, which these kernels do not support.
 */
export function conv2dGradientSetup(
  kernel: string,
  backend: tf.KernelBackend,
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): { heap: WasmHeap; info: backend_util.Conv2DInfo } {
  if (attrs.dataFormat === 'NCHW') throw new Error(`wasm ${kernel} supports dataFormat 'NHWC' only`);
  const heap = new WasmHeap(backend as BackendWasm);
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  return { heap, info };
}

/** dst [cols, rows] = src [rows, cols]^T, in tiles so both sides stay in cache. */
export function transposeInto(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const rowOff = r * cols;
        for (let cc = c0; cc < c1; cc++) dst[cc * rows + r] = src[rowOff + cc]!;
      }
    }
  }
}

/** The geometry arguments of the convolution tasks in wasm-kernel-tasks.mjs (`c`: input channels). */
export function geometryArgs(info: backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ];
}

/**
 * The plain-loop depthwise walk: for every example, output pixel and filter tap whose input pixel
 * lies inside x, calls `visit` with the element offsets of that x pixel (`inChannels` per pixel),
 * of the dy pixel and of the tap's filter row (`outChannels` each).
 */
export function forEachDepthwiseTap(info: backend_util.Conv2DInfo, visit: (xOff: number, dyOff: number, fOff: number) => void): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo, outChannels: oc } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < ho; oh++) {
      for (let ow = 0; ow < wo; ow++) {
        const dyOff = ((b * ho + oh) * wo + ow) * oc;
        for (let i = 0; i < kh; i++) {
          const xi = oh * sh - pt + i * dh;
          if (xi < 0 || xi >= h) continue;
          for (let j = 0; j < kw; j++) {
            const xj = ow * sw - pl + j * dw;
            if (xj < 0 || xj >= w) continue;
            const xOff = ((b * h + xi) * w + xj) * c;
            const fOff = (i * kw + j) * oc;
            visit(xOff, dyOff, fOff);
          }
        }
      }
    }
  }
}
