// End to end over real gRPC: CafeNet min-min training and evolutionary width search.
import assert from 'node:assert/strict';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';

describeStrategyOverGrpc({
  strategyId: 'cafenet',
  config: { placements: 2, population: 4, topK: 2, generations: 1, mutations: 2, crossovers: 2, recalibrationBatches: 1, validationBatches: 1, finalValidationImages: 32 },
  spaceSpec: { preset: 'mbv2-small' },
  totalSteps: 10n,
  trainSteps: 2,
  budget: 6_000_000,
  checkExport: (subnet) => {
    assert.equal(subnet.source, 'search:evolution;weights=retrain');
    assert.ok(Object.keys(subnet.architecture?.channelIndices ?? {}).length > 0, 'the export names its kept channels');
  },
});
