import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSpace } from '@supernetd/engine/space';
import { Rng, archKey, costOf } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import { ConditionalSampler, PssPools, gridTargets, softmaxIndex, targetOf } from '../src/index.ts';
import type { TargetGrid } from '../src/index.ts';

const arch = (i: number): Arch => ({ resolution: 28, width: { w: i } });

describe('PSS pools', () => {
  it('never exceed their capacity and evict the lowest score, possibly the newcomer', () => {
    const pools = new PssPools(5, 0.9, new Map([['flops', [100]]]));
    const pool = pools.pool('flops', 100);
    assert.ok(pool);
    const rng = new Rng(3);
    const shadow = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const a = arch(rng.int(40));
      const score = rng.normal();
      const k = archKey(a);
      const old = shadow.get(k);
      shadow.set(k, old === undefined ? score : 0.9 * old + 0.1 * score);
      if (shadow.size > 5) {
        const worst = [...shadow.entries()].reduce((x, y) => (y[1] < x[1] ? y : x));
        shadow.delete(worst[0]);
      }
      pools.update('flops', 100, a, score);
      assert.ok(pool.size <= 5, `pool grew to ${pool.size}`);
      assert.deepEqual(new Set(pool.list().map((e) => archKey(e.arch))), new Set(shadow.keys()));
    }
    // A newcomer worse than every member is evicted at once.
    const before = pool.list().map((e) => archKey(e.arch));
    pools.update('flops', 100, arch(999), -1e9);
    assert.deepEqual(pool.list().map((e) => archKey(e.arch)), before);
  });

  it('updates a known subnet with the 0.9 EMA', () => {
    const pools = new PssPools(3, 0.9, new Map([['flops', [1]]]));
    pools.update('flops', 1, arch(1), 1);
    pools.update('flops', 1, arch(1), 0);
    assert.ok(Math.abs((pools.pool('flops', 1)?.get(arch(1)) ?? NaN) - 0.9) < 1e-12);
  });

  it('draws in the softmax(score / T) proportion (chi-square, 20,000 seeded draws)', () => {
    const scores = [0, -0.5, -1, -2, -0.25];
    for (const t of [1, 0.5, 0.1]) {
      const rng = new Rng(11);
      const n = 20000;
      const counts = new Array(scores.length).fill(0) as number[];
      for (let i = 0; i < n; i++) counts[softmaxIndex(scores, t, rng)]++;
      const w = scores.map((s) => Math.exp(s / t));
      const total = w.reduce((a, b) => a + b);
      let chi2 = 0;
      for (let i = 0; i < scores.length; i++) {
        const expected = (n * (w[i] as number)) / total;
        if (expected > 5) chi2 += ((counts[i] as number) - expected) ** 2 / expected;
      }
      assert.ok(chi2 < 18.47, `T=${t}: chi-square ${chi2} above the 0.001 critical value for 4 dof`); // 4 dof
    }
  });

  const space = resolveSpace({ preset: 'mbv2-small' });
  const lo = space.cost(space.minArch()).flops;
  const hi = space.cost(space.maxArch()).flops;
  const step = Math.round((hi - lo) * 0.05);
  const grid: TargetGrid = { kind: 'flops', start: lo, stop: hi, step, offset: lo % step };
  const sampler = new ConditionalSampler(space, [grid], 3000, 5);

  it('conditional sampler: targets lie on the grid and every draw rounds to its target', () => {
    const targets = sampler.targets('flops');
    assert.ok(targets.length >= 5, `only ${targets.length} targets reached`);
    const all = new Set(gridTargets(grid));
    const rng = new Rng(2);
    for (const t of targets) {
      assert.ok(all.has(t));
      for (let i = 0; i < 5; i++) {
        const a = sampler.sampleForTarget('flops', t, rng, 1000);
        space.validateArch(a);
        assert.equal(targetOf(grid, costOf(space.cost(a), 'flops')), t);
      }
    }
  });

  it('draws from the structure space with probability p once the pool is full, always while it is not', () => {
    const t = sampler.targets('flops')[Math.floor(sampler.targets('flops').length / 2)] as number;
    const pools = new PssPools(4, 0.9, new Map([['flops', [t]]]));
    const rng = new Rng(8);
    for (let i = 0; i < 3; i++) pools.update('flops', t, sampler.sampleForTarget('flops', t, rng, 1000), -i);
    for (let i = 0; i < 50; i++) assert.equal(pools.draw('flops', t, 0, 1, rng, sampler, 100).source, 'space');
    pools.update('flops', t, arch(1), -5);
    pools.update('flops', t, arch(2), -6);
    assert.equal(pools.pool('flops', t)?.size, 4);
    for (const p of [0.3, 0.8]) {
      const n = 4000;
      let space = 0;
      for (let i = 0; i < n; i++) if (pools.draw('flops', t, p, 1, rng, sampler, 100).source === 'space') space++;
      assert.ok(Math.abs(space / n - p) < 0.03, `p=${p}: ${space / n} of draws from the structure space`);
    }
  });
});
