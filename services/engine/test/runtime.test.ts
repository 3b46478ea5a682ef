import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Arch, Batch, SupernetEngine } from '@supernetd/sdk';
import { createEngineRuntime } from '../src/index.ts';
import type { EngineRuntime, EngineRuntimeOptions } from '../src/index.ts';
import { resolveSpace } from '../src/space/index.ts';
import { exportSubnet, loadExportedModel } from '../src/runtime/export-subnet.ts';
import { describeBackends, type SuiteBackend } from './describe-backends.ts';
import { bareEngine, seeded } from './helpers.ts';

const dirs: string[] = [];


after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function options(backend: SuiteBackend, overrides: Partial<EngineRuntimeOptions['training']> = {}): EngineRuntimeOptions {
  return {
    space: { preset: 'mbv2-small' },
    backend,
    training: {
      dataset: { name: 'fashion-mnist', maxTrainExamples: 320, maxTestExamples: 64 },
      batchSize: 16,
      totalSteps: 50,
      optimizer: { kind: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4, schedule: 'cosine', warmupSteps: 2 },
      labelSmoothing: 0,
      seed: 3,
      ...overrides,
    },
  };
}

/** Plain CE on one subnet. */
function ceStep(rt: EngineRuntime, arch: Arch): number {
  const b = rt.nextTrainBatch();
  try {
    return rt.engine.step(() => tf.tidy(() => rt.engine.ce(rt.engine.supernet.forward(arch, b.x, { training: true }), b.y))).loss;
  } finally {
    tf.dispose([b.x, b.y]);
  }
}

/** A PSS-like step on the smallest archs (fast): min CE + indexed-subnet KL. */
function trainStep(rt: EngineRuntime): number {
  const e: SupernetEngine = rt.engine;
  const net = e.supernet;
  const min = net.space.minArch();
  const idx: Arch = { ...min, channelIdx: { s1: [1, 3, 5, 7, 9, 11, 13, 15].slice(0, min.width.s1!) } };
  const b = rt.nextTrainBatch();
  try {
    return e.step(() =>
      tf.tidy(() => {
        const small = net.forward(min, b.x, { training: true });
        return tf.add(e.ce(small, b.y), e.kl(net.forward(idx, b.x, { training: true }), small)) as tf.Scalar;
      }),
    ).loss;
  } finally {
    tf.dispose([b.x, b.y]);
  }
}

function weights(rt: EngineRuntime): Float32Array[] {
  const eng = rt.engine as unknown as { networks(): { allVariables(): { variable: tf.Variable }[] }[] };
  return eng.networks().flatMap((n) => n.allVariables().map((v) => v.variable.dataSync() as Float32Array));
}

describeBackends('runtime', (backend) => {
  test('a restored runtime continues bit-identically to an uninterrupted one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'engine-ckpt-'));
    dirs.push(dir);
    const a = await createEngineRuntime(options(backend));
    a.engine.auxNetwork('teacher', 'dna-small-teacher');
    for (let i = 0; i < 3; i++) trainStep(a);
    await a.saveCheckpoint(dir, { strategy: 'x', n: 1 });
    const lr3 = a.engine.learningRate();
    const la = [trainStep(a), trainStep(a)];
    const wa = weights(a);

    const b = await createEngineRuntime(options(backend));
    assert.deepEqual(await b.loadCheckpoint(dir), { strategy: 'x', n: 1 });
    assert.equal(b.step, 3);
    assert.equal(b.engine.learningRate(), lr3);
    const lb = [trainStep(b), trainStep(b)];
    assert.deepEqual(lb, la);
    const wb = weights(b);
    assert.equal(wb.length, wa.length);
    wa.forEach((w, i) => assert.ok(Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(Buffer.from(wb[i]!.buffer, wb[i]!.byteOffset, wb[i]!.byteLength)), `variable ${i} differs`));
    // per checkpoint one manifest and one weights/state pair (the newest also as checkpoint.json); no temp files
    await a.saveCheckpoint(dir, null);
    const files = (await readdir(dir)).sort();
    assert.equal(files.length, 7, files.join(', '));
    assert.ok(files.every((f) => !f.includes('tmp')), files.join(', '));
    assert.ok(files.includes('checkpoint.json'));
    const empty = await mkdtemp(path.join(tmpdir(), 'engine-ckpt-'));
    dirs.push(empty);
    assert.equal(await b.loadCheckpoint(empty), undefined);
    a.dispose();
    b.dispose();
  });

  test('a small mbv2-small subnet learns Fashion-MNIST: loss falls, accuracy beats chance, no leaks', async () => {
    const rt = await createEngineRuntime(options(backend, { batchSize: 32, optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9, schedule: 'constant' } }));
    const arch: Arch = { ...rt.space.minArch(), resolution: 24, width: { stem: 8, s1: 8, s2: 16, s3: 16, s4: 32, s5: 32 } };
    ceStep(rt, arch);
    const before = rt.memory().numTensors;
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) losses.push(ceStep(rt, arch));
    assert.equal(rt.memory().numTensors, before);
    const head = losses.slice(0, 8).reduce((a, b) => a + b) / 8;
    const tail = losses.slice(-8).reduce((a, b) => a + b) / 8;
    assert.ok(tail < head * 0.8, `loss ${head.toFixed(3)} -> ${tail.toFixed(3)}`);
    const r = rt.evaluate(arch);
    assert.equal(r.examples, 64);
    assert.ok(r.accuracy > 0.3, `accuracy ${r.accuracy}`);
    assert.equal(rt.memory().numTensors, before);
    // validation batches are fixed
    const v1 = rt.engine.validationBatches(2);
    const v2 = rt.engine.validationBatches(2);
    assert.deepEqual(v1[1]!.y.dataSync(), v2[1]!.y.dataSync());
    for (const b of [...v1, ...v2]) tf.dispose([b.x, b.y]);
    assert.equal(rt.memory().numTensors, before);
    rt.dispose();
  });

  test('evaluate and exportSubnet recalibrate BN, then restore the supernet statistics, without leaks', async () => {
    const rt = await createEngineRuntime(options(backend));
    trainStep(rt);
    const mean = () => Array.from((rt.engine.supernet as unknown as { variable(n: string): { variable: tf.Variable } }).variable('supernet/stem/bn/mean').variable.dataSync());
    const m0 = mean();
    const before = rt.memory().numTensors;
    rt.evaluate(rt.space.maxArch(), { maxExamples: 32 });
    assert.deepEqual(mean(), m0);
    const { files } = await rt.exportSubnet(rt.space.minArch());
    assert.equal(files.length, 3);
    assert.deepEqual(mean(), m0);
    assert.equal(rt.memory().numTensors, before);
    rt.dispose();
  });

  test('batchFromRaw checks byte length, shapes, finiteness and label range', async () => {
    const rt = await createEngineRuntime(options(backend));
    const img = (n: number, h = 28) => ({ dtype: 'uint8' as const, shape: [n, h, h, 1], data: new Uint8Array(n * h * h).fill(255) });
    const lab = (v: number[]) => ({ dtype: 'int32' as const, shape: [v.length], data: Int32Array.from(v) });
    const reason = (f: () => unknown, r: string, m: RegExp) =>
      assert.throws(f, (e: unknown) => e instanceof InvalidArgumentError && e.reason === r && m.test(e.message));
    const before = rt.memory().numTensors;
    const b: Batch = rt.batchFromRaw(img(2), lab([1, 9]));
    assert.deepEqual(b.x.shape, [2, 28, 28, 1]);
    assert.equal(tf.tidy(() => tf.max(b.x).dataSync()[0]), 1);
    tf.dispose([b.x, b.y]);
    assert.equal(rt.memory().numTensors, before);
    reason(() => rt.batchFromRaw({ ...img(2), data: new Uint8Array(10) }, lab([1, 2])), 'INVALID_TENSOR', /needs 1568 bytes, got 10/);
    reason(() => rt.batchFromRaw(img(2, 32), lab([1, 2])), 'SHAPE_MISMATCH', /must be \[N, 28, 28, 1\]/);
    reason(() => rt.batchFromRaw(img(2), lab([1])), 'SHAPE_MISMATCH', /one label per image/);
    const nan = { dtype: 'float32' as const, shape: [1, 28, 28, 1], data: new Float32Array(784).fill(Number.NaN) };
    reason(() => rt.batchFromRaw(nan, lab([0])), 'NON_FINITE_VALUE', /NaN/);
    reason(() => rt.batchFromRaw(img(2), lab([1, 10])), 'INVALID_ARGUMENT', /label 10 at 1 is outside \[0, 10\)/);
    assert.equal(rt.memory().numTensors, before);
    rt.dispose();
  });

  test('exported subnets load with stock tf.loadLayersModel and match the supernet (leftmost, indexed, op choice)', async () => {
    const cases: { preset: string; arch: (s: ReturnType<typeof resolveSpace>) => Arch }[] = [
      { preset: 'mbv2-small', arch: (s) => ({ ...s.minArch(), resolution: 24, width: { ...s.minArch().width, s3: 16, s4: 40 } }) },
      {
        preset: 'mbv2-small',
        arch: (s) => ({ ...s.maxArch(), width: { ...s.maxArch().width, s2: 8, s5: 16 }, channelIdx: { s2: [0, 3, 5, 7, 11, 13, 17, 23], s5: [1, 2, 3, 5, 8, 13, 21, 34, 40, 50, 60, 70, 80, 90, 94, 95] } }),
      },
      { preset: 'dna-small', arch: (s) => ({ ...s.maxArch(), op: Object.fromEntries(s.opLayerIds.map((id, i) => [id, i % 4])) }) },
    ];
    for (const c of cases) {
      const space = resolveSpace({ preset: c.preset });
      const engine = bareEngine(space);
      const arch = c.arch(space);
      // non-trivial BN statistics
      tf.tidy(() => {
        engine.supernet.forward(space.maxArch(), seeded([8, 28, 28, 1], 11, 1) as tf.Tensor4D, { training: true });
      });
      const before = tf.memory().numTensors;
      const { files, cost } = await exportSubnet(tf, engine.supernet, arch);
      assert.equal(tf.memory().numTensors, before, 'export leaked tensors');
      assert.deepEqual(cost, space.cost(arch));
      assert.deepEqual(files.map((f) => f.path).sort(), ['arch.json', 'model.json', 'weights.bin']);
      const meta = JSON.parse(new TextDecoder().decode(files.find((f) => f.path === 'arch.json')!.data)) as { arch: Arch };
      assert.deepEqual(meta.arch, arch);
      const model = await loadExportedModel(files);
      tf.tidy(() => {
        const x = seeded([2, arch.resolution, arch.resolution, 1], 5, 1) as tf.Tensor4D;
        const want = engine.supernet.forward(arch, x, { training: false });
        const got = model.predict(x) as tf.Tensor;
        const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!;
        assert.ok(diff < 1e-4, `${c.preset} ${JSON.stringify(arch)}: max diff ${diff}`);
      });
      model.dispose();
      engine.dispose();
    }
  });

  test('createEngineRuntime refuses a space that contradicts the dataset', async () => {
    await assert.rejects(
      createEngineRuntime({ ...options(backend), space: { preset: 'mbv2-small', overrides: { inputShape: [32, 32, 3] } } }),
      (e: unknown) => e instanceof InvalidArgumentError && e.reason === 'INVALID_SEARCH_SPACE',
    );
  });
});
