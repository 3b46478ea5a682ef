// The plug-in loaded by path from the server's `strategies` config and driven over real gRPC.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { SamplePurpose } from '@supernetd/api';
import { SupernetdClient, flops } from '@supernetd/client';
import { startServer } from '@supernetd/server';
import type { RunningServer } from '@supernetd/server';

const pluginPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/index.ts');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'supernetd-example-plugin-'));
let server: RunningServer;
let client: SupernetdClient;

before(async () => {
  server = await startServer({ port: 0, dataDir, logLevel: 'warn', backend: 'wasm', strategies: [pluginPath] });
  client = new SupernetdClient({ address: server.address, tls: false, timeoutMs: 300_000 });
});

after(async () => {
  client?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a strategy configured by path is listed, trains, samples, takes metrics and exports a loadable model', async () => {
  const listed = await client.listStrategies();
  const info = listed.find((s) => s.id === 'example-greedy');
  assert.ok(info, `example-greedy not registered: ${listed.map((s) => s.id).join(', ')}`);
  assert.notEqual(info.origin, 'builtin');

  await client.createExperiment({
    experimentId: 'greedy',
    spec: {
      searchSpace: { preset: 'mbv1-small' },
      strategy: { id: 'example-greedy', config: { labelSmoothing: 0.1 } },
      training: { dataset: { name: 'fashion-mnist', maxTrainExamples: 128, maxTestExamples: 32 }, batchSize: 16, totalSteps: 10n, seed: 4 },
    },
  });
  const stepped = await client.trainStep({ experimentId: 'greedy', input: { case: 'steps', value: 3 } });
  assert.equal(stepped.step, 3n);
  assert.ok(Number.isFinite(stepped.losses['ce']));

  const budget = 1_500_000;
  const sampled = await client.sampleSubnet({ experimentId: 'greedy', constraint: flops(budget), count: 3, purpose: SamplePurpose.EVAL });
  assert.equal(sampled.length, 3);
  for (const s of sampled) assert.ok((s.cost?.flops ?? Infinity) <= budget);
  await client.reportMetric({ experimentId: 'greedy', subnetId: sampled[0]?.id as string, metrics: { accuracy: 0.4 } });

  const exported = await client.exportSubnet({ experimentId: 'greedy', target: { case: 'constraint', value: flops(budget) } });
  const subnet = exported.header.subnet;
  assert.ok(subnet && (subnet.cost?.flops ?? Infinity) <= budget);
  assert.equal(subnet.source, 'greedy');
  const modelJson = JSON.parse(Buffer.from(exported.files.get('model.json') as Uint8Array).toString('utf8')) as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const weights = exported.files.get('weights.bin') as Uint8Array;
  await tf.setBackend('cpu');
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }),
  );
  const res = subnet.architecture?.resolution ?? 28;
  const y = tf.tidy(() => model.predict(tf.zeros([2, res, res, 1])) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 10]);
  y.dispose();
  model.dispose();
});
