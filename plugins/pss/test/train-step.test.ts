import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import { Rng, archKey, fits } from '@supernetd/sdk';
import type { StepLog } from '@supernetd/sdk';
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
    const cfg = parsePssConfig({ genMapSize: 2000, poolSize: 2, recalibrationBatches: 2, validationBatches: 1, epochValidationBatches: 1, validTopK: 2 });
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

  it('search validates pool entries, fills the export table and returns the largest-target row that fits', async () => {
    const lo = rt.space.cost(rt.space.minArch()).flops;
    const hi = rt.space.cost(rt.space.maxArch()).flops;
    // Reported metrics fill more pools.
    for (let i = 0; i < 30; i++) {
      const p = s.sample({ kind: 'flops', target: lo + ((hi - lo) * (i + 1)) / 31 }, 'eval', new Rng(i));
      s.onMetric({ arch: p.arch, values: { accuracy: i / 30 } });
    }
    const c = { kind: 'flops' as const, target: (lo + hi) / 2 };
    const before = rt.engine.tf.memory().numTensors;
    const found = await s.search(rt.engine, c);
    assert.equal(rt.engine.tf.memory().numTensors, before);
    const table = s.exportTable();
    assert.ok(table.length > 1, 'several pools were validated');
    for (const row of table) {
      assert.ok(fits(row.cost, c));
      assert.ok(row.accuracy >= 0 && row.accuracy <= 1);
    }
    const largest = table.reduce((a, b) => (b.target > a.target ? b : a));
    assert.equal(archKey(found.arch), archKey(largest.arch));
    assert.equal(found.source, `search:pool:flops:${largest.target}`);
    assert.equal(archKey(s.sample(c, 'deploy', new Rng(1)).arch), archKey(found.arch));
    assert.equal(await s.search(rt.engine, c), found, 'no training since: the remembered result');
  });
});
