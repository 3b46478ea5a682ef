import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineRuntime } from '@supernetd/engine';
import { CancelledError, Rng } from '@supernetd/sdk';
import { recordingSearchControl } from '@supernetd/sdk/testing';
import type { SearchControlLog } from '@supernetd/sdk/testing';
import type { Constraint, Proposal } from '@supernetd/sdk';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { DnaStrategy, parseDnaConfig } from '../src/index.ts';
import type { BlockRating } from '../src/index.ts';

/** Ratings reported through a recording control's progress notes. */
const rated = (seen: SearchControlLog) => seen.progress.filter((p) => p.note.startsWith('rating block')).length;

describe('DNA search under a SearchControl', () => {
  let rt: EngineRuntime;
  let s: DnaStrategy;
  let constraint: Constraint;
  const train = async (step: number) => {
    const batch = rt.nextTrainBatch();
    await s.trainStep(rt.engine, batch, { step, totalSteps: 8, stepsPerEpoch: 8 });
    batch.x.dispose();
    batch.y.dispose();
  };

  before(async () => {
    rt = await smallTrainingRuntime({ preset: 'dna-small' }, { maxTrainExamples: 128, maxTestExamples: 32, totalSteps: 8, seed: 2 });
    s = new DnaStrategy(rt.space, parseDnaConfig({ teacherSteps: 1, stepsPerBlock: 1, ratingBatches: 1, teacherValImages: 16 }), 3, 8);
    // Step 0 trains the teacher, step 1 block 0 (rated at the end of its one-step phase).
    await train(0);
    await train(1);
    const lo = rt.space.cost(rt.space.minArch()).flops;
    const hi = rt.space.cost(rt.space.maxArch()).flops;
    constraint = { kind: 'flops', target: Math.round((lo + hi) / 2) };
  });
  after(() => rt?.dispose());

  // Candidates per block: 4^2, 4^3, 4^3, 4^2.
  const sizes = [16, 64, 64, 16];

  it('rejects with CancelledError once yield() throws, and leaves no tensor behind', async () => {
    assert.ok(s.blockRatings()[0] && !s.blockRatings()[1]);
    const before = rt.engine.tf.memory().numTensors;
    const { control, seen } = recordingSearchControl(70);
    await assert.rejects(s.search(rt.engine, constraint, control), CancelledError);
    assert.equal(rt.engine.tf.memory().numTensors, before, 'tensors leaked by the cancelled search');
    assert.equal(seen.yields, 70);
    // Progress counts the candidates of the unrated blocks 1..3 plus one for the branch and bound.
    const total = (sizes[1] as number) + (sizes[2] as number) + (sizes[3] as number) + 1;
    assert.ok(seen.progress.length > 0 && seen.progress.every((p) => p.total === total));
    assert.equal(rated(seen), 70);
  });

  let ratings: (BlockRating | null)[];
  let first: Proposal;

  it('keeps the ratings finished before the cancellation; the next search rates only the rest', async () => {
    const kept = [...s.blockRatings()];
    assert.ok(kept[1], 'block 1 was fully rated before the cancellation');
    assert.equal(kept[2], null, 'a partly rated block was stored');
    const before = rt.engine.tf.memory().numTensors;
    const { control, seen } = recordingSearchControl();
    first = await s.search(rt.engine, constraint, control);
    assert.equal(rt.engine.tf.memory().numTensors, before);
    assert.equal(rated(seen), (sizes[2] as number) + (sizes[3] as number));
    assert.ok(seen.yields >= rated(seen));
    assert.equal(s.blockRatings()[0], kept[0]);
    assert.equal(s.blockRatings()[1], kept[1]);
    assert.ok(rt.space.cost(first.arch).flops <= constraint.target);
    const last = seen.progress.at(-1);
    assert.ok(last && last.done === last.total);
    ratings = [...s.blockRatings()];
    assert.equal(s.sample(constraint, 'deploy', new Rng(1)), first, 'deploy sampling does not return the search result');
  });

  it('the same constraint again, with no training since, returns at once without re-rating', async () => {
    const { control, seen } = recordingSearchControl();
    const t0 = performance.now();
    const again = await s.search(rt.engine, constraint, control);
    assert.ok(performance.now() - t0 < 500, 'the remembered search took too long');
    assert.equal(again, first);
    assert.equal(seen.yields, 0);
    assert.deepEqual(seen.progress, []);
    s.blockRatings().forEach((r, i) => assert.equal(r, ratings[i]));
  });

  it('after more training the search runs again, re-rating only the block that trained', async () => {
    await train(2); // block 1 (its one-step phase ends here, so it is rated again by training)
    const { control, seen } = recordingSearchControl();
    const third = await s.search(rt.engine, constraint, control);
    assert.notEqual(third, first);
    assert.equal(rated(seen), 0, 'fresh ratings were computed again');
    assert.notEqual(s.blockRatings()[1], ratings[1]);
    for (const i of [0, 2, 3]) assert.equal(s.blockRatings()[i], ratings[i]);
    assert.ok(s.state().searchedAt[`${constraint.kind}:${constraint.target}`] === 2);
  });
});
