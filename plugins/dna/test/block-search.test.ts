import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSpace } from '@supernetd/engine/space';
import { Rng, randomArch } from '@supernetd/sdk';
import type { Arch } from '@supernetd/sdk';
import { CancelledError } from '@supernetd/sdk';
import { DnaStrategy, NODES_PER_YIELD, branchAndBound, branchAndBoundAsync, bruteForce, encodings, opCostTable, parseDnaConfig } from '../src/index.ts';
import type { BlockCandidate } from '../src/index.ts';

describe('DNA branch-and-bound search', () => {
  it('returns the brute-force optimum within the budget on 300 small random instances', () => {
    const rng = new Rng(42);
    let feasible = 0;
    for (let t = 0; t < 300; t++) {
      const blocks: BlockCandidate[][] = [];
      const nBlocks = 1 + rng.int(4);
      for (let b = 0; b < nBlocks; b++) {
        const n = 1 + rng.int(6);
        const list: BlockCandidate[] = [];
        // Integer costs make ties in cost likely; rounded losses make ties in loss likely too.
        for (let i = 0; i < n; i++) list.push({ enc: [i], loss: Math.round(rng.uniform(0, 10) * 4) / 4, cost: 1 + rng.int(20) });
        blocks.push(list);
      }
      const fixed = rng.int(10);
      const budget = fixed + rng.int(20 * nBlocks + 1);
      const want = bruteForce(blocks, fixed, budget);
      const got = branchAndBound(blocks, fixed, budget);
      if (!want) {
        assert.equal(got, undefined, `instance ${t}: found a combination where none fits`);
        continue;
      }
      feasible++;
      assert.ok(got, `instance ${t}: missed a feasible combination`);
      assert.ok(Math.abs(got.loss - want.loss) < 1e-9, `instance ${t}: loss ${got.loss} vs optimum ${want.loss}`);
      assert.ok(got.cost <= budget, `instance ${t}: over budget`);
      const sumLoss = got.choice.reduce((s, c, b) => s + (blocks[b]?.[c]?.loss ?? NaN), 0);
      const sumCost = got.choice.reduce((s, c, b) => s + (blocks[b]?.[c]?.cost ?? NaN), fixed);
      assert.ok(Math.abs(sumLoss - got.loss) < 1e-9);
      assert.equal(sumCost, got.cost);
    }
    assert.ok(feasible > 100, `only ${feasible} feasible instances`);
  });

  it('the pausing branch and bound equals the plain one, pauses every NODES_PER_YIELD candidates and stops on a rejection', async () => {
    const rng = new Rng(7);
    // Costs anti-correlated with losses and a tight budget: many combinations are looked at.
    const blocks: BlockCandidate[][] = [16, 64, 64, 16].map((n) =>
      Array.from({ length: n }, (_, i) => {
        const loss = rng.next();
        return { enc: [i], loss, cost: Math.round(100 * (1 - loss) + 10 * rng.next()) };
      }),
    );
    const budget = 170;
    const want = branchAndBound(blocks, 0, budget);
    const pauses: number[] = [];
    const got = await branchAndBoundAsync(blocks, 0, budget, (visited) => {
      pauses.push(visited);
      return Promise.resolve();
    });
    assert.deepEqual(got, want);
    assert.ok(pauses.length >= 2, `only ${pauses.length} pauses`);
    pauses.forEach((v, k) => assert.equal(v, (k + 1) * NODES_PER_YIELD));
    let calls = 0;
    await assert.rejects(
      branchAndBoundAsync(blocks, 0, budget, () => (++calls === 2 ? Promise.reject(new CancelledError()) : Promise.resolve())),
      CancelledError,
    );
    assert.equal(calls, 2);
  });

  it('enumerates the product of op choices', () => {
    assert.equal(encodings([4, 4, 4]).length, 64);
    assert.deepEqual(encodings([2, 3]), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    assert.deepEqual(encodings([]), [[]]);
  });

  const space = resolveSpace({ preset: 'dna-small' });

  it('the per-op cost table is additive: fixed + sum of layer entries = the cost model', () => {
    const rng = new Rng(3);
    for (const kind of ['flops', 'params'] as const) {
      const table = opCostTable(space, kind);
      for (let i = 0; i < 30; i++) {
        const a: Arch = randomArch(space, rng);
        const sum = table.fixed + space.opLayerIds.reduce((s, id) => s + (table.perOp[id]?.[a.op?.[id] ?? 0] ?? NaN), 0);
        assert.equal(sum, space.cost(a)[kind]);
      }
    }
  });

  it('deploy sampling over stored ratings equals brute force over every subnet of the space', () => {
    const s = new DnaStrategy(space, parseDnaConfig({}), 1, 100);
    // Synthetic ratings: enough to check the wiring from ratings and costs to the chosen subnet.
    const rng = new Rng(9);
    const st = s.state();
    st.ratings = space.blocks.map((_, i) => ({
      block: i,
      step: 0,
      candidates: s.blockEncodings(i).map((enc) => ({ enc, loss: rng.next(), mse: 0, rel: 0 })),
    }));
    s.load(st);
    const lo = Math.min(...Array.from({ length: 200 }, () => space.cost(randomArch(space, rng)).flops));
    const hi = space.cost(space.maxArch()).flops;
    for (const target of [lo, (lo + hi) / 2, hi]) {
      const c = { kind: 'flops' as const, target };
      const got = s.sample(c, 'deploy', rng);
      const blocks = space.blocks.map((_, i) => {
        const table = opCostTable(space, 'flops');
        const ids = space.blocks[i]?.layerIds.filter((id) => space.opLayerIds.includes(id)) ?? [];
        return (st.ratings[i]?.candidates ?? []).map((r) => ({ enc: r.enc, loss: r.loss, cost: r.enc.reduce((sum, o, j) => sum + (table.perOp[ids[j] as string]?.[o] ?? 0), 0) }));
      });
      const want = bruteForce(blocks, opCostTable(space, 'flops').fixed, target);
      assert.ok(want);
      assert.ok(space.cost(got.arch).flops <= target);
      assert.ok(Math.abs((got.score ?? NaN) + want.loss) < 1e-9, `score ${got.score} vs optimum ${-want.loss}`);
    }
  });

  it('schedules the teacher phase, then one phase per block; the last block continues', () => {
    const s = new DnaStrategy(space, parseDnaConfig({ teacherSteps: 2, stepsPerBlock: 3 }), 1, 100);
    const names = Array.from({ length: 16 }, (_, step) => s.phase({ step, totalSteps: 100, stepsPerEpoch: 10 }));
    assert.deepEqual(names, ['teacher', 'teacher', 'block-0', 'block-0', 'block-0', 'block-1', 'block-1', 'block-1', 'block-2', 'block-2', 'block-2', 'block-3', 'block-3', 'block-3', 'block-3', 'block-3']);
    const auto = new DnaStrategy(space, parseDnaConfig({}), 1, 100);
    assert.equal(auto.teacherSteps, 50, 'the teacher gets half of the run by default');
    assert.equal(auto.stepsPerBlock, 12);
    const share = new DnaStrategy(space, parseDnaConfig({ teacherFraction: 0.3 }), 1, 100);
    assert.equal(share.teacherSteps, 30);
    assert.equal(share.stepsPerBlock, 17);
    assert.deepEqual(auto.blockLearningRates, [0.002, 0.005, 0.005, 0.002]);
  });

  it('refuses bad configs naming the key', () => {
    assert.throws(() => parseDnaConfig({ teacherModel: 'm.json' }), /teacherTaps/);
    assert.throws(() => parseDnaConfig({ teacherTaps: ['a'] }), /teacherTaps/);
    assert.throws(() => parseDnaConfig({ ratingBatches: 0 }), /ratingBatches/);
    assert.throws(() => parseDnaConfig({ teacherFraction: 1.5 }), /teacherFraction/);
    assert.throws(() => parseDnaConfig({ teacherSteps: 10, teacherFraction: 0.5 }), /teacherFraction/);
    assert.throws(() => parseDnaConfig({ teacherModel: 'm.json', teacherTaps: ['a'], teacherFraction: 0.5 }), /teacherFraction/);
    assert.throws(() => new DnaStrategy(space, parseDnaConfig({ blockLearningRates: [0.1] }), 1, 10), /blockLearningRates/);
  });
});
