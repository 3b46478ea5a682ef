import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select-backend.ts';
import { opForms, type RunningStats } from '../../src/backend/op-forms.ts';
import { indexed, leftmost, mergeVec, selectVec, type ChannelSel } from '../../src/network/channel-select.ts';
import { seeded, tensorflowAvailable } from '../helpers.ts';

// The op forms of every backend present compute what the `cpu` backend's forms compute: values,
// gradients and running statistics. The tensorflow forms are other ops altogether (FusedBatchNormV3,
// Relu6Grad, Conv2D for 1x1), so this is where their arithmetic is pinned down.

type Outputs = { name: string; shape: number[]; data: Float32Array }[];

const backends: ('wasm' | 'tensorflow')[] = ['wasm'];
if (await tensorflowAvailable()) backends.push('tensorflow');

async function on(backend: string, f: () => Record<string, tf.Tensor>): Promise<Outputs> {
  await initBackend(backend as 'cpu');
  assert.equal(opForms().backend, backend);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(f);
  const res = Object.entries(outs).map(([name, t]) => ({ name, shape: t.shape, data: t.dataSync() as Float32Array }));
  tf.dispose(Object.values(outs));
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return res;
}

function assertClose(label: string, want: Outputs, got: Outputs): void {
  assert.equal(got.length, want.length);
  want.forEach((w, i) => {
    const g = got[i]!;
    assert.deepEqual(g.shape, w.shape, `${label} ${w.name}: shape`);
    let diff = 0;
    let scale = 1e-6;
    for (let j = 0; j < w.data.length; j++) {
      diff = Math.max(diff, Math.abs(w.data[j]! - g.data[j]!));
      scale = Math.max(scale, Math.abs(w.data[j]!));
    }
    assert.ok(diff <= 1e-4 * scale, `${label} ${w.name}: max difference ${diff} at scale ${scale}`);
  });
}

function runningStats(mean: tf.Variable, variance: tf.Variable, sel: ChannelSel, momentum: number): RunningStats {
  const stats: RunningStats = {
    mean,
    variance,
    momentum,
    n: sel.n,
    select: (v) => selectVec(tf, v as tf.Tensor1D, sel),
    merge: (v, rest) => mergeVec(tf, v, rest as tf.Tensor1D, sel),
  };
  if (sel.idx) stats.idx = sel.idx;
  return stats;
}

/** One training-mode BN (+ ReLU6) on `channels` of 16, its gradients and the running statistics after it. */
function batchNormCase(shape: number[], channels: 'full' | 'leftmost' | 'indexed', relu6: boolean, momentum: number): () => Record<string, tf.Tensor> {
  return () => {
    const max = 16;
    const sel = channels === 'full' ? leftmost(max, max) : channels === 'leftmost' ? leftmost(max, 12) : indexed(tf, max, [0, 2, 3, 5, 8, 9, 13, 15]);
    const x = tf.add(seeded([...shape, sel.n], 11, 4), 2);
    const gamma = tf.add(seeded([sel.n], 12, 1), 2) as tf.Tensor1D;
    const beta = seeded([sel.n], 13, 1) as tf.Tensor1D;
    const w = seeded(x.shape, 14);
    const mean = tf.variable(seeded([max], 15), false);
    const variance = tf.variable(tf.add(tf.abs(seeded([max], 16)), 0.5), false);
    // kept: the forward's own tidy would dispose it; `on` disposes every output
    let y: tf.Tensor | undefined;
    const g = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
      y = tf.keep(opForms().batchNormTrain(xx, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-5, relu6, runningStats(mean, variance, sel, momentum)));
      return tf.sum(tf.mul(y, w));
    })([x, gamma, beta]);
    const out = { y: y!, dx: g[0]!, dgamma: g[1]!, dbeta: g[2]!, mean: tf.clone(mean), variance: tf.clone(variance) };
    mean.dispose();
    variance.dispose();
    return out;
  };
}

test('training batch norm (+ ReLU6): values, gradients and running statistics equal cpu on every backend', async () => {
  const cases: [number[], 'full' | 'leftmost' | 'indexed', boolean, number][] = [
    [[4, 5, 5], 'full', true, 0.1],
    [[4, 5, 5], 'leftmost', false, 0.1],
    [[3, 6, 6], 'indexed', true, 0.3],
    [[2, 3, 3], 'leftmost', true, 1],
    [[37], 'full', false, 0.1], // rank 2: [rows, C], as after a matMul
    [[1, 1, 1], 'full', true, 0.5], // one value per channel: running variance takes the biased one
  ];
  for (const [shape, channels, relu6, momentum] of cases) {
    const label = `[${shape}] ${channels} relu6=${relu6} momentum=${momentum}`;
    const want = await on('cpu', batchNormCase(shape, channels, relu6, momentum));
    for (const backend of backends) assertClose(`${backend} ${label}`, want, await on(backend, batchNormCase(shape, channels, relu6, momentum)));
  }
});

test('1x1 convolution: values and gradients equal cpu on every backend', async () => {
  const f = () => {
    const x = seeded([3, 4, 4, 6], 21);
    const w = seeded([6, 10], 22);
    const dy = seeded([3, 4, 4, 10], 23);
    let y: tf.Tensor | undefined;
    const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => {
      y = tf.keep(opForms().pointwiseConv(xx as tf.Tensor4D, ww as tf.Tensor2D));
      return tf.sum(tf.mul(y, dy));
    })([x, w]);
    return { y: y!, dx: g[0]!, dw: g[1]! };
  };
  const want = await on('cpu', f);
  for (const backend of backends) assertClose(backend, want, await on(backend, f));
});

test('inference batch norm (+ ReLU6) equals cpu on every backend', async () => {
  for (const [shape, relu6] of [[[3, 4, 4, 8], true], [[3, 4, 4, 8], false], [[21, 8], true]] as const) {
    const f = () => {
      const x = tf.add(seeded([...shape], 31, 4), 2);
      const gamma = tf.add(seeded([8], 32, 1), 2) as tf.Tensor1D;
      const beta = seeded([8], 33, 1) as tf.Tensor1D;
      const mean = seeded([8], 34) as tf.Tensor1D;
      const variance = tf.add(tf.abs(seeded([8], 35)), 0.5) as tf.Tensor1D;
      return { y: opForms().batchNormInfer(x, gamma, beta, mean, variance, 1e-5, relu6) };
    };
    const want = await on('cpu', f);
    for (const backend of backends) assertClose(`${backend} [${shape}] relu6=${relu6}`, want, await on(backend, f));
  }
});

test('global average pooling: value and gradient equal tfjs mean and its gradient bit for bit, on cpu and every backend', async () => {
  for (const shape of [[4, 7, 7, 24], [3, 1, 1, 5], [2, 3, 5, 9]]) {
    const run = (form: boolean) => () => {
      const x = seeded(shape, 41, 3);
      const dy = seeded([shape[0]!, shape[3]!], 42);
      let y: tf.Tensor | undefined;
      const [dx] = tf.grads((xx: tf.Tensor) => {
        y = tf.keep(form ? opForms().globalAvgPool(xx as tf.Tensor4D) : tf.mean(xx, [1, 2]));
        return tf.sum(tf.mul(y, dy));
      })([x]);
      return { y: y!, dx: dx! };
    };
    for (const backend of ['cpu', ...backends]) {
      const want = await on(backend, run(false));
      const got = await on(backend, run(true));
      want.forEach((w, i) => {
        assert.deepEqual(got[i]!.shape, w.shape, `${backend} [${shape}] ${w.name}: shape`);
        assert.deepEqual(got[i]!.data, w.data, `${backend} [${shape}] ${w.name}: values`);
      });
    }
  }
});
