import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import { CancelledError, Rng, archKey } from '@supernetd/sdk';
import type { Arch, Batch, Constraint, Network, SearchControl, SupernetEngine } from '@supernetd/sdk';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { CafeNetStrategy, parseCafeNetConfig } from '../src/index.ts';

const config = {
  placements: 2,
  population: 4,
  topK: 2,
  generations: 2,
  mutations: 2,
  crossovers: 2,
  recalibrationBatches: 1,
  validationBatches: 1,
  // batch size 16: two held-out batches for the final choice
  finalValidationImages: 32,
};

/** A control that counts yields (throwing CancelledError once `limit` have passed) and records progress. */
function countingControl(limit = Infinity): SearchControl & { yields: number; progressed: [number, number, string | undefined][] } {
  const c = {
    yields: 0,
    progressed: [] as [number, number, string | undefined][],
    yield(): Promise<void> {
      if (c.yields >= limit) return Promise.reject(new CancelledError('deadline passed'));
      c.yields++;
      return Promise.resolve();
    },
    progress(done: number, total: number, note?: string): void {
      c.progressed.push([done, total, note]);
    },
  };
  return c;
}

describe('CafeNet bounded search on a real mbv2-small runtime', () => {
  let rt: EngineRuntime;
  let s: CafeNetStrategy;
  let constraint: Constraint;
  /** Every `engine.evaluate` call: the arch and how many batches it was measured on. */
  const evaluated: { arch: Arch; batches: number; accuracy: number }[] = [];

  before(async () => {
    rt = await smallTrainingRuntime({ preset: 'mbv2-small' }, { maxTrainExamples: 256, maxTestExamples: 16, totalSteps: 4, seed: 4 });
    const engine = rt.engine as SupernetEngine;
    const evaluate = engine.evaluate.bind(engine);
    (engine as { evaluate: SupernetEngine['evaluate'] }).evaluate = (net: Network, arch: Arch, batches: readonly Batch[]) => {
      const r = evaluate(net, arch, batches);
      evaluated.push({ arch, batches: batches.length, accuracy: r.accuracy });
      return r;
    };
    s = new CafeNetStrategy(rt.space, parseCafeNetConfig(config), 9);
    for (let i = 0; i < 2; i++) {
      const b = rt.nextTrainBatch();
      s.trainStep(rt.engine, b, { step: i, totalSteps: 4, stepsPerEpoch: 4 });
      b.x.dispose();
      b.y.dispose();
    }
    const mid = (rt.space.cost(rt.space.minArch()).flops + rt.space.cost(rt.space.maxArch()).flops) / 2;
    constraint = { kind: 'flops', target: Math.round(mid) };
  });
  after(() => rt?.dispose());

  it('stops at the first yield that throws CancelledError, measures nothing more and leaks no tensor', async () => {
    const tensors = rt.engine.tf.memory().numTensors;
    const control = countingControl(3);
    evaluated.length = 0;
    await assert.rejects(s.search(rt.engine, constraint, control), CancelledError);
    assert.equal(control.yields, 3);
    assert.equal(evaluated.length, 3, 'one measurement per passed yield, none after the cancelling one');
    assert.equal(rt.engine.tf.memory().numTensors, tensors, 'a cancelled search leaked tensors');
    assert.deepEqual(s.state().searched, {}, 'a cancelled search remembers nothing');
  });

  it('cancelled before any measurement: no batch drawn, no tensor left', async () => {
    const tensors = rt.engine.tf.memory().numTensors;
    evaluated.length = 0;
    await assert.rejects(s.search(rt.engine, constraint, countingControl(0)), CancelledError);
    assert.equal(evaluated.length, 0);
    assert.equal(rt.engine.tf.memory().numTensors, tensors);
  });

  it('a full search yields before every measurement, reports progress up to the plan, and picks on the final held-out images', async () => {
    const tensors = rt.engine.tf.memory().numTensors;
    const control = countingControl();
    evaluated.length = 0;
    const found = await s.search(rt.engine, constraint, control);
    assert.equal(rt.engine.tf.memory().numTensors, tensors, 'search leaked tensors');
    assert.equal(control.yields, evaluated.length, 'a yield before every measured subnet');
    const total = config.population + config.generations * (config.mutations + config.crossovers) + config.topK;
    assert.ok(control.progressed.length > 0);
    assert.ok(control.progressed.every(([, t]) => t === total), 'the plan is population + generations x children + finalists');
    assert.deepEqual(control.progressed.at(-1)?.slice(0, 2), [total, total]);
    assert.ok(control.progressed.some(([, , n]) => n === 'generation 2'));
    const dones = control.progressed.map(([d]) => d);
    assert.deepEqual(dones, [...dones].sort((a, b) => a - b), 'progress only goes forward');
    // Fitness on validationBatches (1 batch); the final topK on ceil(32 / 16) = 2 batches.
    const finals = evaluated.filter((e) => e.batches === 2);
    assert.equal(finals.length, config.topK);
    assert.ok(evaluated.slice(0, -config.topK).every((e) => e.batches === 1));
    const bestFinal = finals.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    assert.equal(archKey(found.arch), archKey(bestFinal.arch), 'the final choice is the best on the final held-out images');
    assert.equal(found.score, bestFinal.accuracy);
    assert.ok(rt.space.cost(found.arch).flops <= constraint.target);
  });

  it('the same constraint again, without training in between, returns the remembered result without measuring', async () => {
    evaluated.length = 0;
    const control = countingControl(0);
    const first = s.state().searched[`${constraint.kind}:${constraint.target}`]?.proposal;
    assert.ok(first);
    const again = await s.search(rt.engine, constraint, control);
    assert.deepEqual(again, first);
    assert.equal(evaluated.length, 0);
    assert.equal(s.sample(constraint, 'deploy', new Rng(1)).arch, first.arch);
    // A replica restored from state() (as on the RPC thread) knows it too.
    const replica = new CafeNetStrategy(rt.space, parseCafeNetConfig(config), 9);
    replica.load(JSON.parse(JSON.stringify(s.state())));
    assert.equal(archKey(replica.sample(constraint, 'deploy', new Rng(2)).arch), archKey(first.arch));
    assert.deepEqual(await replica.search(rt.engine, constraint, control), first);
    assert.equal(evaluated.length, 0);
  });

  it('after a training step the same constraint is searched again', async () => {
    const b = rt.nextTrainBatch();
    s.trainStep(rt.engine, b, { step: 2, totalSteps: 4, stepsPerEpoch: 4 });
    b.x.dispose();
    b.y.dispose();
    evaluated.length = 0;
    await assert.rejects(s.search(rt.engine, constraint, countingControl(1)), CancelledError);
    assert.equal(evaluated.length, 1, 'the remembered result is stale after training');
  });

  it('defaults: a small evolution, the final choice on at least 2,000 held-out images', () => {
    const d = parseCafeNetConfig({});
    assert.equal(d.placement, 'free');
    assert.deepEqual(
      [d.population, d.generations, d.topK, d.mutations, d.crossovers, d.finalValidationImages],
      [16, 8, 4, 8, 8, 2048],
    );
  });
});
