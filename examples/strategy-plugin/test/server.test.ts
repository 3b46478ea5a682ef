// The plug-in loaded by path from the server's `strategies` config and driven over real gRPC.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeStrategyOverGrpc } from '@supernetd/server/testing';

const pluginPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/index.ts');

describeStrategyOverGrpc({
  title: 'a strategy configured by path is listed, trains, samples, takes metrics and exports a loadable model',
  strategyId: 'example-greedy',
  config: { labelSmoothing: 0.1 },
  spaceSpec: { preset: 'mbv1-small' },
  totalSteps: 10n,
  trainSteps: 3,
  budget: 1_500_000,
  seed: 4,
  reportedAccuracy: 0.4,
  server: { strategies: [pluginPath] },
  timeoutMs: 300_000,
  beforeCreate: async ({ client }) => {
    const listed = await client.listStrategies();
    const info = listed.find((s) => s.id === 'example-greedy');
    assert.ok(info, `example-greedy not registered: ${listed.map((s) => s.id).join(', ')}`);
    assert.notEqual(info.origin, 'builtin');
  },
  afterTrain: (stepped) => {
    assert.ok(Number.isFinite(stepped.losses['ce']));
  },
  checkExport: (subnet) => {
    assert.equal(subnet.source, 'greedy');
  },
});
