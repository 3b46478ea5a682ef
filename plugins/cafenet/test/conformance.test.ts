import { createEngineRuntime } from '@supernetd/engine';
import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  config: {
    placements: 2,
    population: 3,
    topK: 2,
    generations: 1,
    mutations: 1,
    crossovers: 1,
    recalibrationBatches: 1,
    validationBatches: 1,
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
    { config: { offset: 0 }, key: 'offset' },
    { config: { topK: 50 }, key: 'topK' },
    { config: { resolutions: 'some' }, key: 'resolutions' },
  ],
  steps: 2,
});
