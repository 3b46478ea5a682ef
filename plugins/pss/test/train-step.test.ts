import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import { CancelledError, Rng, archKey, fits } from '@supernetd/sdk';
import type { Arch, Batch, StepLog, SupernetEngine } from '@supernetd/sdk';
import { recordingSearchControl } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { PssStrategy, parsePssConfig } from '../src/index.ts';

type PssState = ReturnType<PssStrategy['state']>;

describe('PSS training step and search on a real mbv2-small runtime', () => {
  let rt: EngineRuntime;
  let s: PssStrategy;
  const logs: StepLog[] = [];
  const states: PssState[] = [];
  const tensors: number[] = [];

  before(async () => {
    rt = await smallTrainingRuntime({ preset: 'mbv2-small' }, { maxTrainExamples: 128, maxTestExamples: 32, totalSteps: 6, seed: 4 });
    const cfg = parsePssConfig({ genMapSize: 2000, poolSize: 2, recalibrationBatches: 2, validationImages: 40, epochValidationBatches: 1, validTopK: 2 });
    s = new PssStrategy(rt.space, cfg, 8, 6);
    for (let step = 0; step < 3; step++) {
      const batch = rt.nextTrainBatch();
      logs.push(await s.trainStep(rt.engine, batch, { step, totalSteps: 6, stepsPerEpoch: 3 }));
      batch.x.dispose();
      batch.y.dispose();
      states.push(structuredClone(s.state()));
      tensors.push(rt.engine.tf.memory().numTensors);
    }
  });
  after(() => rt?.dispose());

  it('trains max, sampled and min in one step and scores the sampled subnet into its pool with -CE', () => {
    for (const log of logs) {
      assert.equal(log.archs.length, 3);
      assert.equal(archKey(log.archs[0] as never), archKey(rt.space.maxArch()));
      assert.equal(archKey(log.archs[2] as never), archKey(rt.space.minArch()));
      for (const k of ['max', 'sampled', 'min', 'total', 'sampled_score_ce']) assert.ok(Number.isFinite(log.losses[k]), k);
      const sum = (log.losses['max'] as number) + (log.losses['sampled'] as number) + (log.losses['min'] as number);
      assert.ok(Math.abs(sum - (log.losses['total'] as number)) < 1e-4, 'one loss: CE(max) + KL(sampled) + KL(min)');
    }
    // Before step 0 every pool was empty: afterwards exactly one pool holds exactly the sampled subnet.
    const entries = Object.values(states[0]?.pools['flops'] ?? {}).flat();
    assert.equal(entries.length, 1);
    assert.equal(archKey(entries[0]?.arch as never), archKey(logs[0]?.archs[1] as never));
    assert.equal(entries[0]?.score, -(logs[0]?.losses['sampled_score_ce'] as number));
  });

  it('validates the max and min nets after the last step of an epoch without leaking tensors', () => {
    assert.equal(logs[0]?.losses['val_max_accuracy'], undefined);
    const v = logs[2]?.losses ?? {};
    for (const k of ['val_max_accuracy', 'val_min_accuracy']) assert.ok((v[k] as number) >= 0 && (v[k] as number) <= 1, k);
    assert.equal(tensors[2], tensors[1]);
  });

  /** The engine with every `evaluate` call recorded (subnet and images). */
  const countingEvaluate = (engine: SupernetEngine) => {
    const calls: { arch: Arch; images: number }[] = [];
    const wrapped = new Proxy(engine, {
      get(target, prop) {
        if (prop === 'evaluate') {
          return (net: Parameters<SupernetEngine['evaluate']>[0], arch: Arch, batches: readonly Batch[]) => {
            calls.push({ arch, images: batches.reduce((n, b) => n + (b.x.shape[0] as number), 0) });
            return target.evaluate(net, arch, batches);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { engine: wrapped, calls };
  };

  it('search validates only the top-k of the largest-target pool with fitting entries, on validationImages held-out images', async () => {
    const lo = rt.space.cost(rt.space.minArch()).flops;
    const hi = rt.space.cost(rt.space.maxArch()).flops;
    // Reported metrics fill more pools.
    for (let i = 0; i < 30; i++) {
      const p = s.sample({ kind: 'flops', target: lo + ((hi - lo) * (i + 1)) / 31 }, 'eval', new Rng(i));
      s.onMetric({ arch: p.arch, values: { accuracy: i / 30 } });
    }
    const c = { kind: 'flops' as const, target: (lo + hi) / 2 };
    const pools = s.state().pools['flops'] ?? {};
    const withFitting = Object.entries(pools)
      .filter(([, entries]) => entries.some((e) => fits(rt.space.cost(e.arch), c)))
      .map(([t]) => Number(t));
    assert.ok(withFitting.length > 1, 'several pools hold fitting subnets');
    const largest = Math.max(...withFitting);
    const counted = countingEvaluate(rt.engine);
    const { control, seen } = recordingSearchControl();
    const before = rt.engine.tf.memory().numTensors;
    const found = await s.search(counted.engine, c, control);
    assert.equal(rt.engine.tf.memory().numTensors, before);
    const candidates = (pools[String(largest)] ?? []).filter((e) => fits(rt.space.cost(e.arch), c));
    const expected = Math.min(2, candidates.length);
    assert.equal(counted.calls.length, expected, 'only the chosen pool\'s top-k were measured');
    for (const call of counted.calls) {
      assert.ok(call.images >= 40, `measured on ${call.images} images`);
      assert.ok(candidates.some((e) => archKey(e.arch) === archKey(call.arch)));
    }
    assert.ok(seen.yields > expected, 'yields before and between candidates');
    assert.deepEqual([seen.progress.at(-1)?.done, seen.progress.at(-1)?.total], [expected, expected]);
    assert.equal(found.source, `search:pool:flops:${largest}`);
    assert.ok(fits(rt.space.cost(found.arch), c));
    const table = s.exportTable();
    assert.equal(table.length, 1);
    assert.equal(table[0]?.target, largest);
    assert.equal(archKey(table[0]?.arch as Arch), archKey(found.arch));
    assert.equal(archKey(s.sample(c, 'deploy', new Rng(1)).arch), archKey(found.arch));
    const again = countingEvaluate(rt.engine);
    assert.equal(await s.search(again.engine, c), found, 'no training since: the remembered result');
    assert.equal(again.calls.length, 0);
  });

  it('a cancelled search rejects with CancelledError, remembers nothing and leaks no tensor', async () => {
    const lo = rt.space.cost(rt.space.minArch()).flops;
    const hi = rt.space.cost(rt.space.maxArch()).flops;
    const c = { kind: 'flops' as const, target: Math.round(lo + (hi - lo) * 0.8) };
    const { control } = recordingSearchControl(1);
    const before = rt.engine.tf.memory().numTensors;
    await assert.rejects(s.search(rt.engine, c, control), CancelledError);
    assert.equal(rt.engine.tf.memory().numTensors, before);
    assert.equal(s.state().searched[`flops:${c.target}`], undefined);
  });
});

describe('PSS with its default schedules', () => {
  let rt: EngineRuntime;
  const sources: string[] = [];
  const steps = 40;

  before(async () => {
    rt = await smallTrainingRuntime({ preset: 'mbv2-small' }, { maxTrainExamples: 64, maxTestExamples: 16, totalSteps: steps, seed: 2 });
    // Defaults apart from a smaller gen map and pools (for speed): no scheduleUnit override.
    const cfg = parsePssConfig({ genMapSize: 2000, poolSize: 1 });
    assert.equal(cfg.scheduleUnit, 'step');
    const s = new PssStrategy(rt.space, cfg, 5, steps);
    for (let step = 0; step < steps; step++) {
      const batch = rt.nextTrainBatch();
      // A run shorter than one epoch: per-epoch schedules would keep p = T = 1 throughout.
      await s.trainStep(rt.engine, batch, { step, totalSteps: steps, stepsPerEpoch: 1000 });
      batch.x.dispose();
      batch.y.dispose();
      sources.push(s.lastTrainingSource ?? '');
    }
  });
  after(() => rt?.dispose());

  it('draws training subnets from the pools in the second half of a run shorter than an epoch', (t) => {
    assert.equal(sources[0], 'space', 'p starts at 1');
    const second = sources.slice(steps / 2);
    const fromPools = second.filter((src) => src.startsWith('pool:flops:')).length;
    assert.ok(fromPools >= steps / 8, `pool draws in the second half: ${fromPools} of ${second.length} (${second.join(', ')})`);
    const first = sources.slice(0, steps / 2).filter((src) => src.startsWith('pool:')).length;
    t.diagnostic(`pool draws: ${first} in the first half, ${fromPools} in the second`);
    assert.ok(fromPools > first, 'pool draws grow as p decays');
  });
});
