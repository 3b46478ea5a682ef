import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '@supernetd/sdk';
import { learningRateAt } from '../src/training/schedule.ts';
import { Optimizer } from '../src/training/optimizer.ts';
import { describeBackends } from './describe-backends.ts';
import { bareEngine, seeded, tinyDefinition, tinySpace } from './helpers.ts';

test('learning-rate schedules: warm-up, cosine per iteration, step, constant', () => {
  const base: OptimizerConfig = { kind: 'sgd', learningRate: 1 };
  assert.equal(learningRateAt({ ...base, schedule: 'constant' }, 50, 100), 1);
  assert.equal(learningRateAt({ ...base, schedule: 'cosine' }, 0, 100), 1);
  assert.ok(Math.abs(learningRateAt({ ...base, schedule: 'cosine' }, 50, 100) - 0.5) < 1e-12);
  assert.ok(learningRateAt({ ...base, schedule: 'cosine' }, 100, 100) < 1e-12);
  assert.equal(learningRateAt({ ...base, schedule: 'cosine', warmupSteps: 10 }, 4, 100), 0.5);
  assert.equal(learningRateAt({ ...base, schedule: 'cosine', warmupSteps: 10 }, 10, 100), 1);
  assert.ok(Math.abs(learningRateAt({ ...base, schedule: 'step', stepSize: 10, gamma: 0.1 }, 25, 100) - 0.01) < 1e-12);
  const engine = bareEngine(tinySpace(), { ...base, schedule: 'cosine' });
  assert.equal(engine.learningRate(), 1);
  assert.throws(() => engine.setOptimizer({ kind: 'sgd', learningRate: -1 }), /optimizer.learningRate/);
  assert.throws(() => engine.setOptimizer({ kind: 'sgd', learningRate: 1, schedule: 'step' }), /optimizer.stepSize/);
  engine.dispose();
});

describeBackends('training', () => {
  test('weight decay applies to non-depthwise conv and FC weights only, and only where a gradient exists', () => {
    const cfg: OptimizerConfig = { kind: 'sgd', learningRate: 1, weightDecay: 0.5 };
    const engine = bareEngine(tinySpace(), cfg);
    const net = engine.supernet;
    const arch = { ...net.space.maxArch(), op: { o: 0 } };
    const snapshot = () => new Map(net.allVariables().map((v) => [v.name, Array.from(v.variable.dataSync())]));
    const b0 = snapshot();
    const x = seeded([2, 8, 8, 3], 1) as tf.Tensor4D;
    // zero loss, still connected to every variable of the arch: only decay moves weights
    engine.step(() => tf.mul(tf.sum(net.forward(arch, x, { training: false })), 0) as tf.Scalar);
    const b1 = snapshot();
    for (const v of net.allVariables()) {
      const was = b0.get(v.name)!;
      const now = b1.get(v.name)!;
      const halved = now.every((n, i) => Math.abs(n - 0.5 * was[i]!) < 1e-6);
      const same = now.every((n, i) => n === was[i]);
      const decays = /\/(w)$/.test(v.name) && !/\/dw\/w$/.test(v.name) && !/^supernet\/d\/w$/.test(v.name);
      const unused = v.name.includes('/e1k5/');
      if (decays && !unused) assert.ok(halved, `${v.name} should decay`);
      else assert.ok(same, `${v.name} should not change`);
    }
    x.dispose();
    engine.dispose();
  });

  test('SGD with Nesterov momentum matches the PyTorch update rule', () => {
    const cfg: OptimizerConfig = { kind: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0 };
    const engine = bareEngine(tinySpace(), cfg);
    const w = engine.supernet.variable('supernet/fc/b')!.variable;
    const w0 = Array.from(w.dataSync());
    // d/db sum(b * c) = c, constant gradient
    const c = tf.tensor1d([1, 2, 3, 4, 5]);
    const loss = () => tf.sum(tf.mul(w, c)) as tf.Scalar;
    engine.step(loss, { variables: ['supernet/fc/b'] });
    engine.step(loss, { variables: ['supernet/fc/b'] });
    // buf1 = g, step1 = g + 0.9 g; buf2 = 1.9 g, step2 = g + 0.9 * 1.9 g
    const expected = w0.map((v, i) => v - 0.1 * (i + 1) * (1.9 + 1 + 0.9 * 1.9));
    Array.from(w.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-5));
    c.dispose();
    engine.dispose();
  });

  test('Adam matches the reference update', () => {
    const engine = bareEngine(tinySpace(), { kind: 'adam', learningRate: 0.01 });
    const w = engine.supernet.variable('supernet/fc/b')!.variable;
    const w0 = Array.from(w.dataSync());
    const c = tf.tensor1d([1, -2, 3, -4, 5]);
    engine.step(() => tf.sum(tf.mul(w, c)) as tf.Scalar, { variables: ['supernet/fc/b'] });
    // first Adam step moves each weight by lr * sign(g)
    Array.from(w.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - (w0[i]! - 0.01 * Math.sign(c.dataSync()[i]!))) < 1e-6));
    c.dispose();
    engine.dispose();
  });

  test('losses: label-smoothed CE, KL with a stopped teacher, MSE', () => {
    const engine = bareEngine(tinySpace());
    tf.tidy(() => {
      const logits = tf.tensor2d([
        [2, 0, -1],
        [0, 1, 0],
      ]);
      const labels = tf.tensor1d([0, 2], 'int32');
      const logp = tf.logSoftmax(logits).arraySync() as number[][];
      const ce = -(logp[0]![0]! + logp[1]![2]!) / 2;
      assert.ok(Math.abs(engine.ce(logits, labels).dataSync()[0]! - ce) < 1e-6);
      const s = 0.1;
      const smooth = -(logp.map((row, i) => row.reduce((a, l, k) => a + l * ((k === [0, 2][i] ? 1 - s : 0) + s / 3), 0)).reduce((a, b) => a + b) / 2);
      assert.ok(Math.abs(engine.ce(logits, labels, s).dataSync()[0]! - smooth) < 1e-6);
      const teacher = tf.tensor2d([
        [0, 1, 0],
        [1, 0, 0],
      ]);
      const p = tf.softmax(teacher).arraySync() as number[][];
      const lq = tf.logSoftmax(teacher).arraySync() as number[][];
      const kl = p.reduce((a, row, i) => a + row.reduce((b, pk, k) => b + pk * (lq[i]![k]! - logp[i]![k]!), 0), 0) / 2;
      assert.ok(Math.abs(engine.kl(logits, teacher).dataSync()[0]! - kl) < 1e-6);
      // teacher side carries no gradient
      assert.throws(() => tf.grad((b: tf.Tensor) => engine.kl(logits, b))(teacher), /Cannot compute gradient/);
      assert.ok(tf.sum(tf.abs(tf.grad((a: tf.Tensor) => engine.kl(a, teacher))(logits))).dataSync()[0]! > 0);
      assert.ok(Math.abs(engine.mse(logits, teacher).dataSync()[0]! - (4 + 1 + 1 + 1 + 1 + 0) / 6) < 1e-6);
    });
    engine.dispose();
  });

  test('a training step, evaluate and recalibration leave the tensor count unchanged', () => {
    const engine = bareEngine(tinySpace());
    const net = engine.supernet;
    const batch = { x: seeded([4, 8, 8, 3], 2) as tf.Tensor4D, y: tf.tensor1d([0, 1, 2, 3], 'int32') };
    const pss = () =>
      tf.tidy(() => {
        const max = net.forward(net.space.maxArch(), batch.x, { training: true });
        const sub = net.forward({ resolution: 6, width: { a: 8 }, channelIdx: { a: [0, 1, 4, 5, 8, 9, 12, 13] }, op: { o: 1 } }, batch.x, { training: true });
        const min = net.forward(net.space.minArch(), batch.x, { training: true });
        return tf.addN([engine.ce(max, batch.y), engine.kl(sub, max), engine.kl(min, max)]) as tf.Scalar;
      });
    engine.step(pss); // creates the optimiser's slots
    const before = tf.memory().numTensors;
    const r = engine.step(pss);
    assert.ok(Number.isFinite(r.loss));
    assert.equal(engine.stepCount, 2);
    assert.equal(tf.memory().numTensors, before);
    engine.evaluate(net, net.space.maxArch(), [batch]);
    engine.recalibrateBN(net, net.space.minArch(), [batch], 'cumulative');
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([batch.x, batch.y]);
    engine.dispose();
  });

  test('auxiliary networks: created once, trained through step by variable name', () => {
    const engine = bareEngine(tinySpace());
    const def = tinyDefinition() as unknown as Record<string, unknown>;
    const teacher = engine.auxNetwork('teacher', def);
    assert.equal(engine.auxNetwork('teacher', def), teacher);
    assert.throws(() => engine.auxNetwork('supernet', def), /auxiliary network id/);
    // a definition from a client is bounded before anything is allocated
    const huge = structuredClone(def) as { blocks: { layers: { out?: unknown }[] }[] };
    for (const l of huge.blocks[0]!.layers) if (typeof l.out === 'number' || typeof l.out === 'string') l.out = 1_000_000;
    const tensors = tf.memory().numTensors;
    assert.throws(() => engine.auxNetwork('huge', huge as unknown as Record<string, unknown>), /exceeds the limit/);
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(engine.networks().length, 2, 'no network was added for the refused definition');
    const names = teacher.variableNames();
    assert.ok(names.length > 0 && names.every((n) => n.startsWith('teacher/')));
    assert.deepEqual(teacher.variableNames([0]).length < names.length, true);
    const tw = engine.networks()[1]!.variable('teacher/fc/w')!.variable;
    const sw = engine.supernet.variable('supernet/fc/w')!.variable;
    const [t0, s0] = [Array.from(tw.dataSync()), Array.from(sw.dataSync())];
    const x = seeded([2, 8, 8, 3], 4) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1], 'int32');
    engine.step(() => engine.ce(teacher.forward(teacher.space.maxArch(), x, { training: true }), y), { variables: names });
    assert.notDeepEqual(Array.from(tw.dataSync()), t0);
    assert.deepEqual(Array.from(sw.dataSync()), s0);
    assert.throws(() => engine.step(() => tf.scalar(0), { variables: ['nope/w'] }), /unknown variable 'nope\/w'/);
    tf.dispose([x, y]);
    engine.dispose();
  });

  test('an engine and its networks and optimiser state free every tensor on dispose', () => {
    const before = tf.memory().numTensors;
    const engine = bareEngine(tinySpace());
    engine.auxNetwork('teacher', tinyDefinition() as unknown as Record<string, unknown>);
    const x = seeded([2, 8, 8, 3], 4) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1], 'int32');
    engine.step(() => engine.ce(engine.supernet.forward(engine.supernet.space.maxArch(), x, { training: true }), y));
    tf.dispose([x, y]);
    engine.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('host and tensor-op optimiser updates agree (SGD Nesterov with decay, Adam)', () => {
    for (const cfg of [
      { kind: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
      { kind: 'adam', learningRate: 0.01, weightDecay: 0.01 },
    ] as OptimizerConfig[]) {
      const results = [true, false].map((inHost) => {
        const w = tf.variable(tf.tensor1d([0.5, -1, 2]), true, `opt-test-${String(inHost)}-${cfg.kind}`);
        const opt = new Optimizer(tf, cfg, { inHost });
        const v = { name: 'w', variable: w, trainable: true, decay: true, block: 0 };
        for (let i = 0; i < 3; i++) {
          const g = tf.tensor1d([0.1 * (i + 1), -0.2, 0.3]);
          opt.apply([{ v, grad: g }], 0.1);
          g.dispose();
        }
        const out = Array.from(w.dataSync());
        opt.dispose();
        w.dispose();
        return out;
      });
      results[0]!.forEach((a, i) => assert.ok(Math.abs(a - results[1]![i]!) < 1e-6, `${cfg.kind}[${i}]: ${a} vs ${results[1]![i]}`));
    }
  });

  test('grouped SGD (one concatenation per shape group) gives the per-variable update bit for bit, slots included', async () => {
    // Shapes of every kind the supernet has: [C] vectors of several lengths, 1x1 weights sharing a
    // cout, depthwise filters of one k, kxk filters sharing k and cout, and singletons.
    const shapes: { shape: number[]; decay: boolean }[] = [
      ...[8, 16, 24, 16, 96, 8, 8, 48, 16, 16, 24, 10].map((c) => ({ shape: [c], decay: false })),
      ...[8, 16, 24].map((cin) => ({ shape: [cin, 16], decay: true })),
      { shape: [16, 24], decay: true },
      ...[8, 16, 48].map((c) => ({ shape: [3, 3, c, 1], decay: false })),
      ...[3, 8, 8].map((cin) => ({ shape: [3, 3, cin, 8], decay: true })),
      { shape: [5, 5, 8, 1], decay: false },
    ];
    for (const cfg of [
      { kind: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0 },
      { kind: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
      { kind: 'sgd', learningRate: 0.1, momentum: 0, weightDecay: 0.01 },
    ] as OptimizerConfig[]) {
      const run = async (grouped: boolean) => {
        const vars = shapes.map(({ shape, decay }, i) => {
          const init = seeded(shape, i + 1);
          const variable = tf.variable(init, true, `grouped-${String(grouped)}-${cfg.nesterov}-${cfg.momentum}-${i}`);
          init.dispose();
          return { name: `v${i}`, variable, trainable: true, decay, block: 0 };
        });
        const opt = new Optimizer(tf, cfg, { inHost: false, grouped });
        let kernels = 0;
        for (let step = 0; step < 3; step++) {
          // every variable, then a subset (a narrow subnet's step), then every variable again
          const used = step === 1 ? vars.filter((_, i) => i % 3 !== 0) : vars;
          const grads = used.map((v, i) => seeded(v.variable.shape, 100 * step + i + 50));
          const info = await tf.profile(() => opt.apply(used.map((v, i) => ({ v, grad: grads[i]! })), 0.05 * (step + 1)));
          if (step === 2) kernels = info.kernels.length;
          tf.dispose(grads);
        }
        const out = vars.map((v) => Array.from(v.variable.dataSync()));
        const slots = opt.slotEntries().map((e) => [e.key, Array.from(e.variable.dataSync())] as const);
        opt.dispose();
        tf.dispose(vars.map((v) => v.variable));
        return { out, slots, kernels };
      };
      const before = tf.memory().numTensors;
      const perVariable = await run(false);
      const grouped = await run(true);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      assert.deepEqual(grouped.out, perVariable.out, `weights, ${JSON.stringify(cfg)}`);
      assert.deepEqual(grouped.slots, perVariable.slots, `momentum buffers, ${JSON.stringify(cfg)}`);
      assert.equal(grouped.slots.length, (cfg.momentum ?? 0) > 0 ? shapes.length : 0);
      // 4 groups of 3-12 and 2 singletons: at most half the kernels of 23 variables one by one
      assert.ok(grouped.kernels <= perVariable.kernels / 2, `${grouped.kernels} kernels grouped, ${perVariable.kernels} per variable`);
    }
  });
});
