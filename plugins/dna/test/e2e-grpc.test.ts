// End to end over real gRPC: DNA teacher and block phases, rating, branch-and-bound deploy.
import assert from 'node:assert/strict';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';

describeStrategyOverGrpc({
  strategyId: 'dna',
  config: { teacherSteps: 1, stepsPerBlock: 1, ratingBatches: 1 },
  spaceSpec: { preset: 'dna-small' },
  totalSteps: 5n,
  trainSteps: 5,
  budget: 10_000_000,
  afterTrain: async (_stepped, { client, experimentId }) => {
    const exp = await client.getExperiment(experimentId);
    assert.equal(exp.phase, 'block-3');
  },
  checkExport: (subnet) => {
    assert.match(subnet.source, /weights=retrain/);
    assert.ok(Object.keys(subnet.architecture?.ops ?? {}).length > 0, 'the export names its ops');
  },
});
