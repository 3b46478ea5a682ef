// The whole search loop over a real socket with a real client, engine and strategy:
// CreateExperiment -> Train (streamed) -> SampleSubnet -> ReportMetric -> ExportSubnet -> Evaluate.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { service as healthService } from 'grpc-health-check';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConstraintKind, ExperimentState, ExportSubnetRequestSchema, SamplePurpose, TrainRequestSchema } from '@supernetd/api';
import type { ExportSubnetResponse, TrainResponse } from '@supernetd/api';
import { collectExport } from '@supernetd/client';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { connect, scrape, tempDir, tinySpec, unary } from './helpers.ts';
import type { SupernetClient } from './helpers.ts';

let server: RunningServer;
let client: SupernetClient;
let health: grpc.Client & { check: (req: { service: string }, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void) => void };
const data = tempDir();
const EXP = 'flow';

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'warn', metricsPort: 0, backend: 'wasm' });
  client = connect(server.address);
  const HealthClient = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  health = new HealthClient(server.address, grpc.credentials.createInsecure()) as unknown as typeof health;
});

after(async () => {
  client?.close();
  health?.close();
  await server?.stop();
  data.remove();
});

function liveTensors(): Promise<number | undefined> {
  return scrape(server.metricsPort as number, 'supernetd_live_tensors', { experiment: EXP });
}

test('create, train (streamed) while the server stays responsive, sample, report, export, evaluate', async (t) => {
  const created = await unary(client, 'createExperiment', { experimentId: EXP, spec: tinySpec() });
  assert.equal(created.experiment?.id, EXP);
  assert.equal(created.experiment?.state, ExperimentState.READY);
  assert.equal(created.experiment?.spec?.training?.batchSize, 16);
  assert.equal(created.experiment?.spec?.training?.checkpointInterval, 50, 'defaults are filled in');

  await t.test('Train streams progress; Health, SampleSubnet and GetExperiment answer while it runs', async () => {
    const events: TrainResponse[] = [];
    const order: string[] = [];
    const stream = client.train(create(TrainRequestSchema, { experimentId: EXP, steps: 6, progressInterval: 1 }));
    let probes: Promise<void> | undefined;
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (e: TrainResponse) => {
        events.push(e);
        if (e.done) order.push('done');
        probes ??= (async () => {
          await Promise.all([
            new Promise<void>((res, rej) =>
              health.check({ service: 'supernetd.v1.SupernetService' }, (err, r) => (err ? rej(err) : (assert.equal(r?.status, 'SERVING'), order.push('health'), res()))),
            ),
            unary(client, 'sampleSubnet', { experimentId: EXP, count: 2 }).then((r) => {
              assert.equal(r.subnets.length, 2);
              order.push('sample');
            }),
            unary(client, 'getExperiment', { experimentId: EXP }).then((r) => {
              assert.equal(r.experiment?.state, ExperimentState.TRAINING);
              order.push('get');
            }),
          ]);
        })();
      });
      stream.on('error', reject);
      stream.on('end', () => resolve());
    });
    await ended;
    await probes;
    assert.deepEqual(order.slice(-1), ['done'], `probes answered before the last event: ${order.join(',')}`);
    assert.equal(order.length, 4);
    const last = events.at(-1) as TrainResponse;
    assert.equal(last.done, true);
    assert.equal(last.step, 6n);
    assert.equal(last.targetStep, 6n);
    assert.equal(last.checkpointStep, 6n, 'a checkpoint is written at the end of Train');
    assert.ok(Number.isFinite(last.losses.total ?? last.losses.ce), 'losses are reported');
    assert.ok(last.learningRate > 0);
    assert.equal(last.phase, 'train');
    assert.ok(events.length >= 6, 'one event per progress interval');
  });

  const tensorsAfterTrain = await liveTensors();
  assert.ok(tensorsAfterTrain !== undefined && tensorsAfterTrain > 0, 'live tensors are exported per experiment');

  const sampled = await unary(client, 'sampleSubnet', {
    experimentId: EXP,
    constraint: { kind: ConstraintKind.FLOPS, target: 2_000_000 },
    count: 3,
    purpose: SamplePurpose.EVAL,
    clientId: 'test',
  });
  assert.equal(sampled.subnets.length, 3);
  for (const s of sampled.subnets) {
    assert.match(s.id, /^sn-[0-9a-f]{16}$/);
    assert.ok((s.cost?.flops ?? Infinity) <= 2_000_000, 'each subnet fits the constraint');
  }
  const subnet = sampled.subnets[0]!;

  const reported = await unary(client, 'reportMetric', { experimentId: EXP, subnetId: subnet.id, metrics: { accuracy: 0.5 }, clientId: 'test' });
  assert.equal(reported.sequence, 1n);
  const listed = await unary(client, 'listMetrics', { experimentId: EXP });
  assert.equal(listed.records.length, 1);
  assert.equal(listed.records[0]?.subnetId, subnet.id);
  assert.equal(listed.records[0]?.values.accuracy, 0.5);

  const step = await unary(client, 'trainStep', { experimentId: EXP, input: { case: 'steps', value: 1 } });
  assert.equal(step.step, 7n);
  assert.ok(step.subnets.length >= 1, 'TrainStep names the subnets it trained');
  assert.equal(await liveTensors(), tensorsAfterTrain, 'no tensor leak across TrainStep');

  // export (collectExport checks one header first, in-order chunks, sizes and SHA-256) and load with stock TensorFlow.js
  const exported = await collectExport(
    client.exportSubnet(create(ExportSubnetRequestSchema, { experimentId: EXP, target: { case: 'subnetId', value: subnet.id }, chunkSize: 4096 })) as AsyncIterable<ExportSubnetResponse>,
  );
  assert.equal(exported.header.subnet?.id, subnet.id);
  const files = new Map([...exported.files].map(([path, data]) => [path, Buffer.from(data)]));
  assert.deepEqual([...files.keys()].sort(), ['arch.json', 'model.json', 'weights.bin']);
  const modelJson = JSON.parse((files.get('model.json') as Buffer).toString('utf8')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const weights = files.get('weights.bin') as Buffer;
  await tf.setBackend('cpu');
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
  const res = subnet.architecture?.resolution ?? 28;
  const y = tf.tidy(() => model.predict(tf.zeros([2, res, res, 1])) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 10]);
  y.dispose();
  model.dispose();
  assert.equal(await liveTensors(), tensorsAfterTrain, 'no tensor leak across ExportSubnet');

  const ev1 = await unary(client, 'evaluate', { experimentId: EXP, target: { case: 'subnetId', value: subnet.id }, maxExamples: 32 });
  assert.equal(ev1.subnet?.id, subnet.id);
  assert.equal(ev1.examples, 32);
  assert.ok(ev1.accuracy >= 0 && ev1.accuracy <= 1);
  assert.ok(Number.isFinite(ev1.loss));
  const ev2 = await unary(client, 'evaluate', { experimentId: EXP, target: { case: 'subnetId', value: subnet.id }, maxExamples: 32 });
  assert.equal(ev2.accuracy, ev1.accuracy, 'evaluation is deterministic');
  assert.equal(ev2.loss, ev1.loss);
  assert.equal(await liveTensors(), tensorsAfterTrain, 'no tensor leak across Evaluate');

  const byConstraint = await unary(client, 'evaluate', {
    experimentId: EXP,
    target: { case: 'constraint', value: { kind: ConstraintKind.PARAMS, target: 100_000 } },
    maxExamples: 16,
    skipBnRecalibration: true,
  });
  assert.ok((byConstraint.subnet?.cost?.params ?? Infinity) <= 100_000);

  const got = await unary(client, 'getExperiment', { experimentId: EXP });
  assert.equal(got.experiment?.step, 7n);
  assert.equal(got.experiment?.checkpointStep, 7n);
  assert.equal(got.experiment?.metricCount, 1n);
  assert.equal(got.experiment?.state, ExperimentState.READY);
  assert.ok(got.experiment?.backend, 'the backend in use is reported');

  const strategies = await unary(client, 'listStrategies', {});
  assert.ok(strategies.strategies.some((s) => s.id === 'uniform' && s.origin === 'builtin'));
  const list = await unary(client, 'listExperiments', {});
  assert.deepEqual(list.experiments.map((e) => e.id), [EXP]);

  const rpcCount = await scrape(server.metricsPort as number, 'supernetd_rpc_total', { method: 'SampleSubnet', code: 'OK' });
  assert.ok((rpcCount ?? 0) >= 2, 'RPC counts by method and code are exported');

  await unary(client, 'deleteExperiment', { experimentId: EXP });
  assert.equal((await unary(client, 'listExperiments', {})).experiments.length, 0);
});
