import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import { Rng } from '@supernetd/sdk';
import type { Arch, Batch, Constraint, Network, StepLog } from '@supernetd/sdk';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { CafeNetStrategy, parseCafeNetConfig } from '../src/index.ts';
import { SMALL_SEARCH } from './small-search.ts';

/** True when every width choice keeps channels 0..width-1 (no channelIdx means the same). */
function isLeftmost(arch: Arch): boolean {
  return Object.entries(arch.width).every(([id, w]) => {
    const idx = arch.channelIdx?.[id];
    return idx === undefined || (idx.length === w && idx.every((c, i) => c === i));
  });
}

const steps = 4;
const small = { ...SMALL_SEARCH, placements: 4, population: 3 };

interface ModeRun {
  strategy: CafeNetStrategy;
  logs: StepLog[];
  /** Archs of every supernet forward, per training step. */
  forwards: Arch[][];
  /** Archs of every supernet forward during the search. */
  searchForwards: Arch[];
  proposals: Arch[];
}

describe('CafeNet placement modes (free vs leftmost) on a real mbv2-small runtime', () => {
  let rt: EngineRuntime;
  let batches: Batch[];
  const runs = new Map<'free' | 'leftmost', ModeRun>();
  let constraint: Constraint;

  before(async () => {
    rt = await smallTrainingRuntime({ preset: 'mbv2-small' }, { maxTrainExamples: 96, maxTestExamples: 16, totalSteps: steps, seed: 3 });
    batches = Array.from({ length: steps }, () => rt.nextTrainBatch());
    const net = rt.engine.supernet as Network;
    const forward = net.forward.bind(net);
    let sink: Arch[] = [];
    (net as { forward: Network['forward'] }).forward = (arch, x, opts) => {
      sink.push(arch);
      return forward(arch, x, opts);
    };
    const mid = (rt.space.cost(rt.space.minArch()).flops + rt.space.cost(rt.space.maxArch()).flops) / 2;
    constraint = { kind: 'flops', target: Math.round(mid) };
    for (const mode of ['free', 'leftmost'] as const) {
      // Same seed in both modes: the same widths and the same number of draws per step.
      const s = new CafeNetStrategy(rt.space, parseCafeNetConfig({ ...small, placement: mode }), 17);
      const run: ModeRun = { strategy: s, logs: [], forwards: [], searchForwards: [], proposals: [] };
      for (let i = 0; i < steps; i++) {
        sink = [];
        run.logs.push(s.trainStep(rt.engine, batches[i] as Batch, { step: i, totalSteps: steps, stepsPerEpoch: steps }));
        run.forwards.push(sink);
      }
      const rng = new Rng(5);
      for (let i = 0; i < 20; i++) {
        for (const purpose of ['train', 'eval', 'deploy'] as const) {
          run.proposals.push(s.sample(undefined, purpose, rng).arch, s.sample(constraint, purpose, rng).arch);
        }
      }
      sink = [];
      const found = await s.search(rt.engine, constraint);
      run.searchForwards = sink;
      run.proposals.push(found.arch, s.sample(constraint, 'deploy', rng).arch);
      runs.set(mode, run);
    }
    sink = [];
  });
  after(() => {
    for (const b of batches ?? []) {
      b.x.dispose();
      b.y.dispose();
    }
    rt?.dispose();
  });

  it('leftmost mode trains, samples and searches only leftmost channels', () => {
    const run = runs.get('leftmost') as ModeRun;
    for (const log of run.logs) for (const a of log.archs) assert.ok(isLeftmost(a), 'a trained subnet is not leftmost');
    for (const fs of run.forwards) for (const a of fs) assert.ok(isLeftmost(a), 'a no-grad placement forward is not leftmost');
    for (const a of run.searchForwards) assert.ok(isLeftmost(a), 'a measured search candidate is not leftmost');
    for (const a of run.proposals) assert.ok(isLeftmost(a), 'a proposal is not leftmost');
    assert.ok(run.searchForwards.length > 0, 'the search measured candidates');
    assert.ok(run.forwards.flat().some((a) => a.channelIdx !== undefined), 'the archs name their channels');
    for (const e of run.strategy.state().memory) {
      assert.equal(e.placements.length, 1, 'the memory holds only the leftmost placement of a width');
    }
  });

  it('free mode does not always use the leftmost channels', () => {
    const run = runs.get('free') as ModeRun;
    const all = [...run.forwards.flat(), ...run.proposals];
    assert.ok(all.some((a) => !isLeftmost(a)), 'free mode never placed a free bin away from the left');
  });

  it('both modes run the same forwards per step: same count, same widths', () => {
    const free = runs.get('free') as ModeRun;
    const left = runs.get('leftmost') as ModeRun;
    assert.deepEqual(
      left.forwards.map((f) => f.length),
      free.forwards.map((f) => f.length),
    );
    for (let i = 0; i < steps; i++) {
      assert.deepEqual(
        (left.forwards[i] as Arch[]).map((a) => a.width),
        (free.forwards[i] as Arch[]).map((a) => a.width),
        `step ${i}: the same widths`,
      );
      assert.deepEqual(Object.keys(left.logs[i]?.losses ?? {}).sort(), Object.keys(free.logs[i]?.losses ?? {}).sort(), 'the same losses');
    }
    assert.ok(free.forwards.every((f) => f.length >= 3), 'the K no-grad forwards plus the sandwich ran');
  });

  it('a reported metric of a freely placed subnet does not enter the leftmost memory', () => {
    const free = runs.get('free') as ModeRun;
    const left = runs.get('leftmost') as ModeRun;
    const other = free.proposals.find((a) => !isLeftmost(a));
    assert.ok(other);
    const before = JSON.stringify(left.strategy.state().memory);
    left.strategy.onMetric({ arch: other, values: { accuracy: 0.99 } });
    assert.equal(JSON.stringify(left.strategy.state().memory), before);
  });
});
