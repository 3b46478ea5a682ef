// Request ids (AIP-155) over real gRPC: a repeat gets the first result and is never applied twice,
// also after the server was SIGKILLed between the durable write and the reply and restarted on the
// same data directory; the same id with a different request is ALREADY_EXISTS.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startServer } from '../src/index.ts';
import { assertStatus, connect, connectClient, spawnCliServer, tempDir, tinySpec, unary } from './helpers.ts';
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
  let client = connectClient(first.address);
  await client.createExperiment({ experimentId: 'crash', spec: tinySpec() });
  const subnetId = (await client.sampleSubnet({ experimentId: 'crash' }))[0]!.id;
  const report = { experimentId: 'crash', subnetId, metrics: { accuracy: 0.75 }, requestId: randomUUID() };
  // the server dies once the metric is on disk, so this reply is lost
  await assertStatus(client.reportMetric(report), S.UNAVAILABLE, undefined);
  assert.equal((await first.exited).signal, 'SIGKILL');
  client.close();

  // a CreateExperiment with a server-chosen id, killed after its spec is durable
  first = await spawnServer(data.dir, 'CreateExperiment');
  client = connectClient(first.address);
  const createReq = { experimentId: '', spec: tinySpec(), requestId: randomUUID() };
  await assertStatus(client.createExperiment(createReq), S.UNAVAILABLE, undefined);
  assert.equal((await first.exited).signal, 'SIGKILL');
  client.close();

  const second = await spawnServer(data.dir);
  client = connectClient(second.address);
  try {
    const retried = await client.reportMetric(report);
    const records = await client.listMetrics({ experimentId: 'crash' });
    assert.equal(records.length, 1, 'the metric is stored once');
    assert.equal(retried, records[0]!.sequence, 'the retry answers with the first sequence');
    assert.deepEqual(records[0]!.values, { accuracy: 0.75 });

    const made = await client.createExperiment(createReq);
    const all = (await client.listExperiments()).map((e) => e.id);
    assert.equal(all.length, 2, `one experiment was made: ${all.join(', ')}`);
    assert.ok(all.includes(made.id));
  } finally {
    client.close();
    await stopChild(second);
  }
});

test('repeats are answered from the first result; a reused id with a different request is ALREADY_EXISTS', async () => {
  const data = tempDir();
  dirs.push(data);
  let server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
  let client = connectClient(server.address);
  try {
    const experimentId = 'dedup';
    await client.createExperiment({ experimentId, spec: tinySpec() });
    const subnetId = (await client.sampleSubnet({ experimentId }))[0]!.id;

    const report = { experimentId, subnetId, metrics: { accuracy: 0.5 }, requestId: randomUUID() };
    // concurrent repeats and a later one all get the sequence of the one stored metric
    const seqs = await Promise.all([1, 2, 3].map(() => client.reportMetric(report)));
    seqs.push(await client.reportMetric(report));
    assert.deepEqual(new Set(seqs).size, 1);
    const reused = await assertStatus(
      client.reportMetric({ ...report, metrics: { accuracy: 0.9 } }),
      S.ALREADY_EXISTS,
      'REQUEST_ID_REUSED',
      /request_id '.*' was already used with a different request/,
    );
    assert.ok(reused);
    await assertStatus(client.reportMetric({ ...report, requestId: 'x'.repeat(129) }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /request_id has 129 characters/);
    // without an id every call is applied; sent on the bare stub, since the client fills in an id
    const stub = connect(server.address);
    await unary(stub, 'reportMetric', { ...report, requestId: '' });
    stub.close();
    assert.equal((await client.listMetrics({ experimentId })).length, 2);

    const step = { experimentId, input: { case: 'steps' as const, value: 1 }, requestId: randomUUID() };
    const a = await client.trainStep(step);
    const b = await client.trainStep(step);
    assert.equal(a.step, 1n);
    assert.deepEqual(b, a, 'the repeat returns the first response');
    assert.equal((await client.getExperiment(experimentId)).step, 1n, 'one step taken');

    const createReq = { experimentId: '', spec: tinySpec(), requestId: randomUUID() };
    const c1 = await client.createExperiment(createReq);
    const c2 = await client.createExperiment(createReq);
    assert.equal(c2.id, c1.id);

    // restarted on the same data directory: the ids are remembered from disk
    client.close();
    await server.stop();
    server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
    client = connectClient(server.address);
    assert.equal(await client.reportMetric(report), seqs[0]);
    assert.deepEqual(await client.trainStep(step), a);
    assert.equal((await client.getExperiment(experimentId)).step, 1n);
    assert.equal((await client.createExperiment(createReq)).id, c1.id);

    const del = { experimentId: c1.id, requestId: randomUUID() };
    await client.deleteExperiment(del.experimentId, { requestId: del.requestId });
    await client.deleteExperiment(del.experimentId, { requestId: del.requestId });
    await assertStatus(client.deleteExperiment(del.experimentId, { requestId: randomUUID() }), S.NOT_FOUND, 'EXPERIMENT_NOT_FOUND');
    await assertStatus(client.deleteExperiment(experimentId, { requestId: del.requestId }), S.ALREADY_EXISTS, 'REQUEST_ID_REUSED');
    assert.equal((await client.getExperiment(experimentId)).id, experimentId, 'the other experiment is untouched');
  } finally {
    client.close();
    await server.stop();
  }
});
