import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select-backend.ts';
import { batchNormTrain } from '../../src/backend/batch-norm-train.ts';
import { setWasmSimdKernels } from '../../src/backend/wasm-training-kernels.ts';
import { activeWasmKernelPool, setWasmKernelSplit, type WasmKernelSplit } from '../../src/backend/wasm-kernel-pool.ts';

// batchNormTrain with its ReLU6 fused (one SIMD kernel each way on wasm) against the unfused tfjs
// ops on `cpu` (moments, scale and shift, then tf.relu6), values and gradients in x, gamma and
// beta; and, on a 2-thread backend, the same bits whole and split across the kernel pool.

/** Deterministic, sign-varying values around `offset`. */
function values(shape: number[], seed: number, offset = 0): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = offset + Math.sin(i * 0.7311 + seed * 1.37) * (1 + ((i * 7 + seed) % 5) / 4) * 4;
  return out;
}

const t = (shape: number[], seed: number, offset = 0) => tf.tensor(values(shape, seed, offset), shape);

/**
 * gamma and beta for `c` channels: the last two channels have gamma 0 and beta 6 and 0, so their
 * pre-activation is exactly 6 and exactly 0 everywhere (ReLU6's two kinks: the gradient passes at 6
 * and not at 0); the rest spread the pre-activation across (-inf, 0), (0, 6) and (6, inf).
 */
function affineParams(c: number): { gamma: tf.Tensor1D; beta: tf.Tensor1D } {
  const g = values([c], 10, 1).map((v) => v * 1.5);
  const b = values([c], 11, 2);
  g[c - 2] = 0;
  b[c - 2] = 6;
  g[c - 1] = 0;
  b[c - 1] = 0;
  return { gamma: tf.tensor1d(g), beta: tf.tensor1d(b) };
}

/** y, mean, variance and the gradients of sum(y * w) in x, gamma and beta. */
function bnRelu6(shape: number[]): tf.Tensor[] {
  const c = shape[shape.length - 1]!;
  const x = t(shape, 9, 3);
  const { gamma, beta } = affineParams(c);
  const w = t(shape, 12);
  const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-3, true).y, w));
  const r = batchNormTrain(x, gamma, beta, 1e-3, true);
  return [r.y, r.mean, r.variance, ...tf.grads(f)([x, gamma, beta])];
}

/** The same from tfjs ops alone: the moments form of batch norm, then tf.relu6. */
function unfused(shape: number[]): tf.Tensor[] {
  const c = shape[shape.length - 1]!;
  const axes = shape.slice(0, -1).map((_, i) => i);
  const x = t(shape, 9, 3);
  const { gamma, beta } = affineParams(c);
  const w = t(shape, 12);
  const bn = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
    const { mean, variance } = tf.moments(xx, axes);
    const scale = tf.mul(gg, tf.rsqrt(tf.add(variance, 1e-3)));
    return { y: tf.relu6(tf.add(tf.mul(xx, scale), tf.sub(bb, tf.mul(mean, scale)))), mean, variance };
  };
  const r = bn(x, gamma, beta);
  return [r.y, r.mean, r.variance, ...tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(bn(xx, gg, bb).y, w)))([x, gamma, beta])];
}

function read(f: () => tf.Tensor[]): Float32Array[] {
  const before = tf.memory().numTensors;
  const outs = tf.tidy(f);
  const data = outs.map((o) => o.dataSync() as Float32Array);
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  return data;
}

const OUTPUTS = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];

function assertClose(label: string, got: Float32Array[], want: Float32Array[]): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const e = want[i]!;
    const a = got[i]!;
    assert.equal(a.length, e.length, `${label}: ${OUTPUTS[i]} size`);
    let diff = 0;
    let scale = 1e-12;
    for (let j = 0; j < e.length; j++) {
      diff = Math.max(diff, Math.abs(e[j]! - a[j]!));
      scale = Math.max(scale, Math.abs(e[j]!));
    }
    assert.ok(diff / scale < 1e-4, `${label}: ${OUTPUTS[i]} relative error ${diff / scale}`);
  }
}

after(() => {
  setWasmSimdKernels(true);
  setWasmKernelSplit('split');
});

describe('batch norm with ReLU6 fused', () => {
  // [2, 3, 3, 16] and [8, 5, 5, 7]: whole vectors and single lanes; [300, 13]: a partial last block
  // of rows; [4, 24, 24, 10]: several blocks.
  const shapes = [[2, 3, 3, 16], [8, 5, 5, 7], [300, 13], [4, 24, 24, 10]];

  for (const simd of [true, false]) {
    test(`matches batch norm then tf.relu6 on cpu, values and gradients (SIMD ${simd ? 'on' : 'off'})`, async () => {
      for (const shape of shapes) {
        await initBackend('cpu');
        const want = read(() => unfused(shape));
        await initBackend('wasm', { threads: 2 });
        setWasmSimdKernels(simd);
        try {
          assertClose(`${shape.join('x')}`, read(() => bnRelu6(shape)), want);
        } finally {
          setWasmSimdKernels(true);
        }
        const c = shape[shape.length - 1]!;
        const dbeta = want[5]!;
        assert.equal(dbeta[c - 1], 0, 'a pre-activation of exactly 0 passes no gradient');
        assert.notEqual(dbeta[c - 2], 0, 'a pre-activation of exactly 6 passes the gradient');
      }
    });
  }

  test('the kinks at 0 and 6 mask the gradient as tf.relu6 does, exactly', async () => {
    await initBackend('wasm', { threads: 2 });
    const shape = [4, 6, 6, 9];
    const [y, , , dx, , dbeta] = read(() => bnRelu6(shape));
    const c = shape[shape.length - 1]!;
    const w = values(shape, 12);
    let sum6 = 0;
    for (let i = 0; i < y!.length; i += c) {
      assert.equal(y![i + c - 2], 6);
      assert.equal(y![i + c - 1], 0);
      // gamma 0: dx is zero on both channels; beta's gradient is the sum of w where the gradient passes
      assert.equal(dx![i + c - 2], 0);
      assert.equal(dx![i + c - 1], 0);
      sum6 += w[i + c - 2]!;
    }
    assert.ok(Math.abs(dbeta![c - 2]! - sum6) <= 1e-5 * Math.max(1, Math.abs(sum6)), `dbeta at 6: ${dbeta![c - 2]} vs ${sum6}`);
    assert.equal(dbeta![c - 1], 0);
  });

  test('on 2 threads, the same bits whole, split and on the helper', async () => {
    await initBackend('wasm', { threads: 2 });
    const pool = activeWasmKernelPool();
    assert.ok(pool !== undefined, 'a 2-thread wasm backend has a kernel pool');
    await pool.whenReady();
    const shape = [16, 32, 32, 24];
    const runIn = (mode: WasmKernelSplit) => {
      setWasmKernelSplit(mode);
      const splits = pool.stats.splits;
      try {
        return { data: read(() => bnRelu6(shape)), splits: pool.stats.splits - splits };
      } finally {
        setWasmKernelSplit('split');
      }
    };
    const whole = runIn('whole');
    const split = runIn('split');
    const helpers = runIn('helpers');
    assert.equal(whole.splits, 0);
    // 3 dispatches for the forward that gives the values, 3 and 2 for the one under tf.grads.
    assert.equal(split.splits, 8);
    assert.equal(helpers.splits, 8);
    for (const other of [split, helpers]) {
      for (let i = 0; i < whole.data.length; i++) {
        assert.deepEqual(Buffer.from(other.data[i]!.buffer), Buffer.from(whole.data[i]!.buffer), `${OUTPUTS[i]} bit for bit`);
      }
    }
  });
});
