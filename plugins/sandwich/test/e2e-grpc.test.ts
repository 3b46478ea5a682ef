// End to end over real gRPC: the sandwich rule with in-place distillation.
import assert from 'node:assert/strict';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';

describeStrategyOverGrpc({
  strategyId: 'sandwich',
  config: { randomSubnets: 1, searchPopulation: 4, searchGenerations: 2, searchTopK: 2, searchMutations: 2, searchCrossovers: 2, recalibrationBatches: 2, fitnessImages: 32, validationImages: 32 },
  spaceSpec: { preset: 'mbv2-small' },
  totalSteps: 10n,
  trainSteps: 2,
  budget: 4_000_000,
  afterTrain: (stepped) => {
    assert.equal(stepped.subnets.length, 3, 'max, one random and min subnet');
  },
  checkExport: (subnet) => {
    assert.equal(subnet.source, 'search', 'a budgeted export runs the evolutionary search');
  },
});
