import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  // Steps 0..3 stay in block 0, so the tensor count after the warm-up step is stable.
  config: { teacherSteps: 0, stepsPerBlock: 4, ratingBatches: 1 },
  space: { preset: 'dna-small' },
  makeRuntime: (space) => smallTrainingRuntime(space),
  badConfigs: [
    { config: { teacherModel: 'teacher/model.json' }, key: 'teacherTaps' },
    { config: { lrDecay: 2 }, key: 'lrDecay' },
    { config: { blockLearningRates: [0.1, -1] }, key: 'blockLearningRates[1]' },
  ],
  steps: 2,
});
