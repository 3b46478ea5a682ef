// End to end over real gRPC: PSS-Net pools, search and export table.
import assert from 'node:assert/strict';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';

describeStrategyOverGrpc({
  strategyId: 'pss',
  config: { genMapSize: 2000, poolSize: 2, validTopK: 2, recalibrationBatches: 2, validationImages: 32, epochValidationBatches: 1 },
  spaceSpec: { preset: 'mbv2-small' },
  totalSteps: 6n,
  trainSteps: 4,
  budget: 6_000_000,
  afterTrain: (stepped) => {
    assert.equal(stepped.subnets.length, 3, 'max, sampled and min subnet');
  },
  checkExport: (subnet) => {
    assert.match(subnet.source, /^search:(pool:flops:\d+|space)$/);
  },
});
