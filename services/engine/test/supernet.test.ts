import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { makeDivisible } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import { resolveSpace } from '../src/space/index.ts';
import { measureLatencyTable } from '../src/network/latency-table.ts';
import { describeBackends } from './describe-backends.ts';
import { bareEngine, randomizeBatchNorm, seeded, tinySpace } from './helpers.ts';

/** Hand-built forward of the tiny space with weights gathered by channel index (eval mode). */
function reference(engine: ReturnType<typeof bareEngine>, arch: Arch, x: tf.Tensor4D): tf.Tensor {
  const net = engine.supernet;
  const v = (n: string) => net.variable(`supernet/${n}`)!.variable as tf.Tensor;
  const na = arch.width.a!;
  const idxA = arch.channelIdx?.a ?? Array.from({ length: na }, (_, i) => i);
  const ia = tf.tensor1d(idxA, 'int32');
  const range = (n: number) => tf.range(0, n, 1, 'int32');
  const bn = (y: tf.Tensor, p: string, idx: tf.Tensor1D) => {
    const g = (s: string) => tf.gather(v(`${p}/bn/${s}`), idx);
    return tf.add(tf.mul(tf.div(tf.sub(y, g('mean')), tf.sqrt(tf.add(g('variance'), 1e-5))), g('gamma')), g('beta'));
  };
  const pw = (h: tf.Tensor, w: tf.Tensor, rows: tf.Tensor1D, cols: tf.Tensor1D) => {
    const m = tf.gather(tf.gather(w, rows, 0), cols, 1);
    return tf.conv2d(h as tf.Tensor4D, tf.reshape(m, [1, 1, rows.size, cols.size]) as tf.Tensor4D, 1, 'same');
  };
  const dw = (h: tf.Tensor, w: tf.Tensor, idx: tf.Tensor1D, stride: 1 | 2) =>
    tf.depthwiseConv2d(h as tf.Tensor4D, tf.gather(w, idx, 2) as tf.Tensor4D, stride, 'same');
  let h: tf.Tensor = arch.resolution === 8 ? x : tf.image.resizeBilinear(x, [arch.resolution, arch.resolution], true);
  h = tf.relu6(bn(tf.conv2d(h as tf.Tensor4D, tf.gather(v('c/w'), ia, 3) as tf.Tensor4D, 2, 'same'), 'c', ia));
  h = tf.relu6(bn(dw(h, v('d/w'), ia, 1), 'd', ia));
  const hid = range(makeDivisible(na * 2));
  let t = tf.relu6(bn(pw(h, v('m/expand/w'), ia, hid), 'm/expand', hid));
  t = tf.relu6(bn(dw(t, v('m/dw/w'), hid, 1), 'm/dw', hid));
  h = tf.add(bn(pw(t, v('m/project/w'), hid, ia), 'm/project', ia), h);
  const all24 = range(24);
  if ((arch.op?.o ?? 0) === 0) {
    const hid2 = range(makeDivisible(na * 2));
    t = tf.relu6(bn(pw(h, v('o/e2k3/expand/w'), ia, hid2), 'o/e2k3/expand', hid2));
    t = tf.relu6(bn(dw(t, v('o/e2k3/dw/w'), hid2, 1), 'o/e2k3/dw', hid2));
    h = bn(pw(t, v('o/e2k3/project/w'), hid2, all24), 'o/e2k3/project', all24);
  } else {
    // expand 1: the depthwise runs on the input channels themselves
    t = tf.relu6(bn(dw(h, v('o/e1k5/dw/w'), ia, 1), 'o/e1k5/dw', ia));
    h = bn(pw(t, v('o/e1k5/project/w'), ia, all24), 'o/e1k5/project', all24);
  }
  const all32 = range(32);
  h = tf.relu6(bn(pw(h, v('h/w'), all24, all32), 'h', all32));
  h = tf.mean(h, [1, 2]);
  return tf.add(tf.matMul(h as tf.Tensor2D, v('fc/w') as tf.Tensor2D), v('fc/b'));
}

describeBackends('supernet', () => {
  test('forward shapes of every small preset, and block ranges', () => {
    for (const preset of ['mbv2-small', 'mbv1-small', 'dna-small', 'dna-small-teacher']) {
      const engine = bareEngine(resolveSpace({ preset }));
      const net = engine.supernet;
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = seeded([2, 28, 28, 1], 1) as tf.Tensor4D;
        for (const arch of [net.space.maxArch(), net.space.minArch()]) {
          assert.deepEqual(net.forward(arch, x, { training: false }).shape, [2, 10], preset);
          assert.deepEqual(net.forward(arch, x, { training: true }).shape, [2, 10], preset);
        }
        // block by block equals the whole feature path
        const arch = net.space.maxArch();
        const last = net.space.blocks.length - 1;
        let h: tf.Tensor = x;
        net.space.blocks.forEach((b, i) => {
          h = net.forward(arch, h as tf.Tensor4D, { training: false, fromBlock: i, toBlock: i });
          assert.equal(h.shape[3], b.outChannels, `${preset} block ${i} channels`);
          assert.equal(h.shape[1], b.outSize, `${preset} block ${i} size`);
        });
        assert.throws(() => net.forward(arch, tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, { training: false, fromBlock: 1 }), /block 1 takes \[N, H, W, \d+\]/);
        assert.throws(() => net.forward(arch, x, { training: false, toBlock: last + 1 }), /toBlock/);
        const whole = net.forward(arch, x, { training: false, toBlock: last });
        assert.ok(tf.max(tf.abs(tf.sub(whole, h))).dataSync()[0]! < 1e-5);
      });
      assert.equal(tf.memory().numTensors, before);
      engine.dispose();
    }
  });

  test('forward shapes of the ImageNet-scale presets at batch 1', () => {
    for (const preset of ['mobilenet_v1', 'mobilenet_v2']) {
      const engine = bareEngine(resolveSpace({ preset }));
      tf.tidy(() => {
        const x = tf.zeros([1, 224, 224, 3]) as tf.Tensor4D;
        const out = engine.supernet.forward(engine.supernet.space.minArch(), x, { training: false });
        assert.deepEqual(out.shape, [1, 1000]);
      });
      engine.dispose();
    }
  });

  test('subnet forward equals a hand-built net with the sliced weights (leftmost, indexed, op choice)', () => {
    const engine = bareEngine(tinySpace());
    randomizeBatchNorm(engine);
    const archs: Arch[] = [
      { resolution: 8, width: { a: 16 }, op: { o: 0 } },
      { resolution: 8, width: { a: 8 }, op: { o: 0 } },
      { resolution: 6, width: { a: 12 }, op: { o: 1 } },
      { resolution: 8, width: { a: 8 }, channelIdx: { a: [0, 2, 3, 5, 8, 9, 13, 15] }, op: { o: 0 } },
      { resolution: 6, width: { a: 12 }, channelIdx: { a: [1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15] }, op: { o: 1 } },
    ];
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = seeded([3, 8, 8, 3], 3) as tf.Tensor4D;
      for (const arch of archs) {
        const got = engine.supernet.forward(arch, x, { training: false });
        const want = reference(engine, arch, x);
        const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!;
        assert.ok(diff < 1e-4, `${JSON.stringify(arch)}: max diff ${diff}`);
      }
    });
    assert.equal(tf.memory().numTensors, before);
    engine.dispose();
  });

  test('indexed channels: gradients reach only the selected channels', () => {
    const engine = bareEngine(tinySpace());
    const arch: Arch = { resolution: 8, width: { a: 8 }, channelIdx: { a: [1, 3, 5, 7, 9, 11, 13, 15] }, op: { o: 0 } };
    const w = engine.supernet.variable('supernet/c/w')!.variable;
    tf.tidy(() => {
      const x = seeded([2, 8, 8, 3], 5) as tf.Tensor4D;
      const { grads } = tf.variableGrads(() => tf.sum(engine.supernet.forward(arch, x, { training: true })) as tf.Scalar, [w]);
      const g = grads[w.name]!;
      const perChannel = tf.sum(tf.abs(g), [0, 1, 2]).dataSync();
      for (let c = 0; c < 16; c++) {
        if (c % 2 === 1) assert.ok(perChannel[c]! > 0, `channel ${c} has no gradient`);
        else assert.equal(perChannel[c], 0, `channel ${c} got a gradient`);
      }
    });
    engine.dispose();
  });

  test('BN recalibration: cumulative averages the batches, lastBatch keeps the last; stats reset first', () => {
    const engine = bareEngine(tinySpace());
    const net = engine.supernet;
    const arch: Arch = { resolution: 8, width: { a: 12 }, channelIdx: { a: [0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13] }, op: { o: 0 } };
    const batches = [1, 2, 3].map((s) => ({ x: seeded([4, 8, 8, 3], s) as tf.Tensor4D, y: tf.tensor1d([0, 1, 2, 3], 'int32') }));
    const w = net.variable('supernet/c/w')!.variable;
    const idx = arch.channelIdx!.a!;
    const stats = batches.map((b) =>
      tf.tidy(() => {
        const y = tf.conv2d(b.x, tf.gather(w, tf.tensor1d(idx, 'int32'), 3) as tf.Tensor4D, 2, 'same');
        const { mean, variance } = tf.moments(y, [0, 1, 2]);
        const n = 4 * 4 * 4;
        return { mean: Array.from(mean.dataSync()), variance: Array.from(variance.dataSync()).map((v) => (v * n) / (n - 1)) };
      }),
    );
    const before = tf.memory().numTensors;
    engine.recalibrateBN(net, arch, batches, 'cumulative');
    assert.equal(tf.memory().numTensors, before);
    const mean = net.variable('supernet/c/bn/mean')!.variable.dataSync();
    const variance = net.variable('supernet/c/bn/variance')!.variable.dataSync();
    idx.forEach((c, j) => {
      const avg = stats.reduce((a, s) => a + s.mean[j]!, 0) / 3;
      const avgVar = stats.reduce((a, s) => a + s.variance[j]!, 0) / 3;
      assert.ok(Math.abs(mean[c]! - avg) < 1e-4, `mean[${c}] ${mean[c]} vs ${avg}`);
      assert.ok(Math.abs(variance[c]! - avgVar) < 1e-4, `variance[${c}]`);
    });
    for (const c of [6, 7, 14, 15]) {
      assert.equal(mean[c], 0);
      assert.equal(variance[c], 1);
    }
    engine.recalibrateBN(net, arch, batches, 'lastBatch');
    const mean2 = net.variable('supernet/c/bn/mean')!.variable.dataSync();
    idx.forEach((c, j) => assert.ok(Math.abs(mean2[c]! - stats[2]!.mean[j]!) < 1e-4));
    assert.equal(net.momentumOverride, undefined);
    for (const b of batches) tf.dispose([b.x, b.y]);
    engine.dispose();
  });

  test('training-mode forwards update running statistics with the configured momentum', () => {
    const engine = bareEngine(tinySpace());
    const net = engine.supernet;
    const arch = net.space.maxArch();
    tf.tidy(() => {
      const x = seeded([2, 8, 8, 3], 9) as tf.Tensor4D;
      const y = tf.conv2d(x, net.variable('supernet/c/w')!.variable as tf.Tensor4D, 2, 'same');
      const batchMean = tf.moments(y, [0, 1, 2]).mean.dataSync();
      net.forward(arch, x, { training: true });
      const m = net.variable('supernet/c/bn/mean')!.variable.dataSync();
      for (let c = 0; c < 16; c++) assert.ok(Math.abs(m[c]! - 0.1 * batchMean[c]!) < 1e-5);
    });
    engine.dispose();
  });

  test('a measured latency table prices every layer of every arch', () => {
    const engine = bareEngine(tinySpace());
    const space = engine.supernet.space;
    const archs = [space.maxArch(), space.minArch()];
    const before = tf.memory().numTensors;
    // a table the space accepts is complete: measure over one arch per reachable layer shape
    const table = measureLatencyTable(engine.supernet, [...space.latencyShapes().values()].map((v) => v.arch), { repeats: 2 });
    assert.equal(tf.memory().numTensors, before);
    const priced = resolveSpace({ preset: 'custom', overrides: { definition: space.definition as unknown as Record<string, unknown> } }, { latencyTable: table });
    for (const a of archs) {
      for (const [id, c] of Object.entries(priced.layerCosts(a))) assert.ok(c.latency > 0 || id === 'pool', `${id} unpriced`);
      assert.ok(priced.cost(a).latency > 0);
    }
    engine.dispose();
  });
});
