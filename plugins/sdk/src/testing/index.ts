// Conformance kit every strategy package runs: contract, seeded reproducibility, bad config
// rejected, no tensor leak. Imports node:test, so it is exported
// as the `@supernetd/sdk/testing` subpath only, never from the sdk's main entry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { archKey, costOf, fits } from '../arch.ts';
import type { Arch, Constraint } from '../arch.ts';
import type { Batch, SupernetEngine } from '../engine.ts';
import { CancelledError, FailedPreconditionError, InvalidConfigError } from '../errors.ts';
import { Rng } from '../rng.ts';
import type { SearchSpaceView, SpaceSpec } from '../space.ts';
import type { SamplePurpose, SearchControl, SearchStrategy, StepContext, StepLog, StrategyFactory } from '../strategy.ts';

/** The part of the engine's EngineRuntime the kit drives (structural, so the sdk need not import the engine). */
export interface ConformanceRuntime {
  readonly engine: SupernetEngine;
  readonly space: SearchSpaceView;
  readonly stepsPerEpoch: number;
  nextTrainBatch(): Batch;
  dispose(): void;
}

/** A config the strategy must refuse, and the key its InvalidConfigError message must name. */
export interface BadConfig {
  config: unknown;
  key: string;
}

export interface ConformanceOptions<C> {
  factory: StrategyFactory<C>;
  /** A valid raw config (keep it small: the kit trains and searches with it). */
  config: unknown;
  space: SpaceSpec;
  /** Builds a fresh real runtime; equal calls must give equal runtimes (same seed, weights, batches). */
  makeRuntime: (space: SpaceSpec) => ConformanceRuntime | Promise<ConformanceRuntime>;
  /** Extra bad configs to check beyond the unknown key the kit always tries. */
  badConfigs?: BadConfig[];
  /** Training steps of the reproducibility and state checks (default 3). */
  steps?: number;
  /** Planned run length handed to the strategy (default 12) and steps per epoch (default 4). */
  totalSteps?: number;
  stepsPerEpoch?: number;
  /** Run `search` (when the strategy has it) and check the deploy sample afterwards (default true). */
  search?: boolean;
  seed?: number;
}

function finiteLosses(log: StepLog): void {
  assert.ok(log && typeof log.losses === 'object', 'trainStep must return { losses, archs }');
  const entries = Object.entries(log.losses);
  assert.ok(entries.length > 0, 'trainStep must report at least one loss');
  for (const [k, v] of entries) assert.ok(Number.isFinite(v), `loss '${k}' is not finite: ${v}`);
  assert.ok(Array.isArray(log.archs), 'StepLog.archs must be a list');
}

/** Wraps the real engine so that calls to `step` are counted; everything else goes straight through. */
function countingEngine(engine: SupernetEngine): { engine: SupernetEngine; steps: () => number } {
  let n = 0;
  const wrapped = new Proxy(engine, {
    get(target, prop) {
      if (prop === 'step') {
        return (...args: Parameters<SupernetEngine['step']>) => {
          n++;
          return target.step(...args);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { engine: wrapped, steps: () => n };
}

/**
 * Live tensors that are not variables. Optimisers create their slot variables lazily (for instance
 * the first time a DNA op gets a gradient), which is state, not a leak; anything else must not grow.
 */
function liveTensors(engine: SupernetEngine): number {
  return engine.tf.memory().numTensors - Object.keys(engine.tf.engine().registeredVariables).length;
}

/** A FLOPs budget halfway between the smallest and the largest subnet. */
export function midpointConstraint(space: SearchSpaceView): Constraint {
  const lo = space.cost(space.minArch()).flops;
  const hi = space.cost(space.maxArch()).flops;
  return { kind: 'flops', target: Math.round((lo + hi) / 2) };
}

/** Checks that `arch` belongs to `space` and (when given) fits `c`. */
export function assertValidArch(space: SearchSpaceView, arch: Arch, c?: Constraint): void {
  space.validateArch(arch);
  if (c) {
    const cost = space.cost(arch);
    assert.ok(fits(cost, c), `arch ${archKey(arch)} costs ${costOf(cost, c.kind)} ${c.kind}, over ${c.target}`);
  }
}

/**
 * Registers the conformance suite of one strategy with node:test: config rejection, the sample and
 * trainStep contract, seeded reproducibility, JSON state with exact resumption, no tensor leak, and
 * (when the strategy has `search`) a remembered deploy choice.
 */
export function describeStrategyConformance<C>(opts: ConformanceOptions<C>): void {
  const { factory } = opts;
  const seed = opts.seed ?? 1234;
  const steps = opts.steps ?? 3;
  const totalSteps = opts.totalSteps ?? 12;
  const stepsPerEpoch = opts.stepsPerEpoch ?? 4;
  const purposes: SamplePurpose[] = ['train', 'eval', 'deploy'];

  describe(`strategy '${factory.id}' conformance`, () => {
    let r1: ConformanceRuntime;
    let config: C;
    before(async () => {
      config = factory.parseConfig(opts.config);
      r1 = await opts.makeRuntime(opts.space);
    });
    after(() => {
      r1?.dispose();
    });
    const make = (s = seed, space = r1.space): SearchStrategy => factory.create({ space, config, seed: s, totalSteps });
    const ctxAt = (step: number): StepContext => ({ step, totalSteps, stepsPerEpoch: opts.stepsPerEpoch ?? stepsPerEpoch });
    const trainOn = async (s: SearchStrategy, r: ConformanceRuntime, step: number) => {
      const batch = r.nextTrainBatch();
      try {
        return await s.trainStep(r.engine, batch, ctxAt(step));
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
    };

    it('has an id and a description', () => {
      assert.match(factory.id, /^[a-z0-9][a-z0-9-]*$/);
      assert.ok(factory.description.length > 0);
    });

    it('rejects unknown keys, non-objects and bad values with InvalidConfigError naming the key', () => {
      const base = opts.config && typeof opts.config === 'object' ? (opts.config as Record<string, unknown>) : {};
      assert.throws(() => factory.parseConfig({ ...base, noSuchKey: 1 }), (e: unknown) => {
        assert.ok(e instanceof InvalidConfigError, `expected InvalidConfigError, got ${String(e)}`);
        assert.match(e.message, /noSuchKey/);
        return true;
      });
      assert.throws(() => factory.parseConfig(42), InvalidConfigError);
      assert.throws(() => factory.parseConfig([1]), InvalidConfigError);
      for (const bad of opts.badConfigs ?? []) {
        assert.throws(() => factory.parseConfig(bad.config), (e: unknown) => {
          assert.ok(e instanceof InvalidConfigError, `expected InvalidConfigError for ${JSON.stringify(bad.config)}, got ${String(e)}`);
          assert.ok(e.message.includes(bad.key), `message '${e.message}' does not name '${bad.key}'`);
          return true;
        });
      }
    });

    it('accepts its own parsed config again (defaults are valid values)', () => {
      const again = factory.parseConfig(JSON.parse(JSON.stringify(config)));
      assert.deepEqual(JSON.parse(JSON.stringify(again)), JSON.parse(JSON.stringify(config)));
    });

    it('samples subnets of the space that fit the constraint, for every purpose', () => {
      const s = make();
      const c = midpointConstraint(r1.space);
      const rng = new Rng(5);
      for (const purpose of purposes) {
        for (let i = 0; i < 5; i++) {
          assertValidArch(r1.space, s.sample(undefined, purpose, rng).arch);
          const p = s.sample(c, purpose, rng);
          assertValidArch(r1.space, p.arch, c);
          assert.equal(typeof p.source, 'string');
          if (p.score !== undefined) assert.ok(Number.isFinite(p.score));
        }
      }
    });

    it('refuses a budget below the smallest subnet with CONSTRAINT_UNSATISFIABLE', () => {
      const s = make();
      // One multiply-accumulate: below any subnet of any space.
      for (const purpose of purposes) {
        assert.throws(() => s.sample({ kind: 'flops', target: 1 }, purpose, new Rng(1)), (e: unknown) => {
          assert.ok(e instanceof FailedPreconditionError, `expected FailedPreconditionError, got ${String(e)}`);
          assert.equal(e.reason, 'CONSTRAINT_UNSATISFIABLE');
          return true;
        });
      }
    });

    it('sample and onMetric are plain JavaScript (create no tensors)', () => {
      const s = make();
      const before = r1.engine.tf.memory().numTensors;
      const p = s.sample(midpointConstraint(r1.space), 'eval', new Rng(3));
      s.onMetric?.({ arch: p.arch, values: { accuracy: 0.5 } });
      s.onMetric?.({ arch: p.arch, values: { loss: 1.5 } });
      s.sample(undefined, 'train', new Rng(4));
      assert.equal(r1.engine.tf.memory().numTensors, before);
      assert.equal(typeof (s.phase?.(ctxAt(0)) ?? 'train'), 'string');
    });

    it('trainStep calls engine.step exactly once, returns finite losses and valid archs, leaks no tensor', async () => {
      const s = make();
      // The first step of a runtime creates the optimiser's slots: warm up before counting tensors.
      await trainOn(s, r1, 0);
      for (let i = 1; i < 3; i++) {
        const counted = countingEngine(r1.engine);
        const batch = r1.nextTrainBatch();
        const before = liveTensors(r1.engine);
        const log = await s.trainStep(counted.engine, batch, ctxAt(i));
        assert.equal(liveTensors(r1.engine), before, 'trainStep leaked tensors');
        batch.x.dispose();
        batch.y.dispose();
        assert.equal(counted.steps(), 1, 'trainStep must call engine.step exactly once');
        finiteLosses(log);
        for (const a of log.archs) r1.space.validateArch(a);
      }
    });

    it('is reproducible from its seed and resumes exactly from a JSON state', async (t) => {
      // Two fresh identical runtimes: A trains on ra, B on rb, in lockstep with the same seed.
      const ra = await opts.makeRuntime(opts.space);
      const rb = await opts.makeRuntime(opts.space);
      t.after(() => {
        ra.dispose();
        rb.dispose();
      });
      await resumeCheck(ra, rb);
    });

    const resumeCheck = async (r1: ConformanceRuntime, r2: ConformanceRuntime) => {
      const a = make(seed, r1.space);
      const b = make(seed, r2.space);
      for (let i = 0; i < steps; i++) {
        const la = await trainOn(a, r1, 100 + i);
        const lb = await trainOn(b, r2, 100 + i);
        assert.deepEqual(la.archs.map(archKey), lb.archs.map(archKey), `step ${i}: same seed, different subnets`);
      }
      for (const purpose of purposes) {
        assert.equal(archKey(a.sample(undefined, purpose, new Rng(9)).arch), archKey(b.sample(undefined, purpose, new Rng(9)).arch));
      }
      // C starts from another seed and takes A's state: from then on it must decide as A does.
      const saved = JSON.stringify(a.state());
      const c = make(seed + 1, r2.space);
      c.load(JSON.parse(saved));
      assert.equal(JSON.stringify(c.state()), saved, 'state() after load(state) must be the same JSON');
      const budget = midpointConstraint(r1.space);
      for (const purpose of purposes) {
        for (const con of [undefined, budget]) {
          const pa = a.sample(con, purpose, new Rng(21));
          const pc = c.sample(con, purpose, new Rng(21));
          assert.equal(archKey(pc.arch), archKey(pa.arch), `restored copy samples differently (${purpose})`);
        }
      }
      for (let i = 0; i < steps; i++) {
        const la = await trainOn(a, r1, 100 + steps + i);
        const lc = await trainOn(c, r2, 100 + steps + i);
        assert.deepEqual(lc.archs.map(archKey), la.archs.map(archKey), `restored copy trains different subnets at step ${i}`);
      }
    };

    it('search (when present) returns a fitting subnet that deploy sampling then remembers, leaking no tensor', async (t) => {
      const s = make();
      if (!s.search || opts.search === false) {
        t.skip('strategy has no search');
        return;
      }
      await trainOn(s, r1, 0);
      const c = midpointConstraint(r1.space);
      const before = liveTensors(r1.engine);
      const found = await s.search(r1.engine, c);
      assert.equal(liveTensors(r1.engine), before, 'search leaked tensors');
      assertValidArch(r1.space, found.arch, c);
      const deployed = s.sample(c, 'deploy', new Rng(2));
      assert.equal(archKey(deployed.arch), archKey(found.arch), 'sample(c, deploy) must return the search result');
      const replica = make(seed + 7);
      replica.load(JSON.parse(JSON.stringify(s.state())));
      assert.equal(archKey(replica.sample(c, 'deploy', new Rng(3)).arch), archKey(found.arch), 'search result must be in state()');
    });
  });
}

/** What a recordingSearchControl saw: yields let through and every progress report. */
export interface SearchControlLog {
  yields: number;
  progress: { done: number; total: number; note: string }[];
}

/**
 * A SearchControl for tests that records its calls; with `cancelAfter`, the yield after that many
 * rejects with CancelledError, as the host's does once the caller has gone.
 */
export function recordingSearchControl(cancelAfter = Infinity): { control: SearchControl; seen: SearchControlLog } {
  const seen: SearchControlLog = { yields: 0, progress: [] };
  const control: SearchControl = {
    yield: () => {
      if (seen.yields >= cancelAfter) return Promise.reject(new CancelledError('test deadline'));
      seen.yields++;
      return Promise.resolve();
    },
    progress: (done, total, note = '') => {
      seen.progress.push({ done, total, note });
    },
  };
  return { control, seen };
}
