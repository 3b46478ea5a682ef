import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, initBackend } from '../../src/backend/select-backend.ts';
import { batchNormTrain } from '../../src/backend/batch-norm-train.ts';
import { activeWasmKernelPool, setWasmKernelSplit, wasmKernelHelperThreads, type WasmKernelPool, type WasmKernelSplit } from '../../src/backend/wasm-kernel-pool.ts';

// Each kernel the pool splits, on shapes above the split threshold, run whole on the calling thread,
// split (the calling thread and the helper), and by the helper alone: the results must be the same
// bits, since every output element is computed by one part as one thread computes it.

/** Deterministic, sign-varying values. */
function values(shape: number[], seed: number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.sin(i * 0.7311 + seed * 1.37) * (1 + ((i * 7 + seed) % 5) / 4);
  return out;
}

function input(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(shape, seed), shape);
}

let pool: WasmKernelPool;

before(async () => {
  await initBackend('wasm', { threads: 2 });
  assert.equal(backendInfo().threads, 2);
  pool = activeWasmKernelPool()!;
  assert.ok(pool !== undefined, 'a 2-thread wasm backend has a kernel pool');
  await pool.whenReady();
  assert.equal(wasmKernelHelperThreads(), 1);
});

after(() => setWasmKernelSplit('split'));

/** Runs `f` in `mode`; returns its outputs' bytes and how many parts the helper ran. */
function runIn(mode: WasmKernelSplit, f: () => tf.Tensor[]): { outputs: Float32Array[]; splits: number; helperParts: number } {
  setWasmKernelSplit(mode);
  const before = tf.memory().numTensors;
  const { splits, helperParts } = pool.stats;
  try {
    const outs = tf.tidy(f);
    const outputs = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    assert.equal(tf.memory().numTensors, before);
    return { outputs, splits: pool.stats.splits - splits, helperParts: pool.stats.helperParts - helperParts };
  } finally {
    setWasmKernelSplit('split');
  }
}

/** Asserts that `f` gives the same bits whole, split and on the helper, and that it did split. */
function assertSplitsExactly(label: string, f: () => tf.Tensor[], splitsPerRun: number): void {
  const whole = runIn('whole', f);
  assert.equal(whole.splits, 0, `${label}: 'whole' runs on the calling thread`);
  const split = runIn('split', f);
  const helper = runIn('helpers', f);
  assert.equal(split.splits, splitsPerRun, `${label}: split dispatches`);
  assert.equal(helper.splits, splitsPerRun);
  assert.ok(helper.helperParts >= 2 * splitsPerRun, `${label}: the helper ran every part (${helper.helperParts})`);
  assert.equal(split.outputs.length, whole.outputs.length);
  for (let i = 0; i < whole.outputs.length; i++) {
    const w = Buffer.from(whole.outputs[i]!.buffer);
    assert.ok(w.equals(Buffer.from(split.outputs[i]!.buffer)), `${label}: output ${i} split differs from whole`);
    assert.ok(w.equals(Buffer.from(helper.outputs[i]!.buffer)), `${label}: output ${i} on the helper differs from whole`);
  }
}

describe('the wasm kernel pool splits kernels with results identical to one thread', () => {
  test('1x1-conv weight gradient (a^T b outer-product sums), split by output rows', () => {
    // m = 37 and n = 45 leave SIMD tails; k = 1500 is no multiple of the 512-row blocks.
    assertSplitsExactly('outer sums', () => [tf.matMul(input([1500, 37], 1), input([1500, 45], 2), true, false)], 1);
  });

  test('conv2d filter gradient, split by input channels', () => {
    const f = () => {
      const x = input([4, 20, 20, 12], 1) as tf.Tensor4D;
      return [tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 2, 'same'), 0.5)))(input([3, 3, 12, 20], 2))];
    };
    assertSplitsExactly('conv2d filter gradient', f, 1);
  });

  test('depthwise input and filter gradients, split by examples', () => {
    for (const stride of [1, 2]) {
      const f = () => {
        const x = input([24, 24, 24, 20], 3) as tf.Tensor4D;
        const w = input([3, 3, 20, 1], 4) as tf.Tensor4D;
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => {
          const y = tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same');
          return tf.sum(tf.mul(y, tf.sin(y)));
        })([x, w]);
      };
      assertSplitsExactly(`depthwise gradients, stride ${stride}`, f, 2);
    }
  });

  test('training batch norm forward and backward, with and without ReLU6, split by blocks of rows', () => {
    for (const relu6 of [false, true]) {
      const f = () => {
        const loss = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
          const { y, mean, variance } = batchNormTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-3, relu6);
          return tf.add(tf.sum(tf.mul(y, tf.sin(y))), tf.sum(tf.add(mean, variance))) as tf.Scalar;
        };
        // gamma scaled so that some pre-activations lie above 6 and some below 0
        const gamma = tf.mul(input([24], 6), 8);
        const { value, grads } = tf.valueAndGrads(loss)([input([16, 32, 32, 24], 5), gamma, input([24], 7)]);
        return [value, ...grads];
      };
      // The forward pass makes 3 dispatches, the backward pass 2.
      assertSplitsExactly(`batch norm${relu6 ? ' + ReLU6' : ''}`, f, 5);
    }
  });

  test('ReLU and ReLU6 gradients, split by element ranges', () => {
    for (const act of [tf.relu, tf.relu6]) {
      // 655361 elements: the last part is no multiple of the SIMD width.
      const f = () => [tf.grad((x: tf.Tensor) => tf.sum(tf.mul(act(tf.mul(x, 4)), x)))(input([655361], 8))];
      assertSplitsExactly(`${act.name} gradient`, f, 1);
    }
  });

  test('the helper sees the heap after it grows', () => {
    const memory = (tf.backend() as unknown as { wasm: { wasmMemory: { buffer: SharedArrayBuffer } } }).wasm.wasmMemory;
    const size = memory.buffer.byteLength;
    // 2^25 floats (128 MiB) more than the heap had: it must grow, after the helper started.
    const n = size / 4 + (1 << 25);
    const f = () => {
      const big = tf.fill([n], -1);
      // Allocated after `big`, so past where the heap ended before.
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), x)))(input([655361], 9));
      big.dispose();
      return [g];
    };
    assertSplitsExactly('ReLU gradient after growth', f, 1);
    assert.ok(memory.buffer.byteLength > size, 'the heap grew');
  });

  test('small tensors stay on the calling thread', () => {
    const r = runIn('split', () => [
      tf.matMul(input([64, 8], 1), input([64, 8], 2), true, false),
      tf.grad((x: tf.Tensor) => tf.sum(tf.relu(x)))(input([1000], 3)),
    ]);
    assert.equal(r.splits, 0);
  });
});
