// Every RPC's bad inputs: precise status code, ErrorReason and message; the server keeps serving and
// nothing stored is lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { ConstraintKind, ElementType, ExperimentState, ExportSubnetRequestSchema, TrainRequestSchema, encodeTensor } from '@supernetd/api';
import type { Tensor } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connect, tempDir, tinySpec, unary } from './helpers.ts';
import type { SupernetClient } from './helpers.ts';

const S = grpc.status;
let server: RunningServer;
let client: SupernetClient;
const data = tempDir();
const EXP = 'errs';
let subnetId = '';

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', maxMessageBytes: 256 * 1024, maxTensorElements: 20_000 });
  client = connect(server.address);
  await unary(client, 'createExperiment', { experimentId: EXP, spec: tinySpec() });
  const s = await unary(client, 'sampleSubnet', { experimentId: EXP });
  subnetId = s.subnets[0]!.id;
  await unary(client, 'reportMetric', { experimentId: EXP, subnetId, metrics: { accuracy: 0.25 } });
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

function images(n: number, fill = 0.5, size = 28): Tensor {
  return encodeTensor(new Float32Array(n * size * size).fill(fill), [n, size, size, 1]);
}
function labels(n: number): Tensor {
  return encodeTensor(new Int32Array(n).map((_, i) => i % 10), [n]);
}
function stream(kind: 'train' | 'export', req: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const call =
      kind === 'train'
        ? client.train(create(TrainRequestSchema, req as never))
        : client.exportSubnet(create(ExportSubnetRequestSchema, req as never));
    call.on('data', () => undefined);
    call.on('error', reject);
    call.on('end', resolve);
  });
}

test('unknown experiment: NOT_FOUND / EXPERIMENT_NOT_FOUND on every experiment RPC', async () => {
  const nf = (p: Promise<unknown>) => assertStatus(p, S.NOT_FOUND, 'EXPERIMENT_NOT_FOUND', /experiment 'nope' not found/);
  const experimentId = 'nope';
  await nf(unary(client, 'getExperiment', { experimentId }));
  await nf(unary(client, 'deleteExperiment', { experimentId }));
  await nf(unary(client, 'sampleSubnet', { experimentId }));
  await nf(unary(client, 'reportMetric', { experimentId, subnetId, metrics: { accuracy: 1 } }));
  await nf(unary(client, 'listMetrics', { experimentId }));
  await nf(unary(client, 'trainStep', { experimentId, input: { case: 'steps', value: 1 } }));
  await nf(unary(client, 'evaluate', { experimentId, target: { case: 'subnetId', value: subnetId } }));
  await nf(stream('train', { experimentId, steps: 1 }));
  await nf(stream('export', { experimentId, target: { case: 'subnetId', value: subnetId } }));
});

test('CreateExperiment rejects bad specs with the reason that names the part', async () => {
  const create = (experimentId: string, spec: object) => unary(client, 'createExperiment', { experimentId, spec: spec as never });
  await assertStatus(create('a', tinySpec({ strategy: 'nonesuch' })), S.INVALID_ARGUMENT, 'UNKNOWN_STRATEGY', /unknown strategy 'nonesuch'; registered strategies: .*uniform/);
  await assertStatus(create('b', tinySpec({ config: { bogus: 1 } })), S.INVALID_ARGUMENT, 'INVALID_STRATEGY_CONFIG', /bogus/);
  await assertStatus(create('c', { ...tinySpec(), searchSpace: { preset: 'nonesuch' } }), S.INVALID_ARGUMENT, 'INVALID_SEARCH_SPACE', /nonesuch/);
  await assertStatus(
    create('d', { ...tinySpec(), searchSpace: { preset: 'mbv1-small', overrides: { numClasses: -3 } } }),
    S.INVALID_ARGUMENT,
    'INVALID_SEARCH_SPACE',
    /numClasses/,
  );
  const spec = tinySpec();
  await assertStatus(create('e', { ...spec, training: { ...spec.training, dataset: { name: 'imagenet' } } }), S.INVALID_ARGUMENT, 'INVALID_DATASET', /imagenet/);
  await assertStatus(create('f', { ...spec, training: { ...spec.training, batchSize: -1 } }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /batch_size/);
  await assertStatus(create('Bad_Id', spec), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /experiment_id 'Bad_Id'/);
  await assertStatus(create(EXP, spec), S.ALREADY_EXISTS, 'EXPERIMENT_ALREADY_EXISTS', /'errs' already exists/);
  await assertStatus(unary(client, 'createExperiment', { experimentId: 'g' }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /spec is required/);
  const listed = await unary(client, 'listExperiments', {});
  assert.deepEqual(listed.experiments.map((e) => e.id), [EXP], 'no failed creation leaves anything behind');
  await assertStatus(unary(client, 'listExperiments', { pageSize: -1 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /page_size must be greater than or equal to 0, got -1 \[int32\.gte\]/);
  await assertStatus(unary(client, 'listExperiments', { pageToken: '!!' }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /page_token/);
  await assertStatus(unary(client, 'listMetrics', { experimentId: EXP, limit: -5 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /limit must not be negative/);
});

test('TrainStep inline batches: malformed tensors, NaN, shape mismatch, limits', async () => {
  const ts = (batch: { images?: Tensor; labels?: Tensor }) => unary(client, 'trainStep', { experimentId: EXP, input: { case: 'batch', value: batch } });
  const torn = { ...images(2), data: new Uint8Array(10) };
  await assertStatus(ts({ images: torn, labels: labels(2) }), S.INVALID_ARGUMENT, 'INVALID_TENSOR', /batch\.images\.data has 10 bytes; shape \[2, 28, 28, 1\] of float32 needs 6272/);
  await assertStatus(ts({ images: { ...images(2), dtype: ElementType.UNSPECIFIED }, labels: labels(2) }), S.INVALID_ARGUMENT, 'INVALID_TENSOR', /batch\.images\.dtype is unset/);
  await assertStatus(ts({ images: { ...images(2), shape: [2, 0, 28, 1] }, labels: labels(2) }), S.INVALID_ARGUMENT, 'INVALID_TENSOR', /shape\[1\] is 0/);
  await assertStatus(ts({ labels: labels(2) }), S.INVALID_ARGUMENT, 'INVALID_TENSOR', /batch\.images is required/);
  const nan = new Float32Array(2 * 28 * 28).fill(0.1);
  nan[5] = Number.NaN;
  await assertStatus(ts({ images: encodeTensor(nan, [2, 28, 28, 1]), labels: labels(2) }), S.INVALID_ARGUMENT, 'NON_FINITE_VALUE', undefined);
  await assertStatus(ts({ images: images(2, 0.5, 20), labels: labels(2) }), S.INVALID_ARGUMENT, 'SHAPE_MISMATCH', undefined);
  await assertStatus(ts({ images: images(2), labels: labels(3) }), S.INVALID_ARGUMENT, 'SHAPE_MISMATCH', undefined);
  await assertStatus(ts({ images: images(26), labels: labels(26) }), S.RESOURCE_EXHAUSTED, 'LIMIT_EXCEEDED', /20384 elements; the limit max_tensor_elements is 20000/);
  const big = encodeTensor(new Uint8Array(300 * 1024), [300 * 1024]);
  await assertStatus(ts({ images: big, labels: labels(1) }), S.RESOURCE_EXHAUSTED, undefined, /262144/);
  await assertStatus(unary(client, 'trainStep', { experimentId: EXP }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /steps must be positive/);
  const before = (await unary(client, 'getExperiment', { experimentId: EXP })).experiment?.step ?? 0n;
  const ok = await ts({ images: images(4), labels: labels(4) });
  assert.equal(ok.step, before + 1n, 'a valid inline batch trains one step');
});

test('SampleSubnet, ReportMetric, Evaluate, ExportSubnet and Train reject bad arguments', async () => {
  const sample = (req: object) => unary(client, 'sampleSubnet', { experimentId: EXP, ...req });
  await assertStatus(sample({ count: 65 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /count must be greater than or equal to 0 and less than or equal to 64, got 65/);
  await assertStatus(sample({ constraint: { target: 1e6 } }), S.INVALID_ARGUMENT, 'INVALID_CONSTRAINT', /constraint\.kind must not be in list \[0\], got 0/);
  await assertStatus(sample({ constraint: { kind: ConstraintKind.FLOPS, target: -1 } }), S.INVALID_ARGUMENT, 'INVALID_CONSTRAINT', /constraint\.target must be greater than 0, got -1/);
  await assertStatus(sample({ constraint: { kind: ConstraintKind.FLOPS, target: 10 } }), S.FAILED_PRECONDITION, 'CONSTRAINT_UNSATISFIABLE', undefined);

  const report = (req: object) => unary(client, 'reportMetric', { experimentId: EXP, subnetId, ...req });
  await assertStatus(report({ subnetId: 'sn-0000000000000000', metrics: { accuracy: 1 } }), S.NOT_FOUND, 'SUBNET_NOT_FOUND', /sn-0000000000000000/);
  await assertStatus(report({ metrics: { accuracy: Number.NaN } }), S.INVALID_ARGUMENT, 'NON_FINITE_VALUE', /metrics\["accuracy"\] must be finite, got NaN/);
  await assertStatus(report({ metrics: { loss: Number.POSITIVE_INFINITY } }), S.INVALID_ARGUMENT, 'NON_FINITE_VALUE', /metrics\["loss"\] must be finite, got Infinity/);
  await assertStatus(report({ metrics: {} }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /at least one value/);

  const evaluate = (req: object) => unary(client, 'evaluate', { experimentId: EXP, ...req });
  await assertStatus(evaluate({}), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /target is required/);
  await assertStatus(evaluate({ target: { case: 'subnetId', value: 'sn-ffffffffffffffff' } }), S.NOT_FOUND, 'SUBNET_NOT_FOUND', undefined);
  await assertStatus(evaluate({ target: { case: 'architecture', value: { resolution: 28, widths: { nonesuch: 8 } } } }), S.INVALID_ARGUMENT, undefined, undefined);
  await assertStatus(
    evaluate({ target: { case: 'subnetId', value: subnetId }, batch: { images: images(2, 0.5, 20), labels: labels(2) } }),
    S.INVALID_ARGUMENT,
    'SHAPE_MISMATCH',
    undefined,
  );
  await assertStatus(stream('export', { experimentId: EXP, target: { case: 'subnetId', value: subnetId }, chunkSize: 5 * 1024 * 1024 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /chunk_size/);
  await assertStatus(stream('export', { experimentId: EXP }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /target is required/);
  await assertStatus(stream('train', { experimentId: EXP, steps: 0 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /steps must be greater than 0, got 0/);
});

test('a second training call is refused while one runs; cancelling stops after a step and checkpoints', async () => {
  const call = client.train(create(TrainRequestSchema, { experimentId: EXP, steps: 40, progressInterval: 1 }));
  const firstEvent = new Promise<void>((resolve) => call.once('data', () => resolve()));
  const ended = new Promise<grpc.status>((resolve) => {
    call.on('data', () => undefined);
    call.on('error', (e: grpc.ServiceError) => resolve(e.code));
    call.on('end', () => resolve(S.OK));
  });
  await firstEvent;
  await assertStatus(
    unary(client, 'trainStep', { experimentId: EXP, input: { case: 'steps', value: 1 } }),
    S.ABORTED,
    'TRAINING_IN_PROGRESS',
    /already training; the limit max_concurrent_training_per_experiment is 1/,
  );
  call.cancel();
  assert.equal(await ended, S.CANCELLED);
  let exp = (await unary(client, 'getExperiment', { experimentId: EXP })).experiment;
  while (exp?.state === ExperimentState.TRAINING) {
    await new Promise((r) => setTimeout(r, 50));
    exp = (await unary(client, 'getExperiment', { experimentId: EXP })).experiment;
  }
  assert.ok((exp?.step ?? 0n) < 40n, 'training stopped early');
  assert.equal(exp?.checkpointStep, exp?.step, 'a checkpoint was written on cancel');
  // the lane is free again
  const after = await unary(client, 'trainStep', { experimentId: EXP, input: { case: 'steps', value: 1 } });
  assert.equal(after.step, (exp?.step ?? 0n) + 1n);
});

test('a training call past its deadline stops after a step, keeps its steps and checkpoints', async () => {
  const before = (await unary(client, 'getExperiment', { experimentId: EXP })).experiment?.step ?? 0n;
  await assertStatus(unary(client, 'trainStep', { experimentId: EXP, input: { case: 'steps', value: 200 } }, { deadlineMs: 1500 }), S.DEADLINE_EXCEEDED, undefined, undefined);
  let exp = (await unary(client, 'getExperiment', { experimentId: EXP })).experiment;
  while (exp?.state === ExperimentState.TRAINING) {
    await new Promise((r) => setTimeout(r, 50));
    exp = (await unary(client, 'getExperiment', { experimentId: EXP })).experiment;
  }
  assert.ok((exp?.step ?? 0n) < before + 200n, 'stopped early');
  assert.equal(exp?.checkpointStep, exp?.step, 'checkpointed at the step it stopped at');
});

test('after all the failures the server still serves and nothing stored was lost', async () => {
  const metrics = await unary(client, 'listMetrics', { experimentId: EXP });
  assert.equal(metrics.records.length, 1);
  assert.equal(metrics.records[0]?.values.accuracy, 0.25);
  const exp = (await unary(client, 'getExperiment', { experimentId: EXP })).experiment;
  assert.equal(exp?.state, ExperimentState.READY);
  assert.equal(exp?.metricCount, 1n);
});
