import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  config: { randomSubnets: 1 },
  space: { preset: 'mbv2-small' },
  makeRuntime: (space) => smallTrainingRuntime(space),
  badConfigs: [
    { config: { randomSubnets: -1 }, key: 'randomSubnets' },
    { config: { inplaceDistillation: 'yes' }, key: 'inplaceDistillation' },
  ],
  steps: 2,
});
