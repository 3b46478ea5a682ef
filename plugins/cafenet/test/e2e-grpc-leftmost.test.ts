// End to end over real gRPC in leftmost mode: the searched subnet keeps its leftmost channels and
// still exports and loads like a free-mode one.
import assert from 'node:assert/strict';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';
import { SMALL_SEARCH } from './small-search.ts';

describeStrategyOverGrpc({
  strategyId: 'cafenet',
  title: 'cafenet (placement leftmost): train, sample, report, export by budget, load the export with stock TensorFlow.js',
  config: { placement: 'leftmost', placements: 2, ...SMALL_SEARCH },
  spaceSpec: { preset: 'mbv2-small' },
  totalSteps: 10n,
  trainSteps: 2,
  budget: 6_000_000,
  checkExport: (subnet) => {
    assert.equal(subnet.source, 'search:evolution;weights=retrain');
    const kept = Object.entries(subnet.architecture?.channelIndices ?? {});
    assert.ok(kept.length > 0, 'the export names its kept channels');
    for (const [id, { indices }] of kept) {
      const idx = [...indices];
      assert.deepEqual(idx, Array.from({ length: idx.length }, (_, i) => i), `${id} keeps its leftmost channels`);
    }
  },
});
