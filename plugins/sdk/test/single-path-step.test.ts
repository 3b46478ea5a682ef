// singlePathCeStep on real TensorFlow.js (cpu backend) over a linear "supernet" whose logits are a
// function of the subnet, so the step's cross-entropy can be recomputed here: one forward in
// training mode, the labels' CE with the given smoothing, one engine step, no tensor left behind.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { singlePathCeStep } from '../src/index.ts';
import type { Arch, Batch, ForwardOptions, Network, SupernetEngine } from '../src/index.ts';
import { toySpace } from './toy-space.ts';

const CLASSES = 3;

/** Logits x·W·scale, with scale = the subnet's width 'a' / 8: a different subnet, different logits. */
function logitsOf(w: tf.Tensor2D, arch: Arch, x: tf.Tensor4D): tf.Tensor2D {
  const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
  return tf.mul(tf.matMul(flat, w), (arch.width['a'] ?? 0) / 8);
}

function ceOf(logits: tf.Tensor, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(labels, 'int32'), CLASSES), logits, undefined, labelSmoothing) as tf.Scalar;
}

/** The part of a SupernetEngine singlePathCeStep uses, recording what it was asked. */
class LinearEngine {
  readonly tf = tf;
  readonly forwards: { arch: Arch; opts: ForwardOptions }[] = [];
  readonly smoothings: (number | undefined)[] = [];
  steps = 0;
  readonly supernet: Network;

  constructor(
    private readonly w: tf.Tensor2D,
    private readonly failStep = false,
  ) {
    this.supernet = {
      id: 'supernet',
      space: toySpace(),
      forward: (arch, x, opts) => {
        this.forwards.push({ arch, opts });
        return logitsOf(this.w, arch, x);
      },
      variableNames: () => [],
    };
  }

  ce(logits: tf.Tensor, labels: tf.Tensor1D, labelSmoothing?: number): tf.Scalar {
    this.smoothings.push(labelSmoothing);
    return ceOf(logits, labels, labelSmoothing);
  }

  step(loss: () => tf.Scalar): { loss: number; learningRate: number } {
    this.steps++;
    const value = tf.tidy(() => loss().dataSync()[0] as number);
    if (this.failStep) throw new Error('the optimiser failed');
    return { loss: value, learningRate: 0.05 };
  }
}

const asEngine = (e: LinearEngine) => e as unknown as SupernetEngine;

describe('singlePathCeStep', () => {
  let w: tf.Tensor2D;
  let batch: Batch;
  const arch: Arch = { resolution: 16, width: { a: 8, b: 16 }, op: { o: 0 } };

  before(async () => {
    await tf.setBackend('cpu');
    w = tf.tensor2d([0.5, -1, 0.25, 2, 0, -0.5, 1, 1, 0.75, -0.25, 0.5, 1.5], [4, CLASSES]);
    batch = { x: tf.tensor4d([1, 2, 0, -1, 0.5, 0.5, 3, 1], [2, 1, 1, 4]), y: tf.tensor1d([2, 0], 'int32') };
  });

  it("runs the subnet once in training mode, one engine step, and reports the step's CE as ce and total", () => {
    const e = new LinearEngine(w);
    const log = singlePathCeStep(asEngine(e), batch, arch, 0);
    assert.equal(e.steps, 1);
    assert.equal(e.forwards.length, 1);
    assert.equal(e.forwards[0]?.arch, arch);
    assert.deepEqual(e.forwards[0]?.opts, { training: true });
    const want = tf.tidy(() => ceOf(logitsOf(w, arch, batch.x), batch.y).dataSync()[0] as number);
    assert.deepEqual(log.losses, { ce: want, total: want });
    assert.equal(log.archs.length, 1);
    assert.equal(log.archs[0], arch);
  });

  it('passes the label smoothing to the CE', () => {
    const e = new LinearEngine(w);
    const log = singlePathCeStep(asEngine(e), batch, arch, 0.2);
    assert.deepEqual(e.smoothings, [0.2]);
    const [plain, smoothed] = tf.tidy(() => {
      const logits = logitsOf(w, arch, batch.x);
      return [ceOf(logits, batch.y).dataSync()[0] as number, ceOf(logits, batch.y, 0.2).dataSync()[0] as number];
    });
    assert.notEqual(plain, smoothed);
    assert.equal(log.losses['ce'], smoothed);
  });

  it('trains the subnet it is given', () => {
    const other: Arch = { resolution: 16, width: { a: 16, b: 16 }, op: { o: 0 } };
    const a = singlePathCeStep(asEngine(new LinearEngine(w)), batch, arch, 0);
    const b = singlePathCeStep(asEngine(new LinearEngine(w)), batch, other, 0);
    assert.notEqual(a.losses['ce'], b.losses['ce']);
    assert.equal(b.archs[0], other);
  });

  it('leaves no tensor behind, on success and when the engine step throws', () => {
    const start = tf.memory().numTensors;
    singlePathCeStep(asEngine(new LinearEngine(w)), batch, arch, 0.1);
    assert.equal(tf.memory().numTensors, start);
    assert.throws(() => singlePathCeStep(asEngine(new LinearEngine(w, true)), batch, arch, 0.1), /the optimiser failed/);
    assert.equal(tf.memory().numTensors, start, 'the kept loss term leaked when the step failed');
  });
});
