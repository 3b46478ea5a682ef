import type * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap } from './wasm-heap.ts';
import { minPartUnits } from './wasm-kernel-pool.ts';
import { TASK } from './wasm-kernel-tasks.mjs';

/**
 * Convolution gradients for the `wasm` backend, which tfjs-backend-wasm 4.22 lacks. Each is rewritten
 * as data movement done in JS over the heap plus one call of a fast XNNPACK kernel that the backend
 * already has (depthwise convolution, BatchMatMul), so the arithmetic runs in SIMD wasm and JS only
 * copies memory:
 *
 * - depthwise input gradient = depthwise convolution of the zero-dilated, padded output gradient
 *   with the spatially flipped filter;
 * - depthwise filter gradient = one depthwise convolution whose "channels" are (example, channel)
 *   pairs, whose input is x and whose filter is the output gradient (dilated by the stride), then a
 *   sum over examples;
 * - conv2d filter gradient = im2col(x)^T . dy as one BatchMatMul (without SIMD), or sums of outer
 *   products along output rows (with SIMD; no im2col).
 *
 * Where WebAssembly SIMD is available (Node 20 has it), the depthwise gradients instead run their inner
 * loops in the SIMD routine of wasm-simd.ts directly over the heap, which is faster still (the
 * filter gradient by 10x: a depthwise convolution with an output-sized filter is a slow case for
 * XNNPACK). Cases no fast path covers (channel multiplier > 1 without SIMD, dilation > 1) use plain
 * loops.
 */

/** What the kernel registry hands each kernel below. */
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

type ConvAttrs = {
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

function depthwiseInfo(xShape: number[], filterShape: number[], a: ConvAttrs): backend_util.Conv2DInfo {
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
function conv2dGradientSetup(
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

/** DepthwiseConv2dNativeBackpropInput: inputs {dy, filter}, attrs {inputShape, strides, pad, dilations}. */
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

/** DepthwiseConv2dNativeBackpropFilter: inputs {x, dy}, attrs {filterShape, strides, pad, dilations}. */
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

/** Conv2DBackpropFilter: inputs {x, dy}, attrs {filterShape, strides, pad, dataFormat, dimRoundingMode}. */
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
function geometryArgs(info: backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ];
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

/**
 * The plain-loop depthwise walk: for every example, output pixel and filter tap whose input pixel
 * lies inside x, calls `visit` with the element offsets of that x pixel (`inChannels` per pixel),
 * of the dy pixel and of the tap's filter row (`outChannels` each).
 */
function forEachDepthwiseTap(info: backend_util.Conv2DInfo, visit: (xOff: number, dyOff: number, fOff: number) => void): void {
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
