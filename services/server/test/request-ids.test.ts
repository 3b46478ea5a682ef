// Request ids (AIP-155) over real gRPC: a repeat gets the first result and is never applied twice,
// also after the server was SIGKILLed between the durable write and the reply and restarted on the
// same data directory; the same id with a different request is ALREADY_EXISTS.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startServer } from '../src/index.ts';
import { assertStatus, connect, spawnCliServer, tempDir, tinySpec, unary } from './helpers.ts';
import type { CliServer } from './helpers.ts';

const S = grpc.status;
const dirs: { remove(): void }[] = [];
after(() => dirs.forEach((d) => d.remove()));

/** The real CLI; `killAfter` names the method after whose durable write it SIGKILLs itself. */
function spawnServer(dataDir: string, killAfter?: string): Promise<CliServer> {
  const env = { ...process.env };
  delete env.SUPERNETD_TEST_KILL_AFTER_APPLY;
  if (killAfter) env.SUPERNETD_TEST_KILL_AFTER_APPLY = killAfter;
  return spawnCliServer(dataDir, env);
}

async function stopChild(c: CliServer): Promise<void> {
  c.proc.kill('SIGTERM');
  await c.exited;
}

test('SIGKILL between the durable write and the reply: the retry gets the first result, applied once', async () => {
  const data = tempDir();
  dirs.push(data);
  let first = await spawnServer(data.dir, 'ReportMetric');
  let client = connect(first.address);
  await unary(client, 'createExperiment', { experimentId: 'crash', spec: tinySpec() });
  const subnetId = (await unary(client, 'sampleSubnet', { experimentId: 'crash' })).subnets[0]!.id;
  const report = { experimentId: 'crash', subnetId, metrics: { accuracy: 0.75 }, requestId: randomUUID() };
  // the server dies once the metric is on disk, so this reply is lost
  await assertStatus(unary(client, 'reportMetric', report), S.UNAVAILABLE, undefined);
  assert.equal((await first.exited).signal, 'SIGKILL');
  client.close();

  // a CreateExperiment with a server-chosen id, killed after its spec is durable
  first = await spawnServer(data.dir, 'CreateExperiment');
  client = connect(first.address);
  const createReq = { experimentId: '', spec: tinySpec(), requestId: randomUUID() };
  await assertStatus(unary(client, 'createExperiment', createReq), S.UNAVAILABLE, undefined);
  assert.equal((await first.exited).signal, 'SIGKILL');
  client.close();

  const second = await spawnServer(data.dir);
  client = connect(second.address);
  try {
    const retried = await unary(client, 'reportMetric', report);
    const records = (await unary(client, 'listMetrics', { experimentId: 'crash' })).records;
    assert.equal(records.length, 1, 'the metric is stored once');
    assert.equal(retried.sequence, records[0]!.sequence, 'the retry answers with the first sequence');
    assert.deepEqual(records[0]!.values, { accuracy: 0.75 });

    const made = await unary(client, 'createExperiment', createReq);
    const all = (await unary(client, 'listExperiments', {})).experiments.map((e) => e.id);
    assert.equal(all.length, 2, `one experiment was made: ${all.join(', ')}`);
    assert.ok(all.includes(made.experiment!.id));
  } finally {
    client.close();
    await stopChild(second);
  }
});

test('repeats are answered from the first result; a reused id with a different request is ALREADY_EXISTS', async () => {
  const data = tempDir();
  dirs.push(data);
  let server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
  let client = connect(server.address);
  try {
    const experimentId = 'dedup';
    await unary(client, 'createExperiment', { experimentId, spec: tinySpec() });
    const subnetId = (await unary(client, 'sampleSubnet', { experimentId })).subnets[0]!.id;

    const report = { experimentId, subnetId, metrics: { accuracy: 0.5 }, requestId: randomUUID() };
    // concurrent repeats and a later one all get the sequence of the one stored metric
    const seqs = (await Promise.all([1, 2, 3].map(() => unary(client, 'reportMetric', report)))).map((r) => r.sequence);
    seqs.push((await unary(client, 'reportMetric', report)).sequence);
    assert.deepEqual(new Set(seqs).size, 1);
    const reused = await assertStatus(
      unary(client, 'reportMetric', { ...report, metrics: { accuracy: 0.9 } }),
      S.ALREADY_EXISTS,
      'REQUEST_ID_REUSED',
      /request_id '.*' was already used with a different request/,
    );
    assert.ok(reused);
    await assertStatus(unary(client, 'reportMetric', { ...report, requestId: 'x'.repeat(129) }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /request_id has 129 characters/);
    // without an id every call is applied
    await unary(client, 'reportMetric', { ...report, requestId: '' });
    assert.equal((await unary(client, 'listMetrics', { experimentId })).records.length, 2);

    const step = { experimentId, input: { case: 'steps' as const, value: 1 }, requestId: randomUUID() };
    const a = await unary(client, 'trainStep', step);
    const b = await unary(client, 'trainStep', step);
    assert.equal(a.step, 1n);
    assert.deepEqual(b, a, 'the repeat returns the first response');
    assert.equal((await unary(client, 'getExperiment', { experimentId })).experiment!.step, 1n, 'one step taken');

    const createReq = { experimentId: '', spec: tinySpec(), requestId: randomUUID() };
    const c1 = await unary(client, 'createExperiment', createReq);
    const c2 = await unary(client, 'createExperiment', createReq);
    assert.equal(c2.experiment!.id, c1.experiment!.id);

    // restarted on the same data directory: the ids are remembered from disk
    client.close();
    await server.stop();
    server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
    client = connect(server.address);
    assert.equal((await unary(client, 'reportMetric', report)).sequence, seqs[0]);
    assert.deepEqual(await unary(client, 'trainStep', step), a);
    assert.equal((await unary(client, 'getExperiment', { experimentId })).experiment!.step, 1n);
    assert.equal((await unary(client, 'createExperiment', createReq)).experiment!.id, c1.experiment!.id);

    const del = { experimentId: c1.experiment!.id, requestId: randomUUID() };
    await unary(client, 'deleteExperiment', del);
    await unary(client, 'deleteExperiment', del);
    await assertStatus(unary(client, 'deleteExperiment', { ...del, requestId: randomUUID() }), S.NOT_FOUND, 'EXPERIMENT_NOT_FOUND');
    await assertStatus(unary(client, 'deleteExperiment', { ...del, experimentId }), S.ALREADY_EXISTS, 'REQUEST_ID_REUSED');
    assert.equal((await unary(client, 'getExperiment', { experimentId })).experiment!.id, experimentId, 'the other experiment is untouched');
  } finally {
    client.close();
    await server.stop();
  }
});
