import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSpace } from '@supernetd/engine';
import { Rng } from '@supernetd/sdk';
import { describeStrategyConformance } from '@supernetd/sdk/testing';
import { smallTrainingRuntime } from '@supernetd/server/testing';
import { GreedyStrategy, parseGreedyConfig, strategy } from '../src/index.ts';

describeStrategyConformance({
  factory: strategy,
  config: {},
  space: { preset: 'mbv1-small' },
  makeRuntime: (space) => smallTrainingRuntime(space, { maxTrainExamples: 128, maxTestExamples: 32 }),
  badConfigs: [{ config: { labelSmoothing: 2 }, key: 'labelSmoothing' }],
  steps: 2,
});

test('deploy keeps the largest subnet the greedy walk finds under the budget', () => {
  const space = resolveSpace({ preset: 'mbv1-small' });
  const s = new GreedyStrategy(space, parseGreedyConfig({}), 1);
  const max = space.cost(space.maxArch()).flops;
  const c = { kind: 'flops' as const, target: max * 0.5 };
  const a = s.sample(c, 'deploy', new Rng(1)).arch;
  assert.ok(space.cost(a).flops <= c.target);
  // Larger than what random sampling under the same budget typically finds.
  const rng = new Rng(2);
  const random = Array.from({ length: 20 }, () => space.cost(s.sample(c, 'eval', rng).arch).flops);
  assert.ok(space.cost(a).flops >= Math.max(...random) * 0.9);
});
