import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  config: {
    genMapSize: 2000,
    poolSize: 2,
    validTopK: 2,
    recalibrationBatches: 2,
    validationImages: 32,
    epochValidationBatches: 1,
  },
  space: { preset: 'mbv2-small' },
  makeRuntime: (space) => smallTrainingRuntime(space),
  badConfigs: [
    { config: { poolSize: 0 }, key: 'poolSize' },
    { config: { costKinds: ['flops', 'flops'] }, key: 'costKinds' },
    { config: { temperatureRange: [1, -1] }, key: 'temperatureRange' },
    { config: { targets: { flops: { start: 10, stop: 5, step: 1 } } }, key: 'targets.flops' },
  ],
  steps: 2,
});
