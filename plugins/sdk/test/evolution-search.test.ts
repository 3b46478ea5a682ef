// SPOS's evolutionary search on a synthetic fitness: the toy space's "accuracy" falls by 0.1 per
// candidate step away from one target subnet, so the right answer is known in advance.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CancelledError,
  ConfigReader,
  FailedPreconditionError,
  Rng,
  archKey,
  crossoverArch,
  evolutionSearch,
  fits,
  mutateArch,
  readEvolutionSearchConfig,
} from '../src/index.ts';
import type { Arch, Constraint, EvolutionSearchConfig } from '../src/index.ts';
import { recordingSearchControl } from '../src/testing/index.ts';
import { SyntheticEngine } from './synthetic-engine.ts';
import { allArchs, toySpace } from './toy-space.ts';

const space = toySpace();
const widthsOnly = toySpace({ ops: false });

/** Candidate index of each choice: resolution, width a, width b, op. */
const position = (a: Arch): number[] => [
  space.resolutions.indexOf(a.resolution),
  space.widthChoices[0]!.candidates.indexOf(a.width['a'] as number),
  space.widthChoices[1]!.candidates.indexOf(a.width['b'] as number),
  a.op?.['o'] ?? 0,
];
const target: Arch = { resolution: 24, width: { a: 16, b: 32 }, op: { o: 1 } };
const fitness = (a: Arch): number => {
  const p = position(a);
  const t = position(target);
  return 1 - 0.1 * p.reduce((s, v, i) => s + Math.abs(v - (t[i] as number)), 0);
};
/** 29 of the 36 subnets fit; the target (755,712 FLOPs) is one of them. */
const budget: Constraint = { kind: 'flops', target: 800000 };

const config = (raw: Record<string, unknown>): EvolutionSearchConfig => {
  const r = new ConfigReader('test', raw);
  const cfg = readEvolutionSearchConfig(r);
  r.done();
  return cfg;
};
/** 4 candidates x 3 generations on 1 fitness batch, 2 finalists on 4 validation batches. */
const small = config({
  searchPopulation: 4,
  searchGenerations: 3,
  searchTopK: 2,
  searchMutations: 2,
  searchCrossovers: 2,
  mutationProb: 0.3,
  minBudgetFraction: 0,
  recalibrationBatches: 2,
  fitnessImages: 64,
  validationImages: 256,
});

describe('mutateArch and crossoverArch', () => {
  const max = space.maxArch();
  const min = space.minArch();

  it('are pinned for a seed', () => {
    const r = new Rng(6);
    assert.equal(archKey(mutateArch(space, max, 0.5, r)), '{"op":{"o":0},"resolution":32,"width":{"a":24,"b":32}}');
    assert.equal(archKey(mutateArch(space, max, 0.5, r)), '{"op":{"o":0},"resolution":32,"width":{"a":8,"b":32}}');
    assert.equal(archKey(crossoverArch(space, max, { ...min, op: { o: 1 } }, r)), '{"op":{"o":1},"resolution":16,"width":{"a":24,"b":16}}');
    assert.equal(archKey(crossoverArch(space, max, { ...min, op: { o: 1 } }, r)), '{"op":{"o":0},"resolution":16,"width":{"a":8,"b":16}}');
  });

  it('mutation at probability 0 copies, at probability 1 reaches every candidate of every choice', () => {
    const r = new Rng(1);
    const copy = mutateArch(space, target, 0, r);
    assert.notEqual(copy, target);
    assert.equal(archKey(copy), archKey(target));
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const m = mutateArch(space, target, 1, r);
      space.validateArch(m);
      seen.add(archKey(m));
    }
    assert.equal(seen.size, allArchs(space).length);
  });

  it('mutation reads a missing op as op 0, and adds no op map to a space without op choices', () => {
    assert.deepEqual(mutateArch(space, { resolution: 16, width: { a: 8, b: 16 } }, 0, new Rng(1)).op, { o: 0 });
    assert.equal('op' in mutateArch(widthsOnly, widthsOnly.maxArch(), 0.5, new Rng(1)), false);
  });

  it('crossover takes every choice from one parent or the other, and both parents contribute', () => {
    const r = new Rng(2);
    const b: Arch = { ...min, op: { o: 1 } };
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = crossoverArch(space, max, b, r);
      const [pc, pa, pb] = [position(c), position(max), position(b)];
      for (let k = 0; k < 4; k++) assert.ok(pc[k] === pa[k] || pc[k] === pb[k]);
      seen.add(archKey(c));
    }
    assert.equal(seen.size, 16, 'all 2^4 mixes of two parents that differ in every choice');
    assert.equal(archKey(crossoverArch(space, target, target, r)), archKey(target));
  });
});

describe('evolutionSearch', () => {
  it('finds the target, pinned for a seed, on the fitness images then the validation images', async () => {
    const e = new SyntheticEngine(space, fitness);
    const r = await evolutionSearch(e, space, budget, new Rng(1), small);
    assert.equal(archKey(r.arch), archKey(target));
    assert.equal(r.accuracy, 1);
    assert.equal(r.evaluated, 12);
    assert.deepEqual(
      r.finalists.map((f) => [archKey(f.arch), f.accuracy]),
      [
        ['{"op":{"o":1},"resolution":24,"width":{"a":16,"b":32}}', 1],
        ['{"op":{"o":1},"resolution":24,"width":{"a":16,"b":16}}', 0.9],
      ],
    );
    // 64 fitness images are 1 batch of 64; 256 validation images are 4.
    assert.deepEqual(
      e.evaluations.map((x) => x.batches),
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4],
    );
  });

  it('is reproducible from its Rng, and another seed searches differently', async () => {
    const run = async (seed: number) => {
      const e = new SyntheticEngine(space, fitness);
      await evolutionSearch(e, space, budget, new Rng(seed), small);
      return e.evaluations.map((x) => archKey(x.arch));
    };
    const a = await run(7);
    assert.deepEqual(await run(7), a);
    assert.notDeepEqual(await run(8), a);
  });

  it('finds the target more often than random search with as many measurements', async () => {
    const random = config({ ...small, searchPopulation: 12, searchGenerations: 1 });
    let evolved = 0;
    let drawn = 0;
    for (let seed = 0; seed < 40; seed++) {
      const a = await evolutionSearch(new SyntheticEngine(space, fitness), space, budget, new Rng(seed), small);
      const b = await evolutionSearch(new SyntheticEngine(space, fitness), space, budget, new Rng(seed), random);
      assert.equal(a.evaluated, 12);
      assert.equal(b.evaluated, 12);
      if (a.accuracy === 1) evolved++;
      if (b.accuracy === 1) drawn++;
    }
    // Measured today: 31 of 40 against 20 of 40.
    assert.ok(evolved >= 28 && evolved > drawn + 5, `evolution found the target ${evolved} times, random search ${drawn} times, of 40`);
  });

  it('measures distinct fitting subnets, each right after a BN recalibration on one fixed set of batches', async () => {
    const e = new SyntheticEngine(space, fitness);
    await evolutionSearch(e, space, budget, new Rng(3), small);
    const measured = e.evaluations.filter((x) => x.batches === 1);
    assert.equal(new Set(measured.map((x) => archKey(x.arch))).size, measured.length);
    for (const x of e.evaluations) {
      assert.ok(fits(space.cost(x.arch), budget));
      assert.equal(x.recalibratedWith, e.recalibrations[0]!.batches);
    }
    assert.equal(e.recalibrations.length, e.evaluations.length);
    assert.equal(e.recalibrations[0]!.batches.length, 2);
    assert.ok(e.recalibrations.every((c) => c.mode === 'cumulative' && c.range === undefined), 'whole-network recalibration');
  });

  it('chooses among the finalists by their validation accuracy', async () => {
    // On the 4 validation batches the target looks worse than its neighbours.
    const e = new SyntheticEngine(space, (a, batches) => (batches === 4 && fitness(a) === 1 ? 0.5 : fitness(a)));
    const r = await evolutionSearch(e, space, budget, new Rng(1), small);
    assert.equal(archKey(r.arch), '{"op":{"o":1},"resolution":24,"width":{"a":16,"b":16}}');
    assert.equal(r.accuracy, 0.9);
    assert.deepEqual(r.finalists.map((f) => f.accuracy), [0.9, 0.5]);
    assert.equal(archKey(r.finalists[1]!.arch), archKey(target));
  });

  it('prefers candidates that use at least minBudgetFraction of the budget', async () => {
    const e = new SyntheticEngine(space, fitness);
    const cfg = config({ searchPopulation: 6, searchGenerations: 1, minBudgetFraction: 0.5, recalibrationBatches: 0, fitnessImages: 64, validationImages: 64 });
    await evolutionSearch(e, space, { kind: 'flops', target: 1081344 }, new Rng(2), cfg);
    const firstGeneration = e.evaluations.slice(0, 6);
    for (const x of firstGeneration) assert.ok(space.cost(x.arch).flops >= 540672, `${archKey(x.arch)} is under half the budget`);
    assert.equal(e.recalibrations.length, 0, 'recalibrationBatches 0 recalibrates nothing');
  });

  it('returns the smallest subnet when nothing else fits', async () => {
    const e = new SyntheticEngine(space, fitness);
    const r = await evolutionSearch(e, space, { kind: 'flops', target: 69632 }, new Rng(4), small);
    assert.equal(archKey(r.arch), archKey(space.minArch()));
    assert.equal(r.evaluated, 1);
  });

  it('refuses a budget below the smallest subnet before drawing any batch', async () => {
    const e = new SyntheticEngine(space, fitness);
    await assert.rejects(evolutionSearch(e, space, { kind: 'params', target: 271 }, new Rng(4), small), (err: unknown) => {
      assert.ok(err instanceof FailedPreconditionError);
      assert.equal(err.reason, 'CONSTRAINT_UNSATISFIABLE');
      assert.equal(err.message, "no subnet of space 'toy' fits params <= 271 (smallest subnet: 272)");
      return true;
    });
    assert.equal(e.disposal().handedOut, 0);
  });

  it('yields before every measurement, reports progress against the planned total, and disposes every batch once', async () => {
    const e = new SyntheticEngine(space, fitness);
    const { control, seen } = recordingSearchControl();
    await evolutionSearch(e, space, budget, new Rng(5), small, control);
    // 4 x 3 candidates and 2 finalists are planned.
    assert.deepEqual(seen.progress.map((p) => [p.done, p.total]), Array.from({ length: 14 }, (_, i) => [i + 1, 14]));
    assert.deepEqual(
      seen.progress.map((p) => p.note),
      [...Array<string>(4).fill('generation 1/3'), ...Array<string>(4).fill('generation 2/3'), ...Array<string>(4).fill('generation 3/3'), 'validating finalists', 'validating finalists'],
    );
    assert.equal(seen.yields, 1 + 14);
    // 2 recalibration batches and 4 held-out batches.
    assert.deepEqual(e.disposal(), { handedOut: 6, disposedOnce: 6, disposedTwice: 0 });
  });

  it('stops at a cancelled yield with CancelledError and still disposes every batch', async () => {
    for (const cancelAfter of [0, 1, 5, 13]) {
      const e = new SyntheticEngine(space, fitness);
      const { control } = recordingSearchControl(cancelAfter);
      await assert.rejects(evolutionSearch(e, space, budget, new Rng(5), small, control), CancelledError);
      // The first yield comes before any batch is drawn; each later one before one measurement.
      assert.equal(e.evaluations.length, Math.max(0, cancelAfter - 1));
      const d = e.disposal();
      assert.equal(d.disposedOnce, d.handedOut);
      assert.equal(d.disposedTwice, 0);
      assert.equal(d.handedOut, cancelAfter === 0 ? 0 : 6);
    }
  });
});
