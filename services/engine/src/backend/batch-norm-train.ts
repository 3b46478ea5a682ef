import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WasmHeap, wasmSimdActive } from './wasm-heap.ts';
import { minPartUnits } from './wasm-kernel-pool.ts';
import { BN_BLOCK_ROWS, TASK } from './wasm-kernel-tasks.mjs';

/**
 * Batch normalisation in training mode over every axis but the last (channels):
 * y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, with the batch's mean and biased
 * variance, differentiable in x, gamma and beta (mean and variance depend on x); then ReLU6 when
 * `relu6`.
 *
 * On `wasm` with SIMD it is one fused kernel forward (three passes over x, of which only the last
 * writes: y) and one backward (two passes over x and dy, writing dz with ReLU6, then dx), where the
 * same computation from tfjs ops (moments, rsqrt, scale and shift, and their gradients) makes about
 * twenty passes; the wasm kernel pool splits each pass by blocks of rows, and float32 sums per
 * block are added in float64 in block order. Neither stores the centred values x - mean: each pass
 * that needs them makes them in registers from x, because on activations larger than the cache the
 * passes are bound by memory traffic, and a stored copy cost a write and a read of x's size. ReLU6
 * is fused into the last forward pass (clamping as it writes y) and its gradient into the first
 * backward pass (the pre-activation recomputed from x, with the forward's float32 scale and shift,
 * masks dy), so it costs no pass of its own either way. Elsewhere it is those tfjs ops and
 * `tf.relu6`.
 *
 * Returns `mean` and `variance` (biased) too, for running statistics; they carry no gradient.
 */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  relu6 = false,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (x.dtype === 'float32' && tf.getKernel(BN_FORWARD, 'wasm') != null && wasmSimdActive()) {
    return fusedBatchNorm(x, gamma, beta, epsilon, relu6);
  }
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
  const shift = tf.sub(beta, tf.mul(mean, scale));
  const y = tf.add(tf.mul(x, scale), shift);
  return { y: relu6 ? tf.relu6(y) : y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

export const BN_FORWARD = 'SupernetdBatchNormTrain';
export const BN_BACKWARD = 'SupernetdBatchNormTrainGrad';

function fusedBatchNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, relu6: boolean) {
  let stats: tf.Tensor1D[] = [];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, variance] = tf.engine().runKernel(BN_FORWARD, { x: xIn, gamma: g, beta: b }, { epsilon, relu6 }) as tf.Tensor[];
    save([xIn, g, b, mean!, variance!]);
    // The forward function runs inside a tidy; the statistics leave it kept and are handed back to
    // the caller's scope below.
    stats = [tf.keep(mean!) as tf.Tensor1D, tf.keep(variance!) as tf.Tensor1D];
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs, bs, ms, vs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(BN_BACKWARD, { dy, x: xs, gamma: gs, beta: bs, mean: ms, variance: vs }, { epsilon, relu6 }) as tf.Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta);
  const [mean, variance] = stats.map((t) => {
    const tracked = tf.clone(t);
    t.dispose();
    return tracked as tf.Tensor1D;
  });
  return { y, mean: mean!, variance: variance! };
}

/**
 * Column sums, in float64 and block order, of the float32 partial sums [blocks, cols] that the
 * BN_STATS and BN_GRAD_SUMS tasks leave (one row per block of BN_BLOCK_ROWS rows).
 */
function blockSums(heap: WasmHeap, part: tf.TensorInfo, blocks: number, cols: number): Float64Array {
  const view = heap.f32(part);
  const sums = new Float64Array(cols);
  for (let k = 0; k < blocks; k++) {
    const base = k * cols;
    for (let c = 0; c < cols; c++) sums[c]! += view[base + c]!;
  }
  return sums;
}

function setVec(heap: WasmHeap, t: tf.TensorInfo, values: ArrayLike<number>): void {
  heap.f32(t).set(values);
}

/** ReLU6's upper bound. */
const RELU6_UPPER = 6;

/**
 * Batch norm's float32 scale gamma / sqrt(variance + epsilon) from the float32 variance, so the
 * backward recomputes the forward's scale bit for bit (its ReLU6 mask needs the same pre-activation).
 */
function bnScale(gamma: ArrayLike<number>, variance: ArrayLike<number>, epsilon: number): Float32Array {
  const scale = new Float32Array(gamma.length);
  for (let c = 0; c < scale.length; c++) scale[c] = gamma[c]! / Math.sqrt(Math.fround(variance[c]!) + epsilon);
  return scale;
}

/** Forward: inputs {x, gamma, beta}, attrs {epsilon, relu6} -> [y, mean, variance]. */
function batchNormForward(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { epsilon, relu6 } = args.attrs as unknown as { epsilon: number; relu6?: boolean };
  const heap = new WasmHeap(args.backend as BackendWasm);
  if (heap.simd() === null) throw new Error(`${BN_FORWARD} needs WebAssembly SIMD`);
  const cols = x.shape[x.shape.length - 1]!;
  const rows = util.sizeFromShape(x.shape) / cols;
  const blocks = Math.ceil(rows / BN_BLOCK_ROWS);
  const y = heap.output(x.shape);
  const meanOut = heap.output([cols]);
  const varOut = heap.output([cols]);
  const ones = heap.temp([cols]);
  const part = heap.temp([blocks, cols]);
  const shift = heap.temp([cols]);
  const scale = heap.temp([cols]);
  heap.f32(ones).fill(1);
  const xPtr = heap.ptr(x);
  const onesPtr = heap.ptr(ones);
  const partPtr = heap.ptr(part);
  const shiftPtr = heap.ptr(shift);
  // Two passes (mean, then the variance of the centred values) for a variance as exact as moments'.
  const split = minPartUnits(BN_BLOCK_ROWS * cols * 2);
  heap.task(TASK.BN_STATS, [rows, cols, partPtr, xPtr, -1, onesPtr], blocks, 1, split);
  const mean = blockSums(heap, part, blocks, cols).map((s) => s / rows);
  setVec(heap, shift, mean.map((m) => -m));
  heap.task(TASK.BN_STATS, [rows, cols, partPtr, xPtr, shiftPtr, onesPtr], blocks, 1, split);
  const variance = blockSums(heap, part, blocks, cols).map((s) => s / rows);
  setVec(heap, scale, bnScale(heap.f32(gamma), variance, epsilon));
  // y = (x - mean) * scale + beta, clamped to [0, 6] for ReLU6 (the backward's mask recomputes the
  // same float32 pre-activation), else not clamped
  const [lo, hi] = relu6 === true ? [0, RELU6_UPPER] : [-Infinity, Infinity];
  heap.task(TASK.BN_OUT, [rows, cols, heap.ptr(y), xPtr, shiftPtr, heap.ptr(scale), heap.ptr(beta), lo, hi], blocks, 1, split);
  setVec(heap, meanOut, mean);
  setVec(heap, varOut, variance);
  heap.release();
  return [y, meanOut, varOut];
}

/**
 * Backward: inputs {dy, x, gamma, beta, mean, variance}, attrs {epsilon, relu6} -> [dx, dgamma,
 * dbeta]. With relu6, dy is the gradient of the activation's output: the first pass masks it where
 * the recomputed pre-activation lies outside (0, 6] and keeps the masked gradient in dx, which the
 * last pass then overwrites element by element. Neither pass stores x - mean: both make it in
 * registers from x (as the forward does).
 */
function batchNormBackward(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { dy, x, gamma, beta, mean, variance } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'beta' | 'mean' | 'variance', tf.TensorInfo>;
  const { epsilon, relu6 } = args.attrs as unknown as { epsilon: number; relu6?: boolean };
  const heap = new WasmHeap(args.backend as BackendWasm);
  if (heap.simd() === null) throw new Error(`${BN_BACKWARD} needs WebAssembly SIMD`);
  const cols = x.shape[x.shape.length - 1]!;
  const rows = util.sizeFromShape(x.shape) / cols;
  const blocks = Math.ceil(rows / BN_BLOCK_ROWS);
  const dx = heap.output(x.shape);
  const dgamma = heap.output([cols]);
  const dbeta = heap.output([cols]);
  const part1 = heap.temp([blocks, cols]);
  const part2 = heap.temp([blocks, cols]);
  const negMean = heap.temp([cols]);
  const va = heap.temp([cols]);
  const vb = heap.temp([cols]);
  const vd = heap.temp([cols]);
  const m = Float64Array.from(heap.f32(mean));
  const v = Float64Array.from(heap.f32(variance));
  const g = Float64Array.from(heap.f32(gamma));
  setVec(heap, negMean, m.map((x) => -x));
  const xPtr = heap.ptr(x);
  const dyPtr = heap.ptr(dy);
  const negMeanPtr = heap.ptr(negMean);
  const split = minPartUnits(BN_BLOCK_ROWS * cols * 2);
  // The gradient below the activation: dy itself, or dy masked into dx's memory (the mask needs the
  // forward's scale; unmasked, bnGradSums reads neither it nor beta).
  const masked = relu6 === true;
  const dzPtr = masked ? heap.ptr(dx) : dyPtr;
  let scalePtr = 0;
  if (masked) {
    const scale = heap.temp([cols]);
    setVec(heap, scale, bnScale(g, v, epsilon));
    scalePtr = heap.ptr(scale);
  }
  const sums = [rows, cols, heap.ptr(part1), heap.ptr(part2), dzPtr, dyPtr, xPtr, negMeanPtr, scalePtr, heap.ptr(beta), RELU6_UPPER, masked ? 1 : 0];
  heap.task(TASK.BN_GRAD_SUMS, sums, blocks, 1, split);
  const sdy = blockSums(heap, part1, blocks, cols);
  const sdyc = blockSums(heap, part2, blocks, cols);
  // With xhat = (x - mean) * istd: dx = gamma*istd*dy - gamma*istd*sum(dy)/R
  //                                     - gamma*istd^3*(x - mean)*sum(dy*(x - mean))/R.
  const a = new Float64Array(cols);
  const b = new Float64Array(cols);
  const d = new Float64Array(cols);
  const dg = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    const istd = 1 / Math.sqrt(v[c]! + epsilon);
    a[c] = g[c]! * istd;
    b[c] = (-g[c]! * istd * istd * istd * sdyc[c]!) / rows;
    d[c] = (-g[c]! * istd * sdy[c]!) / rows;
    dg[c] = sdyc[c]! * istd;
  }
  setVec(heap, va, a);
  setVec(heap, vb, b);
  setVec(heap, vd, d);
  const dxArgs = [rows, cols, heap.ptr(dx), dzPtr, xPtr, negMeanPtr, heap.ptr(va), heap.ptr(vb), heap.ptr(vd)];
  heap.task(TASK.BN_GRAD_DX, dxArgs, blocks, 1, split);
  setVec(heap, dgamma, dg);
  setVec(heap, dbeta, sdy);
  heap.release();
  return [dx, dgamma, dbeta];
}

/** Registers the fused kernels for `wasm`. Idempotent. */
export function registerBatchNormKernels(): void {
  if (tf.getKernel(BN_FORWARD, 'wasm') != null) return;
  tf.registerKernel({ kernelName: BN_FORWARD, backendName: 'wasm', kernelFunc: batchNormForward as tf.KernelFunc });
  tf.registerKernel({ kernelName: BN_BACKWARD, backendName: 'wasm', kernelFunc: batchNormBackward as tf.KernelFunc });
}
