import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, Rng, randomArch } from '@supernetd/sdk';
import { latencyKey, listPresets, resolveSpace } from '@supernetd/engine/space';
import type { SpaceDefinition } from '@supernetd/engine/space';

function tiny(): SpaceDefinition {
  return {
    name: 'tiny',
    inputShape: [8, 8, 3],
    numClasses: 10,
    resolutions: [8, 6],
    widths: [{ id: 'a', base: 16, candidates: [8, 16] }],
    blocks: [
      {
        id: 'b0',
        layers: [
          { type: 'conv', id: 'c', out: 'a', kernel: 3, stride: 2 },
          { type: 'dwconv', id: 'd', kernel: 3 },
          { type: 'mbconv', id: 'm', out: 'a', expand: 2, kernel: 3 },
        ],
      },
    ],
    tail: [
      { type: 'conv', id: 'h', out: 32, kernel: 1 },
      { type: 'pool', id: 'pool' },
      { type: 'linear', id: 'fc' },
    ],
  };
}

function rejects(def: unknown, pattern: RegExp) {
  assert.throws(
    () => resolveSpace({ preset: 'custom', overrides: { definition: def as Record<string, unknown> } }),
    (e: unknown) => e instanceof InvalidArgumentError && e.reason === 'INVALID_SEARCH_SPACE' && pattern.test(e.message),
  );
}

test('every preset resolves, with consistent max/min archs and blocks', () => {
  const names = listPresets().map((p) => p.name);
  for (const n of ['mbv2-small', 'mbv1-small', 'dna-small', 'dna-small-teacher', 'mobilenet_v1', 'mobilenet_v2']) {
    assert.ok(names.includes(n), n);
    const s = resolveSpace({ preset: n });
    s.validateArch(s.maxArch());
    s.validateArch(s.minArch());
    assert.ok(s.cost(s.maxArch()).flops >= s.cost(s.minArch()).flops);
    assert.equal(s.layers.length, new Set(s.layers.map((l) => l.id)).size);
  }
});

test('mbv2-small: 28x28 input, resolutions, width grids, 10-20 MFLOPs max net, residuals', () => {
  const s = resolveSpace({ preset: 'mbv2-small' });
  assert.deepEqual(s.inputShape, [28, 28, 1]);
  assert.deepEqual(s.resolutions, [20, 24, 28]);
  assert.deepEqual(s.widthChoices.map((w) => w.id), ['stem', 's1', 's2', 's3', 's4', 's5']);
  assert.deepEqual(s.width('s4').candidates, [16, 24, 32, 40, 48, 56, 64]);
  const flops = s.cost(s.maxArch()).flops;
  assert.ok(flops > 10e6 && flops < 20e6, String(flops));
  // residual only inside a stage (same width choice, stride 1)
  const res = s.resolvedLayers.filter((l) => l.residual).map((l) => l.id);
  assert.deepEqual(res, ['s2.1', 's3.1', 's3.2', 's4.1', 's4.2', 's5.1']);
  const s32 = resolveSpace({ preset: 'mbv2-small', overrides: { inputShape: [32, 32, 3], numClasses: 100 } });
  assert.deepEqual(s32.resolutions, [24, 28, 32]);
  assert.equal(s32.numClasses, 100);
});

test('dna-small: 4 blocks of 2-3 layers, 4 ops each, outputs matching dna-small-teacher', () => {
  const s = resolveSpace({ preset: 'dna-small' });
  const t = resolveSpace({ preset: 'dna-small-teacher' });
  assert.equal(s.blocks.length, 4);
  for (const b of s.blocks) {
    const ops = b.layerIds.filter((id) => s.opLayerIds.includes(id));
    assert.ok(ops.length >= 2 && ops.length <= 3, b.id);
  }
  for (const id of s.opLayerIds) assert.equal(s.layers.find((l) => l.id === id)?.ops?.length, 4);
  assert.deepEqual(
    s.blocks.map((b) => [b.outChannels, b.outSize]),
    t.blocks.map((b) => [b.outChannels, b.outSize]),
  );
  assert.equal(t.opLayerIds.length, 0);
});

test('validateArch names the offending choice', () => {
  const s = resolveSpace({ preset: 'mbv2-small' });
  const a = s.maxArch();
  assert.throws(() => s.validateArch({ ...a, resolution: 27 }), /resolution/);
  assert.throws(() => s.validateArch({ ...a, width: { ...a.width, s2: 23 } }), /width\.s2/);
  assert.throws(() => s.validateArch({ ...a, width: { ...a.width, nope: 8 } }), /width\.nope/);
  const idx = [0, 2, 4, 6, 8, 10, 12, 14];
  s.validateArch({ ...a, width: { ...a.width, s2: 8 }, channelIdx: { s2: idx } });
  assert.throws(() => s.validateArch({ ...a, width: { ...a.width, s2: 8 }, channelIdx: { s2: [...idx].reverse() } }), /ascending/);
  assert.throws(() => s.validateArch({ ...a, width: { ...a.width, s2: 2 }, channelIdx: { s2: [0, 24] } }), /outside/);
  const d = resolveSpace({ preset: 'dna-small' });
  assert.throws(() => d.validateArch({ ...d.maxArch(), op: { 'b0.0': 4 } }), /op\.b0\.0/);
});

test('bad definitions throw INVALID_SEARCH_SPACE naming the layer or field', () => {
  assert.throws(() => resolveSpace({ preset: 'nope' }), /unknown search space preset 'nope'/);
  assert.throws(() => resolveSpace({ preset: 'mbv2-small', overrides: { depth: 3 } }), /override 'depth'/);
  assert.throws(() => resolveSpace({ preset: 'mbv2-small', overrides: { inputShape: null } }), /override inputShape/);
  assert.throws(() => resolveSpace({ preset: 'mbv2-small', overrides: { numClasses: 'ten' } }), /numClasses/);
  assert.throws(() => resolveSpace({ preset: 'mbv2-small', overrides: { resolutions: [] } }), /resolutions/);
  const withLayer = (patch: (d: SpaceDefinition) => void) => {
    const d = tiny();
    patch(d);
    return d;
  };
  rejects(withLayer((d) => d.blocks[0]?.layers.push({ type: 'dwconv', id: 'c', kernel: 3 })), /layer 'c': duplicate layer id/);
  rejects(withLayer((d) => d.blocks[0]?.layers.push({ type: 'dwconv', id: 'x', kernel: 4 })), /layer 'x': kernel must be an odd/);
  rejects(withLayer((d) => d.blocks[0]?.layers.push({ type: 'conv', id: 'x', out: 'zz', kernel: 1 })), /layer 'x': out refers to unknown width 'zz'/);
  rejects(withLayer((d) => d.blocks[0]?.layers.push({ type: 'conv', id: 'x', out: 8, kernel: 1, stride: 3 })), /layer 'x': stride/);
  rejects(
    withLayer((d) => d.blocks[0]?.layers.push({ type: 'mbconv', id: 'x', out: 16, residual: true })),
    /layer 'x': residual add needs/,
  );
  rejects(
    withLayer((d) =>
      d.blocks[0]?.layers.push({ type: 'mbconv', id: 'x', out: 'a', stride: 2, ops: [{ name: 'id', kernel: 1, expand: 1, skip: true }] }),
    ),
    /layer 'x' ops\[0\]: skip op needs stride 1/,
  );
  rejects(withLayer((d) => d.widths.push({ id: 'unused', base: 8 })), /width 'unused': is not used/);
  rejects(withLayer((d) => d.tail.pop()), /tail: must end with one pool layer/);
  rejects(withLayer((d) => (d.numClasses = 1)), /numClasses/);
  rejects(withLayer((d) => (d.inputShape = [8, 8] as unknown as [number, number, number])), /inputShape/);
  rejects(withLayer((d) => (d.blocks[0] as { layers: unknown[] }).layers.push({ type: 'conv3d', id: 'q' })), /layer 'q': unknown type/);
});

test('cost model: hand-computed MACs and params for every layer type', () => {
  const s = resolveSpace({ preset: 'custom', overrides: { definition: tiny() as unknown as Record<string, unknown> } });
  const max = s.maxArch();
  assert.equal(max.resolution, 8);
  const lc = s.layerCosts(max);
  // conv 3x3 s2 3->16 at 8x8: out 4; 4*4*16*9*3
  assert.deepEqual(lc.c, { flops: 6912, params: 9 * 3 * 16 + 32, latency: 0 });
  // depthwise 3x3 on 16 ch at 4x4
  assert.deepEqual(lc.d, { flops: 4 * 4 * 9 * 16, params: 9 * 16 + 32, latency: 0 });
  // mbconv 16 -> hidden make_divisible(32) -> 16: expand + dw + project
  assert.deepEqual(lc.m, { flops: 8192 + 4608 + 8192, params: 16 * 32 + 64 + 9 * 32 + 64 + 32 * 16 + 32, latency: 0 });
  assert.deepEqual(lc.h, { flops: 16 * 16 * 32, params: 16 * 32 + 64, latency: 0 });
  assert.deepEqual(lc.pool, { flops: 4 * 4 * 32, params: 0, latency: 0 });
  assert.deepEqual(lc.fc, { flops: 320, params: 330, latency: 0 });
  assert.equal(s.cost(max).flops, 39232);
  const min = s.minArch();
  assert.equal(min.resolution, 6);
  assert.deepEqual(min.width, { a: 8 });
  // at 6x6: conv out 3; mbconv hidden make_divisible(16) = 16
  const expected = 3 * 3 * 8 * 27 + 3 * 3 * 9 * 8 + (9 * 8 * 16 + 9 * 9 * 16 + 9 * 16 * 8) + 9 * 8 * 32 + 9 * 32 + 320;
  assert.equal(s.cost(min).flops, expected);
  // channel indices do not change the cost, only the count
  assert.equal(s.cost({ ...min, channelIdx: { a: [1, 3, 5, 7, 9, 11, 13, 15] } }).flops, expected);
});

/** Independent MobileNetV1 counter: stem, then (dw, pw) per layer, pool, FC. */
function mbv1Flops(res: number, inC: number, stem: [number, number], layers: [number, number][], classes: number): number {
  const out = (n: number, s: number) => Math.floor((n - 1) / s) + 1;
  let size = out(res, stem[1]);
  let c = stem[0];
  let f = size * size * c * 9 * inC;
  for (const [co, s] of layers) {
    size = out(size, s);
    f += size * size * 9 * c + size * size * c * co;
    c = co;
  }
  return f + size * size * c + c * classes;
}

test('cost() without a latency table sums layerCosts exactly, on random archs of every preset', () => {
  const rng = new Rng(3);
  let compared = 0;
  for (const { name } of listPresets()) {
    const s = resolveSpace({ preset: name });
    for (let i = 0; i < 200; i++) {
      const arch = randomArch(s, rng);
      // the per-layer path, in network order (no preset has array-index layer ids)
      let flops = 0;
      let params = 0;
      for (const c of Object.values(s.layerCosts(arch))) {
        flops += c.flops;
        params += c.params;
      }
      assert.deepEqual(s.cost(arch), { flops, params, latency: 0 }, `${name} ${JSON.stringify(arch)}`);
      compared++;
    }
  }
  assert.ok(compared >= 1000);
});

test('cost model: max and min nets of every preset', () => {
  const v1 = resolveSpace({ preset: 'mobilenet_v1' });
  const base = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];
  const strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1];
  assert.equal(v1.cost(v1.maxArch()).flops, mbv1Flops(224, 3, [32, 2], base.map((b, i) => [b, strides[i] as number]), 1000));
  assert.equal(v1.cost(v1.minArch()).flops, mbv1Flops(128, 3, [24, 2], base.map((b, i) => [b * 0.75, strides[i] as number]), 1000));
  // PSS-Net's published cost ranges (max -> min net): MBV1 about 569 -> 107 MFLOPs, MBV2 about 301 -> 69
  assert.equal(Math.round(v1.cost(v1.maxArch()).flops / 1e6), 569);
  assert.equal(Math.round(v1.cost(v1.minArch()).flops / 1e6), 107);
  const v2 = resolveSpace({ preset: 'mobilenet_v2' });
  assert.equal(Math.round(v2.cost(v2.maxArch()).flops / 1e6), 301);
  assert.equal(Math.round(v2.cost(v2.minArch()).flops / 1e6), 69);
  assert.equal(v2.cost(v2.maxArch()).flops, 300836992);
  assert.equal(v2.cost(v2.minArch()).flops, 69150208);
  const m1 = resolveSpace({ preset: 'mbv1-small' });
  const sb = [16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256, 256];
  assert.equal(m1.cost(m1.maxArch()).flops, mbv1Flops(28, 1, [8, 1], sb.map((b, i) => [b, strides[i] as number]), 10));
  const minW = Object.values(m1.minArch().width);
  assert.equal(m1.cost(m1.minArch()).flops, mbv1Flops(20, 1, [minW[0] as number, 1], sb.map((_, i) => [minW[i + 1] as number, strides[i] as number]), 10));
  const mb2 = resolveSpace({ preset: 'mbv2-small' });
  assert.equal(mb2.cost(mb2.maxArch()).flops, 11800016);
  assert.equal(mb2.cost(mb2.minArch()).flops, 839856);
  const dna = resolveSpace({ preset: 'dna-small' });
  assert.equal(dna.cost(dna.maxArch()).flops, 11028496);
  // the teacher's hidden layers are twice as wide as the widest candidate's: larger than any student
  const teacher = resolveSpace({ preset: 'dna-small-teacher' });
  assert.equal(teacher.cost(teacher.maxArch()).flops, 26007568);
  assert.ok(teacher.cost(teacher.maxArch()).flops > dna.cost(dna.maxArch()).flops);
});

test('latency table entries are summed into cost().latency', () => {
  const def = tiny() as unknown as Record<string, unknown>;
  const plain = resolveSpace({ preset: 'custom', overrides: { definition: def } });
  const shapes = plain.layerShapes(plain.maxArch());
  const table: Record<string, number> = {};
  for (const key of plain.latencyShapes().keys()) table[key] = 0;
  for (const sh of shapes) table[latencyKey(sh)] = 1;
  const s = resolveSpace({ preset: 'custom', overrides: { definition: def } }, { latencyTable: table });
  assert.equal(s.cost(s.maxArch()).latency, shapes.length);
  // only the classifier has the same shape in the min net
  assert.equal(s.cost(s.minArch()).latency, 1);
  // the same table given as an override
  const given = resolveSpace({ preset: 'custom', overrides: { definition: def, latencyTable: table } });
  assert.ok(given.hasLatencyTable && !plain.hasLatencyTable);
  assert.equal(given.cost(given.maxArch()).latency, shapes.length);
});

test('latencyShapes covers every layer shape of every arch; incomplete or foreign tables are refused by key', () => {
  const def = tiny() as unknown as Record<string, unknown>;
  const space = resolveSpace({ preset: 'custom', overrides: { definition: def } });
  const shapes = space.latencyShapes();
  const widths = space.widthChoices;
  for (const resolution of space.resolutions) {
    for (const w of widths[0]!.candidates) {
      const arch = space.maxArch();
      arch.resolution = resolution;
      arch.width[widths[0]!.id] = w;
      for (const sh of space.layerShapes(arch)) assert.ok(shapes.has(latencyKey(sh)), latencyKey(sh));
    }
  }
  const table = Object.fromEntries([...shapes.keys()].map((k) => [k, 0.5]));
  const refuse = (t: unknown, re: RegExp) =>
    assert.throws(
      () => resolveSpace({ preset: 'custom', overrides: { definition: def, latencyTable: t } }),
      (e: unknown) => e instanceof InvalidArgumentError && e.reason === 'INVALID_SEARCH_SPACE' && re.test(e.message),
    );
  refuse({ ...table, 'conv:99:1:1:0:3:1': 1 }, /key 'conv:99:1:1:0:3:1' is not a layer shape/);
  const [first] = shapes.keys();
  const missing = { ...table };
  delete missing[first!];
  refuse(missing, /misses key/);
  refuse({ ...table, [first!]: 'fast' }, /is not a finite number/);
  refuse([1, 2], /must be an object/);
  assert.throws(() => resolveSpace({ preset: 'custom', overrides: { definition: def, latencyTable: table, measureLatency: true } }), /exclude each other/);
  assert.throws(() => resolveSpace({ preset: 'custom', overrides: { definition: def, measureLatency: 'yes' } }), /measureLatency must be true or false/);
});
