import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  config: { sampleTries: 50 },
  space: { preset: 'mbv2-small' },
  makeRuntime: (space) => smallTrainingRuntime(space),
  badConfigs: [
    { config: { sampleTries: 0 }, key: 'sampleTries' },
    { config: { labelSmoothing: 'a' }, key: 'labelSmoothing' },
  ],
});
