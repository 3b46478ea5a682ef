// End to end over real gRPC: CafeNet min-min training and evolutionary width search.
import assert from 'node:assert/strict';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';
import { SMALL_SEARCH } from './small-search.ts';

describeStrategyOverGrpc({
  strategyId: 'cafenet',
  config: { placements: 2, ...SMALL_SEARCH },
  spaceSpec: { preset: 'mbv2-small' },
  totalSteps: 10n,
  trainSteps: 2,
  budget: 6_000_000,
  checkExport: (subnet) => {
    assert.equal(subnet.source, 'search:evolution;weights=retrain');
    assert.ok(Object.keys(subnet.architecture?.channelIndices ?? {}).length > 0, 'the export names its kept channels');
  },
});
