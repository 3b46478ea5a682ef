import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import type { StepLog, SupernetEngine } from '@supernetd/sdk';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { CafeNetStrategy, parseCafeNetConfig, toArch } from '../src/index.ts';
import type { Placement } from '../src/index.ts';

/** Current value of a supernet variable of this runtime, by its engine name (`supernet/...`). */
function read(engine: SupernetEngine, name: string): Float32Array {
  const hits = Object.entries(engine.tf.engine().registeredVariables).filter(([k]) => /^sn\d+\//.test(k) && k.endsWith(`/${name}`));
  assert.equal(hits.length, 1, `variable ${name}`);
  return ((hits[0] as [string, { dataSync(): unknown }])[1].dataSync() as Float32Array).slice();
}

describe('CafeNet min-min on a real mbv2-small runtime', () => {
  let rt: EngineRuntime;
  let s: CafeNetStrategy;
  let log: StepLog;
  let tensorsBefore = 0;
  let tensorsAfter = 0;
  const gammas = new Map<string, [Float32Array, Float32Array]>();

  before(async () => {
    // Plain SGD without momentum or weight decay: a channel without gradient keeps its exact value.
    rt = await smallTrainingRuntime(
      { preset: 'mbv2-small' },
      { maxTrainExamples: 64, maxTestExamples: 16, totalSteps: 4, seed: 2, optimizer: { kind: 'sgd', learningRate: 0.5, momentum: 0, weightDecay: 0 } },
    );
    s = new CafeNetStrategy(rt.space, parseCafeNetConfig({ useSandwich: false, placements: 4, resolutions: 'max' }), 11);
    const names = rt.space.layers.filter((l) => l.widthChoice && l.kind === 'mbconv').map((l) => `supernet/${l.id}/project/bn/gamma`);
    const before = new Map(names.map((n) => [n, read(rt.engine, n)]));
    const batch = rt.nextTrainBatch();
    tensorsBefore = rt.engine.tf.memory().numTensors;
    log = s.trainStep(rt.engine, batch, { step: 0, totalSteps: 4, stepsPerEpoch: 4 });
    tensorsAfter = rt.engine.tf.memory().numTensors;
    batch.x.dispose();
    batch.y.dispose();
    for (const n of names) gammas.set(n, [before.get(n) as Float32Array, read(rt.engine, n)]);
  });
  after(() => rt?.dispose());

  it('trains the placement with the lowest no-grad loss among the K tried', () => {
    const mem = s.state().memory;
    assert.equal(mem.length, 1, 'one width per step');
    const tried = mem[0]?.placements ?? [];
    assert.equal(tried.length, 4, 'K placements were scored');
    const [bestP, bestScore] = tried.reduce((x, y) => (y[1] > x[1] ? y : x));
    assert.ok(Math.abs(-bestScore - (log.losses['placement_ce_min'] as number)) < 1e-9);
    const width = mem[0]?.width;
    assert.ok(width);
    assert.deepEqual(log.archs, [toArch(s.bins, width, bestP, 1)]);
    assert.equal(tensorsAfter, tensorsBefore);
  });

  it("changes the argmin placement's channels and leaves the other placements' channels untouched", () => {
    const mem = s.state().memory[0];
    assert.ok(mem);
    const [bestP] = mem.placements.reduce((x, y) => (y[1] > x[1] ? y : x));
    const chosen = log.archs[0]?.channelIdx ?? {};
    let checkedUntouched = 0;
    let changedChosen = 0;
    for (const layer of rt.space.layers.filter((l) => l.widthChoice && l.kind === 'mbconv')) {
      const id = layer.widthChoice as string;
      const [before, after] = gammas.get(`supernet/${layer.id}/project/bn/gamma`) as [Float32Array, Float32Array];
      const keep = new Set(chosen[id] ?? []);
      for (const [p] of mem.placements) {
        if (JSON.stringify(p) === JSON.stringify(bestP)) continue;
        const other = toArch(s.bins, mem.width, p as Placement, 1).channelIdx?.[id] ?? [];
        for (const c of other) {
          if (keep.has(c)) continue;
          checkedUntouched++;
          assert.ok(Object.is(before[c], after[c]), `${layer.id} channel ${c} (losing placement only) changed`);
        }
      }
      for (const c of keep) if (!Object.is(before[c], after[c])) changedChosen++;
      for (let c = 0; c < before.length; c++) {
        if (!keep.has(c)) assert.ok(Object.is(before[c], after[c]), `${layer.id} channel ${c} outside the chosen placement changed`);
      }
    }
    assert.ok(checkedUntouched > 0, 'the placements tried never differed');
    assert.ok(changedChosen > 0, 'the chosen placement did not train');
  });
});
