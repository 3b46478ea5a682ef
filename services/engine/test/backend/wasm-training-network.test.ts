import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { activeBackend, initBackend } from '../../src/backend/select-backend.ts';
import { describeBackends } from '../describe-backends.ts';

function values(shape: number[], seed: number, scale: number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.sin(i * 0.7311 + seed * 1.37) * scale;
  return out;
}

const SHAPES: Record<string, number[]> = {
  stem: [3, 3, 3, 16],
  dw1: [3, 3, 16, 1],
  pw1: [16, 24],
  dw2: [5, 5, 24, 1],
  pw2: [24, 32],
  gamma: [32],
  beta: [32],
  fc: [32, 10],
};

/**
 * A small MobileNet-style net in the op forms the engine uses (1x1 convolutions as matMul, batch
 * norm from moments, relu6, channel slicing for elastic width), with its variables on the active
 * backend.
 */
function makeNet(): { vars: Record<string, tf.Variable>; loss: (x: tf.Tensor4D, labels: tf.Tensor2D) => tf.Scalar } {
  const vars: Record<string, tf.Variable> = {};
  let seed = 3;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const scale = name === 'gamma' ? 0 : 1 / Math.sqrt(shape.slice(0, -1).reduce((a, b) => a * b, 1));
    const init = name === 'gamma' ? new Float32Array(32).fill(1) : values(shape, seed++, scale);
    vars[name] = tf.variable(tf.tensor(init, shape), true, name);
  }
  const pointwise = (h: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D => {
    const [n, hh, ww, c] = h.shape;
    return tf.reshape(tf.matMul(tf.reshape(h, [n * hh * ww, c]), w), [n, hh, ww, w.shape[1]]);
  };
  const loss = (x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar => {
    let h = tf.relu6(tf.conv2d(x, vars.stem as tf.Tensor4D, 2, 'same'));
    h = tf.relu6(tf.depthwiseConv2d(h, vars.dw1 as tf.Tensor4D, 1, 'same'));
    h = tf.relu6(pointwise(h, vars.pw1 as tf.Tensor2D));
    // Elastic width: the subnet uses the first 20 of 24 channels.
    h = tf.slice(h, [0, 0, 0, 0], [-1, -1, -1, 20]);
    h = tf.relu6(tf.depthwiseConv2d(h, tf.slice(vars.dw2!, [0, 0, 0, 0], [5, 5, 20, 1]) as tf.Tensor4D, 2, 'same'));
    h = pointwise(h, tf.slice(vars.pw2!, [0, 0], [20, 32]) as tf.Tensor2D);
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5))), vars.gamma!), vars.beta!);
    const pooled = tf.mean(tf.relu(h), [1, 2]) as tf.Tensor2D;
    const logits = tf.matMul(pooled, vars.fc as tf.Tensor2D);
    const ce = tf.mean(tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1)));
    const kl = tf.mean(tf.sum(tf.mul(tf.softmax(logits), tf.logSoftmax(logits)), 1));
    return tf.add(ce, tf.mul(kl, 0.1)) as tf.Scalar;
  };
  return { vars, loss };
}

function batch(): { x: tf.Tensor4D; labels: tf.Tensor2D } {
  const x = tf.tensor4d(values([8, 16, 16, 3], 1, 1), [8, 16, 16, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10) as tf.Tensor2D;
  return { x, labels };
}

async function networkGrads(backend: 'cpu' | 'wasm' | 'tensorflow'): Promise<Record<string, Float32Array>> {
  await initBackend(backend);
  const { vars, loss } = makeNet();
  const { x, labels } = batch();
  const { value, grads } = tf.variableGrads(() => loss(x, labels));
  const out: Record<string, Float32Array> = { loss: value.dataSync() as Float32Array };
  for (const [name, g] of Object.entries(grads)) out[name] = g.dataSync() as Float32Array;
  tf.dispose([value, x, labels, ...Object.values(grads), ...Object.values(vars)]);
  return out;
}

/** Loss and gradients of `backend` against cpu's, as relative max errors under `tolerance`. */
async function assertMatchesCpu(backend: 'wasm' | 'tensorflow', tolerance: number): Promise<void> {
  const cpu = await networkGrads('cpu');
  const other = await networkGrads(backend);
  assert.deepEqual(Object.keys(other).sort(), Object.keys(cpu).sort());
  for (const [name, expected] of Object.entries(cpu)) {
    const actual = other[name]!;
    let diff = 0;
    let scale = 1e-12;
    for (let i = 0; i < expected.length; i++) {
      diff = Math.max(diff, Math.abs(expected[i]! - actual[i]!));
      scale = Math.max(scale, Math.abs(expected[i]!));
    }
    assert.ok(diff / scale < tolerance, `${backend} ${name}: relative error ${diff / scale}`);
  }
}

describeBackends('training a MobileNet-style net', (backend) => {
  test('gives the same loss and variable gradients as cpu', async () => {
    await assertMatchesCpu(backend, 1e-4);
  });
});

describe('training a MobileNet-style net on wasm', () => {
  test('leaks no tensors and no wasm heap allocations across steps', async () => {
    assert.equal(await initBackend('wasm'), 'wasm');
    assert.equal(activeBackend(), 'wasm');
    const backend = tf.backend() as BackendWasm;
    const { vars, loss } = makeNet();
    const { x, labels } = batch();
    const optimizer = tf.train.sgd(0.01);
    const step = (): void => {
      const cost = optimizer.minimize(() => loss(x, labels), true);
      cost?.dispose();
    };
    step();
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend.numDataIds(), dataIds);
    optimizer.dispose();
    tf.dispose([x, labels, ...Object.values(vars)]);
  });
});
