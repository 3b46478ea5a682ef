// Every backend against the `cpu` reference: the same supernet weights, the same subnets and the
// same batches must give the same logits, gradients, batch-norm statistics and optimiser steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { Arch, OptimizerConfig } from '@supernetd/sdk';
import type { Engine } from '../src/training/engine.ts';
import { describeBackends, onCpu } from './describe-backends.ts';
import { bareEngine, randomizeBatchNorm, seeded, tinySpace } from './helpers.ts';

/** Values by logical variable name (`supernet/c/w`), as plain arrays that survive a backend switch. */
type Values = Map<string, Float32Array>;

interface Case {
  name: string;
  arch: Arch;
  /** Blocks to run; with fromBlock 1 the input is the 4x4 feature map block 0 produces. */
  range?: { fromBlock?: number; toBlock?: number };
}

const CASES: Case[] = [
  { name: 'max (leftmost)', arch: { resolution: 8, width: { a: 16 }, op: { o: 0 } } },
  { name: 'leftmost narrow', arch: { resolution: 8, width: { a: 8 }, op: { o: 0 } } },
  { name: 'indexed channels', arch: { resolution: 8, width: { a: 8 }, channelIdx: { a: [0, 2, 3, 5, 8, 9, 13, 15] }, op: { o: 0 } } },
  { name: 'op choice', arch: { resolution: 8, width: { a: 12 }, op: { o: 1 } } },
  { name: 'resolution', arch: { resolution: 6, width: { a: 12 }, channelIdx: { a: [1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15] }, op: { o: 1 } } },
  { name: 'block range 0..0', arch: { resolution: 8, width: { a: 12 }, op: { o: 0 } }, range: { toBlock: 0 } },
  { name: 'block range 1..1', arch: { resolution: 8, width: { a: 8 }, channelIdx: { a: [1, 3, 5, 7, 9, 11, 13, 15] }, op: { o: 1 } }, range: { fromBlock: 1 } },
];

const OPTIMIZERS: OptimizerConfig[] = [
  { kind: 'sgd', learningRate: 0.1, schedule: 'constant' },
  { kind: 'sgd', learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3, schedule: 'cosine', warmupSteps: 1 },
  { kind: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3, schedule: 'cosine' },
  { kind: 'adam', learningRate: 0.01, weightDecay: 1e-3, schedule: 'constant' },
];

function input(c: Case, seed: number): tf.Tensor4D {
  return (c.range?.fromBlock === 1 ? seeded([3, 4, 4, c.arch.width.a!], seed) : seeded([3, 8, 8, 3], seed)) as tf.Tensor4D;
}

function valuesOf(engine: Engine): Values {
  return new Map(engine.supernet.allVariables().map((v) => [v.name, (v.variable.dataSync() as Float32Array).slice()]));
}

function assign(engine: Engine, values: Values): void {
  for (const v of engine.supernet.allVariables()) {
    tf.tidy(() => v.variable.assign(tf.tensor(values.get(v.name)!, v.variable.shape)));
  }
}

/** The reference weights: the tiny supernet with non-trivial batch-norm statistics, made on cpu. */
function initialWeights(): Values {
  const engine = bareEngine(tinySpace());
  randomizeBatchNorm(engine);
  const out = valuesOf(engine);
  engine.dispose();
  return out;
}

/**
 * One case on the active backend: inference logits, then a training-mode forward's loss (a fixed
 * random projection of its output), the gradient of every variable it reaches, and the running
 * statistics it updated.
 */
function runCase(weights: Values, c: Case): { logits: Float32Array; loss: Float32Array; grads: Values; after: Values } {
  const engine = bareEngine(tinySpace());
  assign(engine, weights);
  const net = engine.supernet;
  const logicalName = new Map(net.allVariables().map((v) => [v.variable.name, v.name]));
  const trainable = net.allVariables().filter((v) => v.trainable).map((v) => v.variable);
  const before = tf.memory().numTensors;
  let out: { logits: Float32Array; loss: Float32Array; grads: Values } | undefined;
  tf.tidy(() => {
    const x = input(c, 11);
    const opts = { ...(c.range ?? {}) };
    const logits = net.forward(c.arch, x, { ...opts, training: false }).dataSync() as Float32Array;
    const { value, grads } = tf.variableGrads(() => {
      const y = net.forward(c.arch, x, { ...opts, training: true });
      return tf.sum(tf.mul(y, seeded(y.shape, 23))) as tf.Scalar;
    }, trainable);
    const named: Values = new Map(Object.entries(grads).map(([k, g]) => [logicalName.get(k)!, g.dataSync() as Float32Array]));
    out = { logits, loss: value.dataSync() as Float32Array, grads: named };
  });
  assert.equal(tf.memory().numTensors, before, `${c.name}: leaked tensors`);
  const after = valuesOf(engine);
  engine.dispose();
  return { ...out!, after };
}

/**
 * Three optimiser steps on the active backend; the losses and all weights after. `network`: CE of
 * two subnets in turn (the whole training path). Otherwise a loss with every gradient well away from
 * zero, sum(c * w + w^2 / 2) over every trainable variable with |c| in [0.5, 1.5]: Adam's first
 * steps move each weight by about lr * sign(g), so a near-zero network gradient whose sign differs
 * by float rounding would move a weight by 2 lr on one backend only.
 */
function runOptimizer(weights: Values, cfg: OptimizerConfig, network: boolean): { losses: number[]; after: Values } {
  const engine = bareEngine(tinySpace(), cfg);
  assign(engine, weights);
  const net = engine.supernet;
  const x = seeded([4, 8, 8, 3], 5) as tf.Tensor4D;
  const y = tf.tensor1d([0, 1, 2, 4], 'int32');
  const trainable = net.allVariables().filter((v) => v.trainable);
  const coef = trainable.map((v, i) => tf.tidy(() => {
    const r = seeded(v.variable.shape, 31 + i);
    return tf.mul(tf.sign(r), tf.add(tf.abs(r), 0.5));
  }));
  const conditioned = () =>
    tf.tidy(() => tf.addN(trainable.map((v, i) => tf.sum(tf.add(tf.mul(coef[i]!, v.variable), tf.mul(tf.square(v.variable), 0.5))))) as tf.Scalar);
  const archs: Arch[] = [net.space.maxArch(), { resolution: 6, width: { a: 8 }, channelIdx: { a: [0, 2, 4, 6, 8, 10, 12, 14] }, op: { o: 1 } }];
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const arch = archs[i % archs.length]!;
    const loss = network ? () => tf.tidy(() => engine.ce(net.forward(arch, x, { training: true }), y)) : conditioned;
    losses.push(engine.step(loss).loss);
  }
  tf.dispose([x, y, ...coef]);
  const after = valuesOf(engine);
  engine.dispose();
  return { losses, after };
}

/** Max |a - b| within `rel` of the largest |b| (plus a small absolute floor for all-zero tensors). */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rel = 2e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(expected[i]! - actual[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  assert.ok(diff <= rel * scale + 1e-6, `${what}: max difference ${diff} at scale ${scale}`);
}

function assertSameValues(actual: Values, expected: Values, what: string, rel?: number): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: variables`);
  for (const [name, want] of expected) assertClose(actual.get(name)!, want, `${what} ${name}`, rel);
}

describeBackends('subnet parity with cpu', (backend) => {
  test('forward, backward and batch-norm updates (leftmost, indexed, op choice, resolution, block range)', async () => {
    const weights = await onCpu(backend, initialWeights);
    const want = await onCpu(backend, () => CASES.map((c) => runCase(weights, c)));
    CASES.forEach((c, i) => {
      const got = runCase(weights, c);
      const ref = want[i]!;
      assertClose(got.logits, ref.logits, `${c.name}: logits`);
      assertClose(got.loss, ref.loss, `${c.name}: loss`);
      assert.ok(ref.grads.size > 0, `${c.name}: no gradients`);
      assertSameValues(got.grads, ref.grads, `${c.name}: gradient of`);
      // batch norm in training mode: the running statistics the forward moved
      assertSameValues(got.after, ref.after, `${c.name}: after the training forward,`);
    });
  });

  test('batch-norm recalibration (cumulative and last batch, indexed channels)', async () => {
    const arch: Arch = { resolution: 6, width: { a: 12 }, channelIdx: { a: [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13] }, op: { o: 1 } };
    const run = (weights: Values, mode: 'cumulative' | 'lastBatch'): Values => {
      const engine = bareEngine(tinySpace());
      assign(engine, weights);
      const batches = [1, 2, 3].map((s) => ({ x: seeded([4, 8, 8, 3], s) as tf.Tensor4D, y: tf.tensor1d([0, 1, 2, 3], 'int32') }));
      engine.recalibrateBN(engine.supernet, arch, batches, mode);
      for (const b of batches) tf.dispose([b.x, b.y]);
      const out = valuesOf(engine);
      engine.dispose();
      return out;
    };
    const weights = await onCpu(backend, initialWeights);
    for (const mode of ['cumulative', 'lastBatch'] as const) {
      const want = await onCpu(backend, () => run(weights, mode));
      assertSameValues(run(weights, mode), want, `${mode}:`);
    }
  });

  test('optimiser steps: SGD, SGD with momentum, Nesterov with decay (also training subnets), Adam with decay', async () => {
    const weights = await onCpu(backend, initialWeights);
    for (const cfg of OPTIMIZERS) {
      for (const network of cfg.kind === 'adam' ? [false] : [false, true]) {
        const want = await onCpu(backend, () => runOptimizer(weights, cfg, network));
        const got = runOptimizer(weights, cfg, network);
        const what = `${JSON.stringify(cfg)}${network ? ' training subnets' : ''}`;
        assertClose(got.losses, want.losses, `${what}: losses`);
        assertSameValues(got.after, want.after, `${what}:`, 1e-3);
      }
    }
  });
});
