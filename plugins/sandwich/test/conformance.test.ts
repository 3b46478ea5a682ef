import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  // A small evolutionary search, so that the kit's search check stays quick.
  config: { randomSubnets: 1, searchPopulation: 4, searchGenerations: 2, searchTopK: 2, searchMutations: 2, searchCrossovers: 2, recalibrationBatches: 2, fitnessImages: 32, validationImages: 32 },
  space: { preset: 'mbv2-small' },
  makeRuntime: (space) => smallTrainingRuntime(space),
  badConfigs: [
    { config: { randomSubnets: -1 }, key: 'randomSubnets' },
    { config: { inplaceDistillation: 'yes' }, key: 'inplaceDistillation' },
    { config: { fitnessImages: 0 }, key: 'fitnessImages' },
    { config: { minBudgetFraction: 1.5 }, key: 'minBudgetFraction' },
  ],
  steps: 2,
});
