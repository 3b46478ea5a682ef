// The base of the uniform and sandwich baselines, driven with a synthetic engine: sampling,
// the reported leaderboard, search results remembered per budget, and its JSON state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CancelledError,
  ConfigReader,
  FailedPreconditionError,
  ReportedDeployStrategy,
  Rng,
  archKey,
  fits,
  randomArch,
  readReportedDeployConfig,
} from '../src/index.ts';
import type { Arch, Batch, Constraint, ReportedDeployConfig, SearchSpaceView, StepLog, SupernetEngine } from '../src/index.ts';
import { recordingSearchControl } from '../src/testing/index.ts';
import { SyntheticEngine } from './synthetic-engine.ts';
import { toySpace } from './toy-space.ts';

const space = toySpace();

/** Trains nothing: each step reports one subnet drawn from the training stream. */
class DrawingStrategy extends ReportedDeployStrategy {
  readonly id = 'drawing';
  constructor(space: SearchSpaceView, cfg: ReportedDeployConfig, seed: number) {
    super(space, cfg, seed, 'drawing-train');
  }
  protected trainOne(): StepLog {
    return { losses: { ce: 0 }, archs: [randomArch(this.space, this.rng)] };
  }
}

const readConfig = (raw: Record<string, unknown>): ReportedDeployConfig => {
  const r = new ConfigReader('drawing', raw);
  const cfg = readReportedDeployConfig(r);
  r.done();
  return cfg;
};
const cfg = readConfig({
  searchPopulation: 4,
  searchGenerations: 2,
  searchTopK: 2,
  searchMutations: 2,
  searchCrossovers: 2,
  minBudgetFraction: 0,
  recalibrationBatches: 1,
  fitnessImages: 64,
  validationImages: 64,
});
/** Bigger subnets are better. */
const accuracy = (a: Arch): number => space.cost(a).flops / 2e6;
const budget: Constraint = { kind: 'flops', target: 600000 };
const noBatch = undefined as unknown as Batch;
const ctx = (step: number) => ({ step, totalSteps: 100, stepsPerEpoch: 10 });

async function train(s: ReportedDeployStrategy, engine: SupernetEngine, steps: number): Promise<string[]> {
  const archs: string[] = [];
  for (let i = 0; i < steps; i++) archs.push(...(await s.trainStep(engine, noBatch, ctx(i))).archs.map(archKey));
  return archs;
}

describe('readReportedDeployConfig', () => {
  it('fills the defaults and refuses bad values naming the key', () => {
    const c = readConfig({});
    assert.deepEqual([c.sampleTries, c.leaderboardSize, c.metricLambda, c.searchPopulation], [100, 50, 0.9, 16]);
    assert.throws(() => readConfig({ sampleTries: 0 }), { message: "invalid config for strategy 'drawing': sampleTries: must be >= 1, got 0" });
    assert.throws(() => readConfig({ metricLambda: 2 }), { message: "invalid config for strategy 'drawing': metricLambda: must be <= 1, got 2" });
    assert.throws(() => readConfig({ leaderboardSize: 1.5 }), { message: "invalid config for strategy 'drawing': leaderboardSize: must be an integer, got 1.5" });
  });
});

describe('ReportedDeployStrategy', () => {
  it('trains from its own named stream of the seed, pinned', async () => {
    const e = new SyntheticEngine(space, accuracy);
    const a = await train(new DrawingStrategy(space, cfg, 3), e, 3);
    const r = new Rng(3).fork('drawing-train');
    assert.deepEqual(a, [0, 1, 2].map(() => archKey(randomArch(space, r))));
    assert.deepEqual(a, [
      '{"op":{"o":1},"resolution":24,"width":{"a":8,"b":32}}',
      '{"op":{"o":0},"resolution":16,"width":{"a":16,"b":16}}',
      '{"op":{"o":0},"resolution":16,"width":{"a":16,"b":16}}',
    ]);
  });

  it('samples train and eval subnets from the caller\'s Rng, never from the training stream', () => {
    const s = new DrawingStrategy(space, cfg, 3);
    const before = JSON.stringify(s.state());
    for (const purpose of ['train', 'eval', 'deploy'] as const) {
      const p = s.sample(budget, purpose, new Rng(9));
      assert.equal(p.source, 'space');
      assert.ok(fits(space.cost(p.arch), budget));
      assert.equal(archKey(p.arch), archKey(s.sample(budget, purpose, new Rng(9)).arch));
    }
    assert.equal(JSON.stringify(s.state()), before);
  });

  it('deploys the best reported subnet that fits the budget', () => {
    const s = new DrawingStrategy(space, cfg, 3);
    const small: Arch = { resolution: 16, width: { a: 8, b: 16 }, op: { o: 0 } };
    const mid: Arch = { resolution: 24, width: { a: 8, b: 16 }, op: { o: 0 } };
    const big = space.maxArch();
    s.onMetric({ arch: small, values: { accuracy: 0.5 } });
    s.onMetric({ arch: mid, values: { loss: 0.2 } });
    s.onMetric({ arch: big, values: { accuracy: 0.9 } });
    s.onMetric({ arch: mid, values: {} });
    assert.deepEqual(s.sample(undefined, 'deploy', new Rng(1)), { arch: big, source: 'reported', score: 0.9 });
    assert.deepEqual(s.sample(budget, 'deploy', new Rng(1)), { arch: small, source: 'reported', score: 0.5 });
    // A second report blends in at 1 - lambda: 0.9 * 0.5 + 0.1 * -10 = -0.55, below mid's -0.2 (a loss of 0.2).
    s.onMetric({ arch: small, values: { loss: 10 } });
    assert.deepEqual(s.sample(budget, 'deploy', new Rng(1)), { arch: mid, source: 'reported', score: -0.2 });
    assert.equal(s.sample(budget, 'train', new Rng(1)).source, 'space');
  });

  it('searches under a budget, remembers the answer for deploy, and searches again only after training', async () => {
    const e = new SyntheticEngine(space, accuracy);
    const s = new DrawingStrategy(space, cfg, 5);
    const found = await s.search(e, budget);
    assert.equal(found.source, 'search');
    assert.ok(fits(space.cost(found.arch), budget));
    assert.equal(found.score, accuracy(found.arch));
    assert.deepEqual(s.sample(budget, 'deploy', new Rng(1)), found);
    const measured = e.evaluations.length;
    assert.ok(measured > 0);
    assert.deepEqual(await s.search(e, budget), found);
    assert.equal(e.evaluations.length, measured, 'a repeated search without training in between measures nothing');
    await train(s, e, 1);
    await s.search(e, budget);
    assert.ok(e.evaluations.length > measured, 'a search after a training step measures again');
    // Another budget is searched and remembered on its own.
    const other = await s.search(e, { kind: 'params', target: 600 });
    assert.ok(space.cost(other.arch).params <= 600);
    assert.equal(archKey(s.sample({ kind: 'params', target: 600 }, 'deploy', new Rng(1)).arch), archKey(other.arch));
  });

  it('search draws from a stream of the seed, the budget and the steps trained, so training does not shift', async () => {
    const searched = new DrawingStrategy(space, cfg, 5);
    const plain = new DrawingStrategy(space, cfg, 5);
    const e1 = new SyntheticEngine(space, accuracy);
    const e2 = new SyntheticEngine(space, accuracy);
    await train(searched, e1, 2);
    await train(plain, e2, 2);
    await searched.search(e1, budget);
    assert.deepEqual(await train(searched, e1, 3), await train(plain, e2, 3));
    // Same seed, budget and steps trained: the same candidates in the same order.
    const again = new DrawingStrategy(space, cfg, 5);
    const e3 = new SyntheticEngine(space, accuracy);
    const e4 = new SyntheticEngine(space, accuracy);
    await train(again, e3, 2);
    await again.search(e3, budget);
    await new DrawingStrategy(space, cfg, 5).search(e4, budget);
    assert.deepEqual(e3.evaluations.map((x) => archKey(x.arch)), e1.evaluations.map((x) => archKey(x.arch)));
    assert.notDeepEqual(e4.evaluations.map((x) => archKey(x.arch)), e1.evaluations.map((x) => archKey(x.arch)));
  });

  it('a cancelled search remembers nothing', async () => {
    const s = new DrawingStrategy(space, cfg, 5);
    const { control } = recordingSearchControl(3);
    await assert.rejects(s.search(new SyntheticEngine(space, accuracy), budget, control), CancelledError);
    assert.equal(s.sample(budget, 'deploy', new Rng(1)).source, 'space');
    assert.equal(s.state().searched && Object.keys(s.state().searched!).length, 0);
  });

  it('refuses a budget below the smallest subnet before measuring anything', async () => {
    const e = new SyntheticEngine(space, accuracy);
    await assert.rejects(new DrawingStrategy(space, cfg, 5).search(e, { kind: 'flops', target: 1000 }), (err: unknown) => {
      assert.ok(err instanceof FailedPreconditionError);
      assert.equal(err.message, "no subnet of space 'toy' fits flops <= 1000 (smallest subnet: 69632)");
      return true;
    });
    assert.equal(e.disposal().handedOut, 0);
  });

  it('state() through JSON restores the stream, the leaderboard, the search results and the steps trained', async () => {
    const e = new SyntheticEngine(space, accuracy);
    const a = new DrawingStrategy(space, cfg, 5);
    await train(a, e, 2);
    a.onMetric({ arch: space.minArch(), values: { accuracy: 0.3 } });
    const found = await a.search(e, budget);
    const saved = JSON.stringify(a.state());
    const b = new DrawingStrategy(space, cfg, 99);
    b.load(JSON.parse(saved));
    assert.equal(JSON.stringify(b.state()), saved);
    assert.deepEqual(b.sample(budget, 'deploy', new Rng(1)), found);
    const measured = e.evaluations.length;
    assert.deepEqual(await b.search(e, budget), found, 'the restored copy knows no step has been trained since');
    assert.equal(e.evaluations.length, measured);
    assert.deepEqual(await train(b, e, 3), await train(a, e, 3));
  });

  it('loads a state saved before search results were kept', () => {
    const a = new DrawingStrategy(space, cfg, 5);
    a.onMetric({ arch: space.minArch(), values: { accuracy: 0.3 } });
    const { rng, leaderboard } = a.state();
    const b = new DrawingStrategy(space, cfg, 6);
    b.load({ rng, leaderboard });
    assert.deepEqual(b.state(), { rng, leaderboard, searched: {}, trainedSteps: 0 });
  });
});
