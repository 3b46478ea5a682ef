// Faults: the server container is SIGKILLed in the middle of a Train stream and a new container
// starts on the same /data volume. Every experiment is listed again, every metric reported before
// the kill is there, training resumes from the last checkpoint and continues, and an export made
// after the restart loads with stock tf.loadLayersModel. Then SIGTERM (`docker stop`) in the
// middle of a Train stream: the server checkpoints, exits 0 within Docker's 10 s grace period,
// and the next start resumes exactly where the stream left off.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadExportedModel } from '@supernetd/engine';
import type { MetricRecord, SupernetdClient, TrainResponse } from '@supernetd/client';
import {
  connectClient,
  followTrain,
  looseFlopsConstraint,
  makeDataDir,
  removeDataDir,
  smallSpec,
  SupernetdContainer,
  useCpuBackend,
  waitForReady,
} from '../src/index.ts';

function describe(e: TrainResponse): string {
  return `step ${e.step}, checkpoint ${e.checkpointStep}, done ${e.done}, losses ${JSON.stringify(e.losses)}`;
}

const EXPERIMENTS = ['crash-train', 'crash-idle'] as const;
let dataDir: string;
const started: SupernetdContainer[] = [];

async function startServer(): Promise<{ server: SupernetdContainer; client: SupernetdClient }> {
  const server = await SupernetdContainer.start({ dataDir });
  started.push(server);
  const client = connectClient(server.address);
  await waitForReady(client);
  return { server, client };
}

before(async () => {
  dataDir = await makeDataDir('crash');
});

after(async () => {
  for (const s of started) await s.remove();
  await removeDataDir(dataDir);
});

/** Metrics reported before the kill, as ListMetrics must return them afterwards. */
const reported = new Map<string, { sequence: bigint; subnetId: string; values: Record<string, number> }[]>();
/** The checkpoint the killed server had reported last, and the step it had reached. */
let killedAt = { checkpointStep: 0n, step: 0n };

test('SIGKILL in the middle of a Train stream', async () => {
  const { server, client } = await startServer();
  try {
    for (const id of EXPERIMENTS) {
      await client.createExperiment({ experimentId: id, spec: smallSpec({ name: id, checkpointInterval: 3 }) });
      const subnets = await client.sampleSubnet({ experimentId: id, constraint: looseFlopsConstraint(), count: 4, clientId: 'crash-test' });
      const list: { sequence: bigint; subnetId: string; values: Record<string, number> }[] = [];
      for (const [i, subnet] of subnets.entries()) {
        const values = { accuracy: 0.1 + i / 10, loss: 2 - i / 10 };
        const sequence = await client.reportMetric({ experimentId: id, subnetId: subnet.id, metrics: values, clientId: 'crash-test' });
        list.push({ sequence, subnetId: subnet.id, values });
      }
      reported.set(id, list);
    }

    // A long Train call; kill once two checkpoints are on disk and the stream is past them.
    const stream = client.train({ experimentId: 'crash-train', steps: 100_000, progressInterval: 1 });
    const follow = followTrain(stream, (e) => e.checkpointStep >= 6n && e.step > e.checkpointStep);
    const log = await follow.reached;
    assert.equal(log.error, undefined, `Train failed before the kill: ${log.error?.message}`);
    const last = log.events.at(-1)!;
    assert.ok(last.checkpointStep >= 6n, `Train ended before the kill point: ${describe(last)}`);

    await server.signal('SIGKILL');
    killedAt = { checkpointStep: last.checkpointStep, step: last.step };
    const ended = await follow.done;
    assert.ok(ended.error, 'the Train stream ends with an error when its server is killed');
    assert.equal(await server.waitForExit(), 137, 'killed by SIGKILL');
    console.log(`# killed at step ${killedAt.step}, checkpoint ${killedAt.checkpointStep}; stream error: ${ended.error.code} ${ended.error.details}`);
  } finally {
    client.close();
  }
});

test('a new container on the same volume lists every experiment and every metric, and resumes training', async () => {
  assert.ok(killedAt.checkpointStep > 0n, 'the kill test ran');
  const { client } = await startServer();
  try {
    const experiments = await client.listExperiments();
    assert.deepEqual(
      experiments.map((e) => e.id).filter((id) => (EXPERIMENTS as readonly string[]).includes(id)).sort(),
      [...EXPERIMENTS].sort(),
    );

    for (const id of EXPERIMENTS) {
      const records = await client.listMetrics({ experimentId: id });
      const bySequence = new Map<bigint, MetricRecord>(records.map((r) => [r.sequence, r]));
      for (const m of reported.get(id)!) {
        const r = bySequence.get(m.sequence);
        assert.ok(r, `${id}: metric ${m.sequence} survived the kill`);
        assert.equal(r.subnetId, m.subnetId);
        assert.deepEqual({ ...r.values }, m.values);
      }
    }

    const before = await client.getExperiment('crash-train');
    assert.ok(before.checkpointStep >= killedAt.checkpointStep, `checkpoint ${before.checkpointStep} >= ${killedAt.checkpointStep}`);
    assert.ok(before.step >= killedAt.checkpointStep, `resumed at step ${before.step} >= checkpoint ${killedAt.checkpointStep}`);
    assert.ok(before.step <= killedAt.step, `resumed at step ${before.step} <= step reached before the kill ${killedAt.step}`);

    const log = await followTrain(client.train({ experimentId: 'crash-train', steps: 3, progressInterval: 1 }), () => false).done;
    assert.equal(log.error, undefined, `Train after the restart: ${log.error?.message}`);
    const last = log.events.at(-1)!;
    assert.equal(last.done, true);
    assert.equal(last.step, before.step + 3n, 'training continues from the resumed step');
    for (const e of log.events) for (const v of Object.values(e.losses)) assert.ok(Number.isFinite(v), 'finite losses');
    console.log(`# resumed at step ${before.step} (checkpoint ${before.checkpointStep}), trained on to ${last.step}`);

    const subnets = await client.sampleSubnet({ experimentId: 'crash-train', constraint: looseFlopsConstraint() });
    const exported = await client.exportSubnet({ experimentId: 'crash-train', target: { case: 'subnetId', value: subnets[0]!.id } });
    await useCpuBackend();
    const model = await loadExportedModel(exported.files);
    const tensorsBefore = tf.memory().numTensors;
    const inputShape = model.inputs[0]!.shape.map((d) => d ?? 1);
    const y = tf.tidy(() => model.predict(tf.zeros(inputShape)) as tf.Tensor);
    assert.deepEqual(y.shape, [1, 10]);
    const probs = await y.data();
    assert.ok(probs.every(Number.isFinite), 'finite outputs');
    y.dispose();
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors leak from prediction');
    model.dispose();
  } finally {
    client.close();
  }
});

test('docker stop (SIGTERM) in the middle of a Train stream: checkpoint, exit 0 within the grace period, nothing lost', async () => {
  const { server, client } = await startServer();
  let lastStep: bigint;
  try {
    const follow = followTrain(client.train({ experimentId: 'crash-train', steps: 100_000, progressInterval: 1 }), (_e, log) => log.events.length >= 3);
    const log = await follow.reached;
    assert.equal(log.error, undefined, `Train failed: ${log.error?.message}`);
    const t0 = Date.now();
    // `docker stop` sends the image's STOPSIGNAL (SIGTERM) and SIGKILLs after 10 s: exit code 0
    // means the server checkpointed and exited by itself within that grace period.
    const code = await server.stop();
    const seconds = (Date.now() - t0) / 1000;
    const ended = await follow.done;
    lastStep = ended.events.at(-1)!.step;
    assert.equal(code, 0, `exit code after docker stop (${seconds.toFixed(1)} s):\n${await server.logs()}`);
    console.log(`# docker stop took ${seconds.toFixed(1)} s at step ${lastStep}; stream: ${ended.error ? `${ended.error.code} ${ended.error.details}` : 'ended OK'}`);
  } finally {
    client.close();
  }

  const next = await startServer();
  try {
    const exp = await next.client.getExperiment('crash-train');
    assert.ok(exp.step >= lastStep, `step ${exp.step} after the restart >= ${lastStep}, the last step streamed before SIGTERM`);
    assert.equal(exp.checkpointStep, exp.step, 'the shutdown checkpoint holds every step taken');
  } finally {
    next.client.close();
  }
});
