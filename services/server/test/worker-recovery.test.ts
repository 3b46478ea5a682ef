// One request must not poison an experiment, over real gRPC: a worker that dies
// or fails with an untyped error is restarted from its last checkpoint and the experiment keeps
// serving; one that keeps failing is shown FAILED with the reason; inline batches are bounded by
// what the engine can hold (TrainStep refused, Evaluate split into chunks). Restarts are counted in
// /metrics.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ExperimentState, encodeTensor } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connectClient, scrape, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

const S = grpc.status;
const FIXTURE = fileURLToPath(new URL('./fixtures/crashing-strategy.ts', import.meta.url));
const BATCH_MEMORY = 64 * 1024 * 1024;
let server: RunningServer;
let client: SupernetdClient;
const data = tempDir();

before(async () => {
  server = await startServer({
    port: 0,
    dataDir: data.dir,
    logLevel: 'silent',
    backend: 'wasm',
    strategies: [FIXTURE],
    maxWorkerRestarts: 2,
    maxBatchMemoryBytes: BATCH_MEMORY,
    metricsPort: 0,
  });
  client = connectClient(server.address);
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

const steps = (experimentId: string, n: number) => client.trainStep({ experimentId, input: { case: 'steps', value: n } }, { timeoutMs: 60_000 });

function crashingSpec(config: Record<string, unknown>) {
  const s = tinySpec({ strategy: 'crashing', config, checkpointInterval: 2 });
  return { ...s, training: { ...s.training, totalSteps: 100n } };
}

for (const how of ['exit', 'throw'] as const) {
  test(`a worker that ${how === 'exit' ? 'dies' : 'fails with an untyped error'} mid-training is restarted from its checkpoint and keeps serving`, async () => {
    const id = `crash-${how}`;
    const marker = path.join(data.dir, `${id}.marker`);
    await client.createExperiment({ experimentId: id, spec: crashingSpec({ crashAtStep: 3, how, marker }) });
    assert.equal((await steps(id, 2)).step, 2n);

    // the failing call gets a retryable status naming the checkpoint, never INTERNAL
    await assertStatus(steps(id, 3), S.UNAVAILABLE, 'EXPERIMENT_FAILED', /restarted from its last checkpoint \(step 2\)/);

    // the next calls run on the restarted worker, from step 2
    const again = await steps(id, 2);
    assert.equal(again.step, 4n, 'training resumed from the checkpoint at step 2');
    const view = await client.getExperiment(id);
    assert.equal(view?.state, ExperimentState.READY);
    assert.equal(view?.error, '');
    const sampled = await client.sampleSubnet({ experimentId: id });
    const evaluated = await client.evaluate({
      experimentId: id,
      target: { case: 'subnetId', value: sampled[0]!.id },
      maxExamples: 16,
      skipBnRecalibration: true,
    });
    assert.equal(evaluated.examples, 16);
    assert.equal(await scrape(server.metricsPort!, 'supernetd_worker_restarts_total', { experiment: id }), 1, 'one restart counted');
  });
}

test('a worker that fails again and again is marked FAILED with the reason, and can still be deleted', async () => {
  const id = 'crash-always';
  await client.createExperiment({ experimentId: id, spec: crashingSpec({ crashAtStep: 1, how: 'throw', always: true }) });
  // maxWorkerRestarts 2: two failures are restarted, the third marks the experiment FAILED
  await assertStatus(steps(id, 2), S.UNAVAILABLE, 'EXPERIMENT_FAILED', /restarted/);
  await assertStatus(steps(id, 2), S.UNAVAILABLE, 'EXPERIMENT_FAILED', /restarted/);
  await assertStatus(steps(id, 2), S.FAILED_PRECONDITION, 'EXPERIMENT_FAILED', /failed 3 times in a row.*trainStep failed at step 1/);
  await assertStatus(steps(id, 1), S.FAILED_PRECONDITION, 'EXPERIMENT_FAILED', /failed 3 times/);
  // the first two failures were replaced by running workers; the third was not
  assert.equal(await scrape(server.metricsPort!, 'supernetd_worker_restarts_total', { experiment: id }), 2);

  const got = await client.getExperiment(id);
  assert.equal(got?.state, ExperimentState.FAILED);
  assert.match(got?.error ?? '', /failed 3 times in a row/);
  assert.doesNotMatch(got?.error ?? '', new RegExp(data.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no server path in the reason');
  const listed = await client.listExperiments();
  assert.equal(listed.find((e) => e.id === id)?.state, ExperimentState.FAILED);
  await client.deleteExperiment(id);
  await assertStatus(client.getExperiment(id), S.NOT_FOUND, 'EXPERIMENT_NOT_FOUND');
});

test('inline batches are bounded by the engine memory budget: TrainStep refuses, Evaluate splits', async () => {
  const id = 'big-batch';
  await client.createExperiment({ experimentId: id, spec: tinySpec() });
  const batch = (n: number) => ({
    images: encodeTensor(new Uint8Array(n * 28 * 28).fill(128), [n, 28, 28, 1]),
    labels: encodeTensor(Uint8Array.from({ length: n }, (_, i) => i % 10), [n]),
  });
  // mbv1-small holds ~86k activations per image: 64 MiB fits 64 images of a training step
  await assertStatus(
    client.trainStep({ experimentId: id, input: { case: 'batch', value: batch(1000) } }),
    S.RESOURCE_EXHAUSTED,
    'LIMIT_EXCEEDED',
    /1000 images.*at most 64 images.*maxBatchMemoryBytes \(67108864\)/,
  );
  assert.equal((await client.trainStep({ experimentId: id, input: { case: 'batch', value: batch(64) } })).step, 1n);

  // 16,384 images in one forward pass would need ~5.6 GB, past the wasm heap; in chunks it runs
  const sampled = await client.sampleSubnet({ experimentId: id });
  const res = await client.evaluate({ experimentId: id, target: { case: 'subnetId', value: sampled[0]!.id }, batch: batch(16_384), skipBnRecalibration: true }, { timeoutMs: 300_000 });
  assert.equal(res.examples, 16_384);
  assert.ok(Number.isFinite(res.loss));
  // and the experiment keeps serving
  assert.equal((await steps(id, 1)).step, 2n);
  const view = await client.getExperiment(id);
  assert.equal(view?.state, ExperimentState.READY);
});
