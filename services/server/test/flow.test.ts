// The whole search loop over a real socket with a real client, engine and strategy:
// CreateExperiment -> Train (streamed) -> SampleSubnet -> ReportMetric -> ExportSubnet -> Evaluate.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ConstraintKind, ExperimentState, SamplePurpose } from '@supernetd/api';
import type { TrainResponse } from '@supernetd/api';
import { loadExportedModel } from '@supernetd/engine';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { connectClient, scrape, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

let server: RunningServer;
let client: SupernetdClient;
let health: grpc.Client & { check: (req: { service: string }, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void) => void };
const data = tempDir();
const EXP = 'flow';

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'warn', metricsPort: 0, backend: 'wasm' });
  client = connectClient(server.address);
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
  const created = await client.createExperiment({ experimentId: EXP, spec: tinySpec() });
  assert.equal(created?.id, EXP);
  assert.equal(created?.state, ExperimentState.READY);
  assert.equal(created?.spec?.training?.batchSize, 16);
  assert.equal(created?.spec?.training?.checkpointInterval, 50, 'defaults are filled in');

  await t.test('Train streams progress; Health, SampleSubnet and GetExperiment answer while it runs', async () => {
    const events: TrainResponse[] = [];
    const order: string[] = [];
    let probes: Promise<void> | undefined;
    for await (const e of client.train({ experimentId: EXP, steps: 6, progressInterval: 1 })) {
      events.push(e);
      if (e.done) order.push('done');
      probes ??= (async () => {
        await Promise.all([
          new Promise<void>((res, rej) =>
            health.check({ service: 'supernetd.v1.SupernetService' }, (err, r) => (err ? rej(err) : (assert.equal(r?.status, 'SERVING'), order.push('health'), res()))),
          ),
          client.sampleSubnet({ experimentId: EXP, count: 2 }).then((r) => {
            assert.equal(r.length, 2);
            order.push('sample');
          }),
          client.getExperiment(EXP).then((r) => {
            assert.equal(r.state, ExperimentState.TRAINING);
            order.push('get');
          }),
        ]);
      })();
    }
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

  const sampled = await client.sampleSubnet({
    experimentId: EXP,
    constraint: { kind: ConstraintKind.FLOPS, target: 2_000_000 },
    count: 3,
    purpose: SamplePurpose.EVAL,
    clientId: 'test',
  });
  assert.equal(sampled.length, 3);
  for (const s of sampled) {
    assert.match(s.id, /^sn-[0-9a-f]{16}$/);
    assert.ok((s.cost?.flops ?? Infinity) <= 2_000_000, 'each subnet fits the constraint');
  }
  const subnet = sampled[0]!;

  const reported = await client.reportMetric({ experimentId: EXP, subnetId: subnet.id, metrics: { accuracy: 0.5 }, clientId: 'test' });
  assert.equal(reported, 1n);
  const listed = await client.listMetrics({ experimentId: EXP });
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.subnetId, subnet.id);
  assert.equal(listed[0]?.values.accuracy, 0.5);

  const step = await client.trainStep({ experimentId: EXP, input: { case: 'steps', value: 1 } });
  assert.equal(step.step, 7n);
  assert.ok(step.subnets.length >= 1, 'TrainStep names the subnets it trained');
  assert.equal(await liveTensors(), tensorsAfterTrain, 'no tensor leak across TrainStep');

  // export (the client's collector checks one header first, in-order chunks, sizes and SHA-256) and load with stock TensorFlow.js
  const exported = await client.exportSubnet({ experimentId: EXP, target: { case: 'subnetId', value: subnet.id }, chunkSize: 4096 });
  assert.equal(exported.header.subnet?.id, subnet.id);
  const files = new Map([...exported.files].map(([path, data]) => [path, Buffer.from(data)]));
  assert.deepEqual([...files.keys()].sort(), ['arch.json', 'model.json', 'weights.bin']);
  await tf.setBackend('cpu');
  const model = await loadExportedModel(files);
  const res = subnet.architecture?.resolution ?? 28;
  const y = tf.tidy(() => model.predict(tf.zeros([2, res, res, 1])) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 10]);
  y.dispose();
  model.dispose();
  assert.equal(await liveTensors(), tensorsAfterTrain, 'no tensor leak across ExportSubnet');

  const ev1 = await client.evaluate({ experimentId: EXP, target: { case: 'subnetId', value: subnet.id }, maxExamples: 32 });
  assert.equal(ev1.subnet?.id, subnet.id);
  assert.equal(ev1.examples, 32);
  assert.ok(ev1.accuracy >= 0 && ev1.accuracy <= 1);
  assert.ok(Number.isFinite(ev1.loss));
  const ev2 = await client.evaluate({ experimentId: EXP, target: { case: 'subnetId', value: subnet.id }, maxExamples: 32 });
  assert.equal(ev2.accuracy, ev1.accuracy, 'evaluation is deterministic');
  assert.equal(ev2.loss, ev1.loss);
  assert.equal(await liveTensors(), tensorsAfterTrain, 'no tensor leak across Evaluate');

  const byConstraint = await client.evaluate({
    experimentId: EXP,
    target: { case: 'constraint', value: { kind: ConstraintKind.PARAMS, target: 100_000 } },
    maxExamples: 16,
    skipBnRecalibration: true,
  });
  assert.ok((byConstraint.subnet?.cost?.params ?? Infinity) <= 100_000);

  const got = await client.getExperiment(EXP);
  assert.equal(got?.step, 7n);
  assert.equal(got?.checkpointStep, 7n);
  assert.equal(got?.metricCount, 1n);
  assert.equal(got?.state, ExperimentState.READY);
  assert.ok(got?.backend, 'the backend in use is reported');

  const strategies = await client.listStrategies();
  assert.ok(strategies.some((s) => s.id === 'uniform' && s.origin === 'builtin'));
  const list = await client.listExperiments();
  assert.deepEqual(list.map((e) => e.id), [EXP]);

  const rpcCount = await scrape(server.metricsPort as number, 'supernetd_rpc_total', { method: 'SampleSubnet', code: 'OK' });
  assert.ok((rpcCount ?? 0) >= 2, 'RPC counts by method and code are exported');

  await client.deleteExperiment(EXP);
  assert.equal((await client.listExperiments()).length, 0);
});
