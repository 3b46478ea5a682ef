import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
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
    finalValidationImages: 32,
  },
  space: { preset: 'mbv2-small' },
  makeRuntime: (space) => smallTrainingRuntime(space),
  badConfigs: [
    { config: { offset: 0 }, key: 'offset' },
    { config: { topK: 50 }, key: 'topK' },
    { config: { resolutions: 'some' }, key: 'resolutions' },
    { config: { placement: 'right' }, key: 'placement' },
    { config: { finalValidationImages: -1 }, key: 'finalValidationImages' },
  ],
  steps: 2,
});
