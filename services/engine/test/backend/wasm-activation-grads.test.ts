import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select-backend.ts';
import { RELU_GRAD_KERNEL } from '../../src/backend/kernels/SupernetdReluGrad.ts';

/** The kernels one ReLU and one ReLU6 gradient run on the active backend. */
async function gradientKernels(): Promise<string[]> {
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([-1, 0.5, 2, 7]);
  const info = await tf.profile(() => [tf.grad((a: tf.Tensor) => tf.sum(tf.relu(a)))(x), tf.grad((a: tf.Tensor) => tf.sum(tf.relu6(a)))(x)]);
  const grads = info.result as tf.Tensor[];
  assert.deepEqual(Array.from(grads[0]!.dataSync()), [0, 1, 1, 1]);
  assert.deepEqual(Array.from(grads[1]!.dataSync()), [0, 1, 1, 0]);
  tf.dispose([x, ...grads]);
  assert.equal(tf.memory().numTensors, before);
  return info.kernels.map((k) => k.name);
}

test('the fused ReLU gradients come back on wasm after @tensorflow/tfjs registered its stock gradients again', async () => {
  await initBackend('wasm');
  assert.ok((await gradientKernels()).filter((k) => k === RELU_GRAD_KERNEL).length === 2);
  // What tfjs-node does when it loads: the union package registers every stock gradient again.
  createRequire(import.meta.url)('@tensorflow/tfjs');
  const stock = await gradientKernels();
  assert.ok(!stock.includes(RELU_GRAD_KERNEL) && stock.includes('LessEqual'), `the stock gradients replaced the fused ones: ${stock}`);
  // The next activation of wasm (the benchmark switches backends per case) puts them back.
  await initBackend('cpu');
  await initBackend('wasm');
  assert.ok((await gradientKernels()).filter((k) => k === RELU_GRAD_KERNEL).length === 2);
});
