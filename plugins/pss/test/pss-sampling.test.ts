import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSpace } from '@supernetd/engine/space';
import { Rng, archKey, fits } from '@supernetd/sdk';
import { PssPools, PssStrategy, expSchedule, parsePssConfig } from '../src/index.ts';

const space = resolveSpace({ preset: 'mbv2-small' });

describe('PSS sampling policy (plain JavaScript)', () => {
  it('decays p and T from 1 to 0.01 over the epochs, once per epoch', () => {
    const at = (step: number) => expSchedule([1, 0.01], { step, totalSteps: 100, stepsPerEpoch: 10 }, 'epoch');
    assert.equal(at(0), 1);
    assert.equal(at(9), 1);
    assert.ok(Math.abs(at(10) - Math.pow(0.01, 0.1)) < 1e-12);
    assert.ok(Math.abs(at(99) - Math.pow(0.01, 0.9)) < 1e-12);
    assert.ok(Math.abs(expSchedule([1, 0.01], { step: 50, totalSteps: 100, stepsPerEpoch: 1000 }, 'step') - 0.1) < 1e-12);
  });

  it('picks the constraint kind with weight proportional to its number of pools (multi-constraint mode)', () => {
    const pools = new PssPools(2, 0.9, new Map([['flops', [1, 2, 3, 4, 5, 6]], ['params', [7, 8]]]));
    const rng = new Rng(4);
    let flops = 0;
    const n = 8000;
    for (let i = 0; i < n; i++) if (pools.pickTarget(rng)?.kind === 'flops') flops++;
    assert.ok(Math.abs(flops / n - 0.75) < 0.02, `flops chosen ${flops / n} of the time`);
  });

  const cfg = parsePssConfig({ genMapSize: 2000, costKinds: ['flops', 'params'] });

  it('samples fitting subnets for every purpose and scores reported metrics into the right pools', () => {
    const s = new PssStrategy(space, cfg, 3, 100);
    const lo = space.cost(space.minArch()).flops;
    const hi = space.cost(space.maxArch()).flops;
    const c = { kind: 'flops' as const, target: lo + (hi - lo) * 0.3 };
    const rng = new Rng(1);
    for (const purpose of ['train', 'eval', 'deploy'] as const) {
      for (let i = 0; i < 20; i++) assert.ok(fits(space.cost(s.sample(c, purpose, rng).arch), c));
    }
    const p = s.sample(c, 'eval', rng);
    s.onMetric({ arch: p.arch, values: { accuracy: 0.7 } });
    const st = s.state();
    const inPools = Object.values(st.pools).flatMap((byT) => Object.values(byT).flat()).filter((e) => archKey(e.arch) === archKey(p.arch));
    assert.equal(inPools.length, 2, 'one pool per kind holds the reported subnet');
    // With only the reported subnet in the pools, deploy returns it (best fitting entry of the largest pool).
    assert.equal(archKey(s.sample(c, 'deploy', rng).arch), archKey(p.arch));
    const copy = new PssStrategy(space, cfg, 99, 100);
    copy.load(JSON.parse(JSON.stringify(st)));
    assert.equal(JSON.stringify(copy.state()), JSON.stringify(st));
    assert.equal(archKey(copy.sample(c, 'eval', new Rng(5)).arch), archKey(s.sample(c, 'eval', new Rng(5)).arch));
  });

  it('refuses unknown keys and bad values naming the key', () => {
    assert.throws(() => parsePssConfig({ poolSize: 0 }), /poolSize/);
    assert.throws(() => parsePssConfig({ costKinds: ['watts'] }), /costKinds\[0\]/);
    assert.throws(() => parsePssConfig({ targets: { flops: { start: 1 } } }), /targets\.flops/);
    assert.throws(() => parsePssConfig({ pRange: [1] }), /pRange/);
  });

  it('measures search candidates on 2048 held-out images and decays its schedules per step by default; old validationBatches configs still load', () => {
    const d = parsePssConfig({});
    assert.equal(d.validationImages, 2048);
    assert.equal(d.scheduleUnit, 'step');
    assert.equal(d.validationBatches, undefined);
    assert.equal(parsePssConfig({ validationBatches: 2 }).validationBatches, 2);
    assert.throws(() => parsePssConfig({ validationBatches: 0 }), /validationBatches/);
    assert.throws(() => parsePssConfig({ validationImages: 0 }), /validationImages/);
    // A run shorter than an epoch: per-epoch schedules would stay at 1; per-step ones reach the end value.
    const s = new PssStrategy(space, parsePssConfig({ genMapSize: 200 }), 1, 10);
    const late = { step: 9, totalSteps: 10, stepsPerEpoch: 1000 };
    assert.ok(s.structureProbability(late) < 0.02 && s.temperature(late) < 0.02);
    const perEpoch = new PssStrategy(space, parsePssConfig({ genMapSize: 200, scheduleUnit: 'epoch' }), 1, 10);
    assert.equal(perEpoch.structureProbability(late), 1);
  });
});
