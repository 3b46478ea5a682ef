// The real CLI as a child process: SIGKILL loses nothing acknowledged (experiment, metrics, weights
// from the last checkpoint come back), SIGTERM checkpoints and exits 0.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ExperimentState } from '@supernetd/api';
import { connectClient, spawnCliServer as spawnServer, tempDir, tinySpec } from './helpers.ts';

const data = tempDir();
after(() => data.remove());

test('SIGKILL: the experiment, its metrics and its weights at the last checkpoint survive', async () => {
  const first = await spawnServer(data.dir);
  let client = connectClient(first.address);
  await client.createExperiment({ experimentId: 'crash', spec: tinySpec({ checkpointInterval: 2 }) });
  const [subnet] = await client.sampleSubnet({ experimentId: 'crash' });
  assert.ok(subnet);
  const rep = await client.reportMetric({ experimentId: 'crash', subnetId: subnet.id, metrics: { accuracy: 0.75, latency_ms: 3 }, clientId: 'c1' });
  assert.equal(rep, 1n);
  const trained = await client.trainStep({ experimentId: 'crash', input: { case: 'steps', value: 2 } });
  assert.equal(trained.step, 2n);
  // reported after the checkpoint: only the metric log has it, and it must survive too
  await client.reportMetric({ experimentId: 'crash', subnetId: subnet.id, metrics: { accuracy: 0.8 } });
  const evalBefore = await client.evaluate({ experimentId: 'crash', target: { case: 'subnetId', value: subnet.id }, maxExamples: 32, skipBnRecalibration: true });
  client.close();
  first.proc.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');

  const second = await spawnServer(data.dir);
  client = connectClient(second.address);
  try {
    const exp = await client.getExperiment('crash');
    assert.equal(exp?.step, 2n);
    assert.equal(exp?.checkpointStep, 2n);
    assert.equal(exp?.metricCount, 2n);
    const metrics = await client.listMetrics({ experimentId: 'crash' });
    assert.deepEqual(
      metrics.map((r) => [r.sequence, r.subnetId, r.values.accuracy, r.values.latency_ms, r.clientId]),
      [
        [1n, subnet.id, 0.75, 3, 'c1'],
        [2n, subnet.id, 0.8, undefined, ''],
      ],
    );
    const evalAfter = await client.evaluate({ experimentId: 'crash', target: { case: 'subnetId', value: subnet.id }, maxExamples: 32, skipBnRecalibration: true });
    assert.equal(evalAfter.accuracy, evalBefore.accuracy, 'same weights after the restart');
    assert.equal(evalAfter.loss, evalBefore.loss);
    const more = await client.trainStep({ experimentId: 'crash', input: { case: 'steps', value: 1 } });
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
    const client = connectClient(child.address);
    await client.createExperiment({ experimentId: 'term', spec: tinySpec() });
    let lastStep = 0n;
    let done = false;
    let first!: () => void;
    const started = new Promise<void>((resolve) => (first = resolve));
    // the stream ends OK or with an error when the server goes away; either way it has ended
    const ended = (async () => {
      for await (const e of client.train({ experimentId: 'term', steps: 200, progressInterval: 1 })) {
        lastStep = e.step;
        done ||= e.done;
        first();
      }
    })().catch(() => undefined);
    await started;
    child.proc.kill('SIGTERM');
    const exit = await child.exited;
    await ended;
    client.close();
    assert.equal(exit.code, 0, 'exit code 0');
    assert.ok(lastStep < 200n, 'training stopped early');

    const again = await spawnServer(dir.dir);
    const c2 = connectClient(again.address);
    try {
      const exp = await c2.getExperiment('term');
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
