import { createEngineRuntime } from '@supernetd/engine';
import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  config: {
    genMapSize: 2000,
    poolSize: 2,
    scheduleUnit: 'step',
    validTopK: 2,
    recalibrationBatches: 2,
    validationBatches: 1,
    epochValidationBatches: 1,
  },
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
    { config: { poolSize: 0 }, key: 'poolSize' },
    { config: { costKinds: ['flops', 'flops'] }, key: 'costKinds' },
    { config: { temperatureRange: [1, -1] }, key: 'temperatureRange' },
    { config: { targets: { flops: { start: 10, stop: 5, step: 1 } } }, key: 'targets.flops' },
  ],
  steps: 2,
});
