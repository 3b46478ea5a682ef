import { createEngineRuntime } from '@supernetd/engine';
import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  config: { randomSubnets: 1 },
  space: { preset: 'mbv2-small' },
  makeRuntime: (space) =>
    createEngineRuntime({
      space,
      training: {
        dataset: { name: 'fashion-mnist', maxTrainExamples: 256, maxTestExamples: 64 },
        batchSize: 16,
        totalSteps: 12,
        optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 },
        labelSmoothing: 0,
        seed: 1,
      },
    }),
  badConfigs: [
    { config: { randomSubnets: -1 }, key: 'randomSubnets' },
    { config: { inplaceDistillation: 'yes' }, key: 'inplaceDistillation' },
  ],
  steps: 2,
});
