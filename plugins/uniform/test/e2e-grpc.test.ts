// End to end over real gRPC: the SPOS baseline.
import assert from 'node:assert/strict';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';

describeStrategyOverGrpc({
  strategyId: 'uniform',
  config: { searchPopulation: 4, searchGenerations: 2, searchTopK: 2, searchMutations: 2, searchCrossovers: 2, recalibrationBatches: 2, fitnessImages: 32, validationImages: 32 },
  spaceSpec: { preset: 'mbv2-small' },
  totalSteps: 10n,
  trainSteps: 3,
  budget: 4_000_000,
  checkExport: (subnet) => {
    assert.equal(subnet.source, 'search', 'a budgeted export runs the evolutionary search');
  },
});
