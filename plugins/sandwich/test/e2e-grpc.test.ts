// End to end over real gRPC: the sandwich rule with in-place distillation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { SamplePurpose } from '@supernetd/api';
import { SupernetdClient, flops } from '@supernetd/client';
import { startServer } from '@supernetd/server';
import type { RunningServer } from '@supernetd/server';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'supernetd-sandwich-e2e-'));
let server: RunningServer;
let client: SupernetdClient;

before(async () => {
  server = await startServer({ port: 0, dataDir, logLevel: 'warn', backend: 'wasm' });
  client = new SupernetdClient({ address: server.address, tls: false, timeoutMs: 600_000 });
});

after(async () => {
  client?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('sandwich: create, train, sample, report, export by budget, load the export with stock TensorFlow.js', async () => {
  const experimentId = 'sandwich-e2e';
  await client.createExperiment({
    experimentId,
    spec: {
      searchSpace: { preset: 'mbv2-small' },
      strategy: { id: 'sandwich', config: { randomSubnets: 1 } },
      training: { dataset: { name: 'fashion-mnist', maxTrainExamples: 128, maxTestExamples: 32 }, batchSize: 16, totalSteps: 10n, seed: 5 },
    },
  });
  const stepped = await client.trainStep({ experimentId, input: { case: 'steps', value: 2 } });
  assert.equal(stepped.step, 2n);
  for (const [k, v] of Object.entries(stepped.losses)) assert.ok(Number.isFinite(v), `loss ${k}`);
  assert.ok(stepped.subnets.length >= 1);
  assert.equal(stepped.subnets.length, 3, 'max, one random and min subnet');

  const budget = 4_000_000;
  const sampled = await client.sampleSubnet({ experimentId, constraint: flops(budget), count: 3, purpose: SamplePurpose.EVAL });
  assert.equal(sampled.length, 3);
  for (const s of sampled) assert.ok((s.cost?.flops ?? Infinity) <= budget, 'each sampled subnet fits');
  const seq = await client.reportMetric({ experimentId, subnetId: sampled[0]?.id as string, metrics: { accuracy: 0.6 } });
  assert.equal(seq, 1n);

  const exported = await client.exportSubnet({ experimentId, target: { case: 'constraint', value: flops(budget) } });
  const subnet = exported.header.subnet;
  assert.ok(subnet && (subnet.cost?.flops ?? Infinity) <= budget, 'the deploy choice fits the budget');

  const deployed = await client.sampleSubnet({ experimentId, constraint: flops(budget), purpose: SamplePurpose.DEPLOY });
  assert.equal(deployed[0]?.id, subnet.id, 'deploy sampling returns the searched subnet');
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
