// Every RPC's bad inputs: precise status code, ErrorReason and message; the server keeps serving and
// nothing stored is lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConstraintKind, ElementType, ExperimentState, encodeTensor } from '@supernetd/api';
import type { Tensor } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connect, connectClient, tempDir, tinySpec, unary } from './helpers.ts';
import { SupernetdError } from '@supernetd/client';
import type { SupernetdClient } from '@supernetd/client';

const S = grpc.status;
let server: RunningServer;
let client: SupernetdClient;
const data = tempDir();
const EXP = 'errs';
let subnetId = '';

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', maxMessageBytes: 256 * 1024, maxTensorElements: 20_000 });
  client = connectClient(server.address);
  await client.createExperiment({ experimentId: EXP, spec: tinySpec() });
  const s = await client.sampleSubnet({ experimentId: EXP });
  subnetId = s[0]!.id;
  await client.reportMetric({ experimentId: EXP, subnetId, metrics: { accuracy: 0.25 } });
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
/** A Train stream read to its end, or an export collected; rejects with the call's SupernetdError. */
async function stream(kind: 'train' | 'export', req: object): Promise<void> {
  if (kind === 'export') {
    await client.exportSubnet(req as never);
    return;
  }
  for await (const _ of client.train(req as never)) {
    // each progress event is dropped: only how the stream ends matters here
  }
}

test('unknown experiment: NOT_FOUND / EXPERIMENT_NOT_FOUND on every experiment RPC', async () => {
  const nf = (p: Promise<unknown>) => assertStatus(p, S.NOT_FOUND, 'EXPERIMENT_NOT_FOUND', /experiment 'nope' not found/);
  const experimentId = 'nope';
  await nf(client.getExperiment(experimentId));
  await nf(client.deleteExperiment(experimentId));
  await nf(client.sampleSubnet({ experimentId }));
  await nf(client.reportMetric({ experimentId, subnetId, metrics: { accuracy: 1 } }));
  await nf(client.listMetrics({ experimentId }));
  await nf(client.trainStep({ experimentId, input: { case: 'steps', value: 1 } }));
  await nf(client.evaluate({ experimentId, target: { case: 'subnetId', value: subnetId } }));
  await nf(stream('train', { experimentId, steps: 1 }));
  await nf(stream('export', { experimentId, target: { case: 'subnetId', value: subnetId } }));
});

test('CreateExperiment rejects bad specs with the reason that names the part', async () => {
  const create = (experimentId: string, spec: object) => client.createExperiment({ experimentId, spec: spec as never });
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
  await assertStatus(client.createExperiment({ experimentId: 'g' }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /spec is required/);
  const listed = await client.listExperiments();
  assert.deepEqual(listed.map((e) => e.id), [EXP], 'no failed creation leaves anything behind');
  // a page size or token of ListExperiments is sent on the bare stub: the client's listExperiments sets neither
  const stub = connect(server.address);
  await assertStatus(unary(stub, 'listExperiments', { pageSize: -1 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /page_size must be greater than or equal to 0, got -1 \[int32\.gte\]/);
  await assertStatus(unary(stub, 'listExperiments', { pageToken: '!!' }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /page_token/);
  stub.close();
  await assertStatus(client.listMetrics({ experimentId: EXP, limit: -5 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /limit must not be negative/);
});

test('TrainStep inline batches: malformed tensors, NaN, shape mismatch, limits', async () => {
  const ts = (batch: { images?: Tensor; labels?: Tensor }) => client.trainStep({ experimentId: EXP, input: { case: 'batch', value: batch } });
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
  await assertStatus(client.trainStep({ experimentId: EXP }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /steps must be positive/);
  const before = (await client.getExperiment(EXP)).step ?? 0n;
  const ok = await ts({ images: images(4), labels: labels(4) });
  assert.equal(ok.step, before + 1n, 'a valid inline batch trains one step');
});

test('SampleSubnet, ReportMetric, Evaluate, ExportSubnet and Train reject bad arguments', async () => {
  const sample = (req: object) => client.sampleSubnet({ experimentId: EXP, ...req });
  await assertStatus(sample({ count: 65 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /count must be greater than or equal to 0 and less than or equal to 64, got 65/);
  await assertStatus(sample({ constraint: { target: 1e6 } }), S.INVALID_ARGUMENT, 'INVALID_CONSTRAINT', /constraint\.kind must not be in list \[0\], got 0/);
  await assertStatus(sample({ constraint: { kind: ConstraintKind.FLOPS, target: -1 } }), S.INVALID_ARGUMENT, 'INVALID_CONSTRAINT', /constraint\.target must be greater than 0, got -1/);
  await assertStatus(sample({ constraint: { kind: ConstraintKind.FLOPS, target: 10 } }), S.FAILED_PRECONDITION, 'CONSTRAINT_UNSATISFIABLE', undefined);

  const report = (req: object) => client.reportMetric({ experimentId: EXP, subnetId, ...req });
  await assertStatus(report({ subnetId: 'sn-0000000000000000', metrics: { accuracy: 1 } }), S.NOT_FOUND, 'SUBNET_NOT_FOUND', /sn-0000000000000000/);
  await assertStatus(report({ metrics: { accuracy: Number.NaN } }), S.INVALID_ARGUMENT, 'NON_FINITE_VALUE', /metrics\["accuracy"\] must be finite, got NaN/);
  await assertStatus(report({ metrics: { loss: Number.POSITIVE_INFINITY } }), S.INVALID_ARGUMENT, 'NON_FINITE_VALUE', /metrics\["loss"\] must be finite, got Infinity/);
  await assertStatus(report({ metrics: {} }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /at least one value/);

  const evaluate = (req: object) => client.evaluate({ experimentId: EXP, ...req });
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
  const abort = new AbortController();
  let first!: () => void;
  const firstEvent = new Promise<void>((resolve) => (first = resolve));
  const ended = (async (): Promise<grpc.status> => {
    try {
      for await (const _ of client.train({ experimentId: EXP, steps: 40, progressInterval: 1 }, { signal: abort.signal })) first();
      return S.OK;
    } catch (e) {
      return SupernetdError.from(e).code;
    }
  })();
  await firstEvent;
  await assertStatus(
    client.trainStep({ experimentId: EXP, input: { case: 'steps', value: 1 } }),
    S.ABORTED,
    'TRAINING_IN_PROGRESS',
    /already training; the limit max_concurrent_training_per_experiment is 1/,
  );
  abort.abort();
  assert.equal(await ended, S.CANCELLED);
  let exp = await client.getExperiment(EXP);
  while (exp?.state === ExperimentState.TRAINING) {
    await new Promise((r) => setTimeout(r, 50));
    exp = await client.getExperiment(EXP);
  }
  assert.ok((exp?.step ?? 0n) < 40n, 'training stopped early');
  assert.equal(exp?.checkpointStep, exp?.step, 'a checkpoint was written on cancel');
  // the lane is free again
  const after = await client.trainStep({ experimentId: EXP, input: { case: 'steps', value: 1 } });
  assert.equal(after.step, (exp?.step ?? 0n) + 1n);
});

test('a training call past its deadline stops after a step, keeps its steps and checkpoints', async () => {
  const before = (await client.getExperiment(EXP)).step ?? 0n;
  await assertStatus(client.trainStep({ experimentId: EXP, input: { case: 'steps', value: 200 } }, { timeoutMs: 1500 }), S.DEADLINE_EXCEEDED, undefined, undefined);
  let exp = await client.getExperiment(EXP);
  while (exp?.state === ExperimentState.TRAINING) {
    await new Promise((r) => setTimeout(r, 50));
    exp = await client.getExperiment(EXP);
  }
  assert.ok((exp?.step ?? 0n) < before + 200n, 'stopped early');
  assert.equal(exp?.checkpointStep, exp?.step, 'checkpointed at the step it stopped at');
});

test('after all the failures the server still serves and nothing stored was lost', async () => {
  const metrics = await client.listMetrics({ experimentId: EXP });
  assert.equal(metrics.length, 1);
  assert.equal(metrics[0]?.values.accuracy, 0.25);
  const exp = await client.getExperiment(EXP);
  assert.equal(exp?.state, ExperimentState.READY);
  assert.equal(exp?.metricCount, 1n);
});
