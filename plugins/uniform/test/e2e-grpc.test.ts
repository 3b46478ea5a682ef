// End to end over real gRPC: the SPOS baseline.
import assert from 'node:assert/strict';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';

describeStrategyOverGrpc({
  strategyId: 'uniform',
  config: {},
  spaceSpec: { preset: 'mbv2-small' },
  totalSteps: 10n,
  trainSteps: 3,
  budget: 4_000_000,
  checkExport: (subnet) => {
    assert.equal(subnet.source, 'reported', 'deploy prefers the best reported subnet that fits');
  },
});
