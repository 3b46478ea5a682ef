// The real CLI as a child process: SIGKILL loses nothing acknowledged (experiment, metrics, weights
// from the last checkpoint come back), SIGTERM checkpoints and exits 0.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ExperimentState } from '@supernetd/api';
import { connect, spawnCliServer as spawnServer, tempDir, tinySpec, unary } from './helpers.ts';

const data = tempDir();
after(() => data.remove());

test('SIGKILL: the experiment, its metrics and its weights at the last checkpoint survive', async () => {
  const first = await spawnServer(data.dir);
  let client = connect(first.address);
  await unary(client, 'createExperiment', { experimentId: 'crash', spec: tinySpec({ checkpointInterval: 2 }) });
  const [subnet] = (await unary(client, 'sampleSubnet', { experimentId: 'crash' })).subnets;
  assert.ok(subnet);
  const rep = await unary(client, 'reportMetric', { experimentId: 'crash', subnetId: subnet.id, metrics: { accuracy: 0.75, latency_ms: 3 }, clientId: 'c1' });
  assert.equal(rep.sequence, 1n);
  const trained = await unary(client, 'trainStep', { experimentId: 'crash', input: { case: 'steps', value: 2 } });
  assert.equal(trained.step, 2n);
  // reported after the checkpoint: only the metric log has it, and it must survive too
  await unary(client, 'reportMetric', { experimentId: 'crash', subnetId: subnet.id, metrics: { accuracy: 0.8 } });
  const evalBefore = await unary(client, 'evaluate', { experimentId: 'crash', target: { case: 'subnetId', value: subnet.id }, maxExamples: 32, skipBnRecalibration: true });
  client.close();
  first.proc.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');

  const second = await spawnServer(data.dir);
  client = connect(second.address);
  try {
    const exp = (await unary(client, 'getExperiment', { experimentId: 'crash' })).experiment;
    assert.equal(exp?.step, 2n);
    assert.equal(exp?.checkpointStep, 2n);
    assert.equal(exp?.metricCount, 2n);
    const metrics = await unary(client, 'listMetrics', { experimentId: 'crash' });
    assert.deepEqual(
      metrics.records.map((r) => [r.sequence, r.subnetId, r.values.accuracy, r.values.latency_ms, r.clientId]),
      [
        [1n, subnet.id, 0.75, 3, 'c1'],
        [2n, subnet.id, 0.8, undefined, ''],
      ],
    );
    const evalAfter = await unary(client, 'evaluate', { experimentId: 'crash', target: { case: 'subnetId', value: subnet.id }, maxExamples: 32, skipBnRecalibration: true });
    assert.equal(evalAfter.accuracy, evalBefore.accuracy, 'same weights after the restart');
    assert.equal(evalAfter.loss, evalBefore.loss);
    const more = await unary(client, 'trainStep', { experimentId: 'crash', input: { case: 'steps', value: 1 } });
    assert.equal(more.step, 3n, 'training resumes from the checkpoint');
  } finally {
    client.close();
    second.proc.kill('SIGKILL');
    await second.exited;
  }
});

test('SIGTERM during training: stops at a step boundary, checkpoints, exits 0', async () => {
  const dir = tempDir();
  try {
    const child = await spawnServer(dir.dir);
    const client = connect(child.address);
    await unary(client, 'createExperiment', { experimentId: 'term', spec: tinySpec() });
    const { TrainRequestSchema } = await import('@supernetd/api');
    const { create } = await import('@bufbuild/protobuf');
    const stream = client.train(create(TrainRequestSchema, { experimentId: 'term', steps: 200, progressInterval: 1 }));
    let lastStep = 0n;
    let done = false;
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (e: { step: bigint; done: boolean }) => {
        lastStep = e.step;
        done ||= e.done;
      });
      stream.on('error', () => resolve());
      stream.on('end', () => resolve());
    });
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    child.proc.kill('SIGTERM');
    const exit = await child.exited;
    await ended;
    client.close();
    assert.equal(exit.code, 0, 'exit code 0');
    assert.ok(lastStep < 200n, 'training stopped early');

    const again = await spawnServer(dir.dir);
    const c2 = connect(again.address);
    try {
      const exp = (await unary(c2, 'getExperiment', { experimentId: 'term' })).experiment;
      assert.equal(exp?.state, ExperimentState.READY);
      assert.ok((exp?.step ?? 0n) >= lastStep, 'every step taken is kept');
      assert.equal(exp?.checkpointStep, exp?.step, 'the shutdown checkpoint holds the last step');
      assert.ok(done || (exp?.step ?? 0n) > 0n);
    } finally {
      c2.close();
      again.proc.kill('SIGTERM');
      assert.equal((await again.exited).code, 0);
    }
  } finally {
    dir.remove();
  }
});
