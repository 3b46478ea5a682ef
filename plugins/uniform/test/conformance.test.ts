import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  // A small evolutionary search, so that the kit's search check stays quick.
  config: { sampleTries: 50, searchPopulation: 4, searchGenerations: 2, searchTopK: 2, searchMutations: 2, searchCrossovers: 2, recalibrationBatches: 2, fitnessImages: 32, validationImages: 32 },
  space: { preset: 'mbv2-small' },
  makeRuntime: (space) => smallTrainingRuntime(space),
  badConfigs: [
    { config: { sampleTries: 0 }, key: 'sampleTries' },
    { config: { labelSmoothing: 'a' }, key: 'labelSmoothing' },
    { config: { searchPopulation: 0 }, key: 'searchPopulation' },
    { config: { mutationProb: 2 }, key: 'mutationProb' },
    { config: { validationImages: 0.5 }, key: 'validationImages' },
  ],
});
