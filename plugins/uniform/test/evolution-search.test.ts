// SPOS's evolutionary search, as the uniform and sandwich baselines use it (ReportedDeployStrategy).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import { resolveSpace } from '@supernetd/engine/space';
import { CancelledError, Rng, archKey, crossoverArch, fits, mutateArch, randomArch } from '@supernetd/sdk';
import type { Arch, Batch, SupernetEngine } from '@supernetd/sdk';
import { recordingSearchControl } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { UniformStrategy, parseUniformConfig } from '../src/index.ts';

/** The engine with every `evaluate` call's subnet recorded. */
function countingEvaluate(engine: SupernetEngine): { engine: SupernetEngine; archs: Arch[] } {
  const archs: Arch[] = [];
  const wrapped = new Proxy(engine, {
    get(target, prop) {
      if (prop === 'evaluate') {
        return (net: Parameters<SupernetEngine['evaluate']>[0], arch: Arch, batches: readonly Batch[]) => {
          archs.push(arch);
          return target.evaluate(net, arch, batches);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { engine: wrapped, archs };
}

describe('mutation and crossover (plain JavaScript)', () => {
  const space = resolveSpace({ preset: 'mbv2-small' });
  const rng = new Rng(3);
  const a = randomArch(space, rng);
  const b = randomArch(space, rng);

  it('mutation keeps every choice at probability 0 and gives valid subnets at any probability', () => {
    assert.equal(archKey(mutateArch(space, a, 0, rng)), archKey(a));
    for (let i = 0; i < 20; i++) space.validateArch(mutateArch(space, a, 0.5, rng));
  });

  it('crossover takes each choice from one of the parents', () => {
    for (let i = 0; i < 20; i++) {
      const c = crossoverArch(space, a, b, rng);
      space.validateArch(c);
      assert.ok(c.resolution === a.resolution || c.resolution === b.resolution);
      for (const w of space.widthChoices) assert.ok(c.width[w.id] === a.width[w.id] || c.width[w.id] === b.width[w.id]);
    }
  });
});

describe('uniform: SPOS evolutionary search under a budget on a real mbv2-small runtime', () => {
  let rt: EngineRuntime;
  let s: UniformStrategy;
  const cfg = parseUniformConfig({
    searchPopulation: 6,
    searchGenerations: 3,
    searchTopK: 2,
    searchMutations: 3,
    searchCrossovers: 3,
    recalibrationBatches: 2,
    fitnessImages: 32,
    validationImages: 64,
  });
  const total = 6 * 3 + 2;

  before(async () => {
    rt = await smallTrainingRuntime({ preset: 'mbv2-small' }, { maxTrainExamples: 128, maxTestExamples: 16, totalSteps: 8, seed: 3 });
    s = new UniformStrategy(rt.space, cfg, 11);
    for (let step = 0; step < 4; step++) {
      const batch = rt.nextTrainBatch();
      await s.trainStep(rt.engine, batch, { step, totalSteps: 8, stepsPerEpoch: 8 });
      batch.x.dispose();
      batch.y.dispose();
    }
  });
  after(() => rt?.dispose());

  const budget = () => {
    const lo = rt.space.cost(rt.space.minArch()).flops;
    const hi = rt.space.cost(rt.space.maxArch()).flops;
    return { lo, c: { kind: 'flops' as const, target: Math.round((lo + hi) / 2) } };
  };

  it('measures only fitting candidates, chooses one near the budget and deploys it; a second call measures nothing', async () => {
    const { lo, c } = budget();
    const counted = countingEvaluate(rt.engine);
    const { control, seen } = recordingSearchControl();
    const before = rt.engine.tf.memory().numTensors;
    const found = await s.search(counted.engine, c, control);
    assert.equal(rt.engine.tf.memory().numTensors, before, 'search leaked tensors');
    assert.equal(counted.archs.length, total, 'population x generations candidates, then the finalists');
    for (const a of counted.archs) assert.ok(fits(rt.space.cost(a), c));
    assert.ok(seen.yields >= counted.archs.length);
    assert.deepEqual([seen.progress.at(-1)?.done, seen.progress.at(-1)?.total], [total, total]);
    assert.equal(found.source, 'search');
    const flops = rt.space.cost(found.arch).flops;
    assert.ok(flops <= c.target && flops >= lo + 0.75 * (c.target - lo), `chosen ${flops} FLOPs, fitting range ${lo}..${c.target}`);
    assert.equal(archKey(s.sample(c, 'deploy', new Rng(1)).arch), archKey(found.arch));
    const replica = new UniformStrategy(rt.space, cfg, 99);
    replica.load(JSON.parse(JSON.stringify(s.state())));
    assert.equal(archKey(replica.sample(c, 'deploy', new Rng(2)).arch), archKey(found.arch), 'the result is in state()');

    const again = countingEvaluate(rt.engine);
    assert.equal(await s.search(again.engine, c), found, 'no training since: the remembered result');
    assert.equal(again.archs.length, 0);
  });

  it('searches again after a training step', async () => {
    const { c } = budget();
    const batch = rt.nextTrainBatch();
    await s.trainStep(rt.engine, batch, { step: 4, totalSteps: 8, stepsPerEpoch: 8 });
    batch.x.dispose();
    batch.y.dispose();
    const counted = countingEvaluate(rt.engine);
    await s.search(counted.engine, c);
    assert.equal(counted.archs.length, total);
  });

  it('a cancelled search rejects with CancelledError, leaks no tensor and remembers nothing', async () => {
    const { lo, c: mid } = budget();
    const c = { kind: 'flops' as const, target: Math.round(lo + (mid.target - lo) * 0.6) };
    const { control } = recordingSearchControl(3);
    const before = rt.engine.tf.memory().numTensors;
    await assert.rejects(s.search(rt.engine, c, control), CancelledError);
    assert.equal(rt.engine.tf.memory().numTensors, before);
    assert.notEqual(s.sample(c, 'deploy', new Rng(4)).source, 'search');
  });
});
