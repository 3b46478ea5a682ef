// Idle eviction of experiment workers over a real socket: a worker idle for workerIdleSeconds is
// checkpointed and stopped, reads keep answering, the next call resumes it from that checkpoint with
// the same weights, a running Train stream is never evicted, and 0 turns eviction off.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { ExperimentState, TrainRequestSchema } from '@supernetd/api';
import type { TrainResponse } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { connect, scrape, tempDir, tinySpec, unary } from './helpers.ts';
import type { SupernetClient } from './helpers.ts';

const IDLE_SECONDS = 1;
let server: RunningServer;
let client: SupernetClient;
const data = tempDir();

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'warn', metricsPort: 0, backend: 'wasm', workerIdleSeconds: IDLE_SECONDS });
  client = connect(server.address);
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

function spec() {
  const s = tinySpec();
  return { ...s, training: { ...s.training, totalSteps: 1000n } };
}

/** The unlabelled `supernetd_live_workers` gauge. */
async function liveWorkers(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('supernetd_live_workers '));
  assert.ok(line, 'supernetd_live_workers is exported');
  return Number(line.split(' ').at(-1));
}

async function evictions(metricsPort: number, experiment: string): Promise<number> {
  return (await scrape(metricsPort, 'supernetd_worker_evictions_total', { experiment })) ?? 0;
}

/** Polls until the experiment's eviction count reaches `count` and no worker is live. */
async function waitForEviction(experiment: string, count: number): Promise<void> {
  const port = server.metricsPort as number;
  for (;;) {
    if ((await evictions(port, experiment)) >= count && (await liveWorkers(port)) === 0) return;
    await sleep(100);
  }
}

/** Runs a Train stream to its end; each event with the time it arrived. */
function trainStream(experimentId: string, steps: number, onEvent?: (e: TrainResponse) => void): Promise<{ event: TrainResponse; at: number }[]> {
  const events: { event: TrainResponse; at: number }[] = [];
  return new Promise((resolve, reject) => {
    const stream = client.train(create(TrainRequestSchema, { experimentId, steps, progressInterval: 1 }));
    stream.on('data', (e: TrainResponse) => {
      events.push({ event: e, at: performance.now() });
      onEvent?.(e);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(events));
  });
}

test('an idle worker is checkpointed and stopped; reads still answer and the next call resumes it', async () => {
  const EXP = 'evict';
  const port = server.metricsPort as number;
  await unary(client, 'createExperiment', { experimentId: EXP, spec: spec() });
  const trained = await unary(client, 'trainStep', { experimentId: EXP, input: { case: 'steps', value: 3 } });
  assert.equal(trained.step, 3n);
  const sampled = await unary(client, 'sampleSubnet', { experimentId: EXP, count: 1 });
  const subnet = sampled.subnets[0]!;
  const reported = await unary(client, 'reportMetric', { experimentId: EXP, subnetId: subnet.id, metrics: { accuracy: 0.25 }, clientId: 't' });
  assert.equal(reported.sequence, 1n);
  const evalReq = { experimentId: EXP, target: { case: 'subnetId' as const, value: subnet.id }, maxExamples: 32, skipBnRecalibration: true };
  const before = await unary(client, 'evaluate', evalReq);

  await waitForEviction(EXP, 1);

  const got = await unary(client, 'getExperiment', { experimentId: EXP });
  assert.equal(got.experiment?.state, ExperimentState.READY, 'an evicted experiment stays READY');
  assert.equal(got.experiment?.step, 3n);
  assert.equal(got.experiment?.checkpointStep, 3n, 'the eviction wrote a checkpoint at the last step');
  const listed = await unary(client, 'listExperiments', {});
  assert.ok(listed.experiments.some((e) => e.id === EXP), 'an evicted experiment stays listed');
  const again = await unary(client, 'sampleSubnet', { experimentId: EXP, count: 2 });
  assert.equal(again.subnets.length, 2, 'SampleSubnet answers from the replica without a worker');
  const metrics = await unary(client, 'listMetrics', { experimentId: EXP });
  assert.deepEqual(metrics.records.map((r) => [r.subnetId, r.values.accuracy]), [[subnet.id, 0.25]]);
  assert.equal(await liveWorkers(port), 0, 'reads do not start the worker');

  const afterRestart = await unary(client, 'evaluate', evalReq);
  assert.equal(afterRestart.accuracy, before.accuracy, 'the resumed worker has the same weights');
  assert.equal(afterRestart.loss, before.loss);
  assert.equal(await liveWorkers(port), 1);

  await waitForEviction(EXP, 2);
  const resumed = await unary(client, 'trainStep', { experimentId: EXP, input: { case: 'steps', value: 1 } });
  assert.equal(resumed.step, 4n, 'training resumes at the evicted step count and continues');
  const view = await unary(client, 'getExperiment', { experimentId: EXP });
  assert.equal(view.experiment?.step, 4n);
  assert.equal(view.experiment?.metricCount, 1n);
});

test('a Train stream longer than the idle time is never evicted; the worker goes once it is idle', async (t) => {
  const EXP = 'evict-stream';
  const port = server.metricsPort as number;
  await unary(client, 'createExperiment', { experimentId: EXP, spec: spec() });
  // enough steps for the stream to outlast the idle time several times over on this machine
  // calibration: the time per step of a short stream, to size one that outlasts the idle time
  const warm = await trainStream(EXP, 6);
  const perStepMs = Math.max(1, (warm.at(-1)!.at - warm[1]!.at) / Math.max(1, warm.length - 2));
  const steps = Math.min(900, Math.ceil((8 * IDLE_SECONDS * 1000) / perStepMs) + 2);
  const before = await evictions(port, EXP);

  const checks: Promise<void>[] = [];
  const events = await trainStream(EXP, steps, (e) => {
    if (!e.done) {
      checks.push(
        (async () => {
          assert.equal(await evictions(port, EXP), before, 'no eviction while Train streams');
          assert.equal(await liveWorkers(port), 1);
        })(),
      );
    }
  });
  t.diagnostic(`Train stream of ${steps} steps took ${Math.round(events.at(-1)!.at - events[0]!.at)} ms (idle time ${IDLE_SECONDS * 1000} ms)`);
  await Promise.all(checks);
  const last = events.at(-1)!.event;
  assert.equal(last.done, true);
  assert.equal(last.step, BigInt(6 + steps), 'the stream ran every step');

  await waitForEviction(EXP, before + 1);
  const view = await unary(client, 'getExperiment', { experimentId: EXP });
  assert.equal(view.experiment?.checkpointStep, BigInt(6 + steps));
});

test('workerIdleSeconds 0 never evicts', async () => {
  const d = tempDir();
  const s = await startServer({ port: 0, dataDir: d.dir, logLevel: 'warn', metricsPort: 0, backend: 'wasm', workerIdleSeconds: 0 });
  const c = connect(s.address);
  try {
    await unary(c, 'createExperiment', { experimentId: 'keep', spec: spec() });
    await unary(c, 'trainStep', { experimentId: 'keep', input: { case: 'steps', value: 1 } });
    // several times the idle time of the other server, which does evict in that time
    await sleep(3000);
    assert.equal(await liveWorkers(s.metricsPort as number), 1);
    assert.equal(await scrape(s.metricsPort as number, 'supernetd_worker_evictions_total', { experiment: 'keep' }), undefined);
  } finally {
    c.close();
    await s.stop();
    d.remove();
  }
});
