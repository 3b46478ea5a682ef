// Damage to the data dir, one kind of file at a time: torn and garbled JSON-lines files heal on
// load without losing or repeating a sequence; experiments whose spec.json or state.json cannot
// load are listed FAILED with the reason (no server paths) and can be deleted; a corrupt newest
// checkpoint falls back to an older one. Also: list pages are bounded by bytes.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { toBinary } from '@bufbuild/protobuf';
import { ExperimentSchema, ExperimentState } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connect, connectClient, tempDir, tinySpec, unary } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

const S = grpc.status;
const data = tempDir();
const root = path.join(data.dir, 'experiments');
const MAX_MESSAGE = 16 * 1024;
let server: RunningServer;
let client: SupernetdClient;
let subnetId = '';

const file = (id: string, name: string) => path.join(root, id, name);
function clone(id: string, edit: (record: Record<string, unknown>) => void = () => undefined): void {
  cpSync(path.join(root, 'heal'), path.join(root, id), { recursive: true });
  const record = JSON.parse(readFileSync(file(id, 'spec.json'), 'utf8')) as Record<string, unknown>;
  record.id = id;
  edit(record);
  writeFileSync(file(id, 'spec.json'), JSON.stringify(record));
}

async function restart(): Promise<void> {
  client?.close();
  await server?.stop();
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', maxMessageBytes: MAX_MESSAGE });
  client = connectClient(server.address);
}

before(async () => {
  await restart();
  await client.createExperiment({ experimentId: 'heal', spec: tinySpec({ checkpointInterval: 1 }) });
  subnetId = (await client.sampleSubnet({ experimentId: 'heal' }))[0]!.id;
  for (const accuracy of [0.1, 0.2, 0.3]) await client.reportMetric({ experimentId: 'heal', subnetId, metrics: { accuracy } });
  await client.trainStep({ experimentId: 'heal', input: { case: 'steps', value: 2 } });
  client.close();
  await server.stop();

  clone('torn');
  writeFileSync(file('torn', 'metrics.jsonl'), readFileSync(file('torn', 'metrics.jsonl'), 'utf8') + '{"sequence":4,"subnetId":"ab');
  writeFileSync(file('torn', 'subnets.jsonl'), readFileSync(file('torn', 'subnets.jsonl'), 'utf8') + '{"id":"x","arch":{"resol');
  clone('garbled');
  const lines = readFileSync(file('garbled', 'metrics.jsonl'), 'utf8').split('\n');
  lines[1] = '@@ not json @@';
  writeFileSync(file('garbled', 'metrics.jsonl'), lines.join('\n'));
  writeFileSync(file('garbled', 'subnets.jsonl'), 'null\n' + readFileSync(file('garbled', 'subnets.jsonl'), 'utf8'));
  clone('bad-state');
  writeFileSync(file('bad-state', 'state.json'), '{"step":');
  clone('empty-spec');
  writeFileSync(file('empty-spec', 'spec.json'), '');
  clone('null-spec');
  writeFileSync(file('null-spec', 'spec.json'), 'null');
  for (let i = 0; i < 10; i++) clone(`page-${i}`, (r) => ((r.spec as { displayName: string }).displayName = 'p'.repeat(1000)));
  // the newest checkpoint of 'heal' is damaged
  const dir = file('heal', 'checkpoints');
  const manifest = JSON.parse(readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')) as { weights: string };
  const w = readFileSync(path.join(dir, manifest.weights));
  w[w.length - 1] = (w[w.length - 1] ?? 0) ^ 0xff;
  writeFileSync(path.join(dir, manifest.weights), w);
  await restart();
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

test('metrics.jsonl / subnets.jsonl: a torn last line is cut off, and the next acknowledged metric survives a restart', async () => {
  assert.ok(readFileSync(file('torn', 'metrics.jsonl'), 'utf8').endsWith('\n'));
  assert.ok(readFileSync(file('torn', 'subnets.jsonl'), 'utf8').endsWith('\n'));
  assert.equal((await client.listMetrics({ experimentId: 'torn' })).length, 3);
  const r = await client.reportMetric({ experimentId: 'torn', subnetId, metrics: { accuracy: 0.4 } });
  assert.equal(r, 4n);
  await restart();
  const records = await client.listMetrics({ experimentId: 'torn' });
  assert.deepEqual(records.map((m) => m.sequence), [1n, 2n, 3n, 4n]);
});

test('metrics.jsonl / subnets.jsonl: garbled and null middle lines are skipped; sequences continue from the highest', async () => {
  const before = await client.listMetrics({ experimentId: 'garbled' });
  assert.deepEqual(before.map((m) => m.sequence), [1n, 3n]);
  const r = await client.reportMetric({ experimentId: 'garbled', subnetId, metrics: { accuracy: 0.5 } });
  assert.equal(r, 4n);
  const seqs = (await client.listMetrics({ experimentId: 'garbled' })).map((m) => m.sequence);
  assert.equal(new Set(seqs).size, seqs.length);
});

test('state.json / spec.json that cannot load: listed FAILED with the reason, no server path, deletable', async () => {
  const all = await client.listExperiments();
  const reasons: Record<string, RegExp> = { 'bad-state': /state\.json is not valid JSON/, 'empty-spec': /spec\.json is empty/, 'null-spec': /spec\.json does not hold an object/ };
  for (const [id, reason] of Object.entries(reasons)) {
    const listed = all.find((e) => e.id === id);
    assert.ok(listed, `${id} is listed`);
    assert.equal(listed.state, ExperimentState.FAILED);
    assert.match(listed.error, reason);
    assert.ok(!listed.error.includes(data.dir), listed.error);
    const got = await client.getExperiment(id);
    assert.equal(got.state, ExperimentState.FAILED);
    await assertStatus(client.sampleSubnet({ experimentId: id }), S.FAILED_PRECONDITION, 'EXPERIMENT_FAILED', reason);
    await assertStatus(client.createExperiment({ experimentId: id, spec: tinySpec() }), S.ALREADY_EXISTS, 'EXPERIMENT_ALREADY_EXISTS');
    // with a request id, as the clients send one
    await client.deleteExperiment(id, { requestId: `delete-${id}` });
    await assertStatus(client.getExperiment(id), S.NOT_FOUND, 'EXPERIMENT_NOT_FOUND');
    assert.ok(!readdirSync(root).includes(id));
  }
});

test('checkpoints: a corrupt newest checkpoint falls back to an older one and training goes on', async () => {
  const r = await client.trainStep({ experimentId: 'heal', input: { case: 'steps', value: 1 } }, { timeoutMs: 60_000 });
  assert.ok(r.step >= 2n, `step ${r.step}`);
  const got = await client.getExperiment('heal');
  assert.notEqual(got.state, ExperimentState.FAILED, got.error);
});

test('ListExperiments pages are bounded by bytes as well as count', async () => {
  const ids: string[] = [];
  let pageToken = '';
  let pages = 0;
  // one page at a time, which only the bare stub shows: the client's listExperiments follows the pages
  const stub = connect(server.address);
  do {
    const page = await unary(stub, 'listExperiments', { pageToken, pageSize: 100 });
    const bytes = page.experiments.reduce((n, e) => n + toBinary(ExperimentSchema, e).byteLength, 0);
    assert.ok(page.experiments.length === 1 || bytes <= MAX_MESSAGE / 2, `page of ${bytes} bytes`);
    ids.push(...page.experiments.map((e) => e.id));
    pageToken = page.nextPageToken;
    pages++;
  } while (pageToken !== '');
  stub.close();
  assert.ok(pages > 1, `${pages} pages`);
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 0; i < 10; i++) assert.ok(ids.includes(`page-${i}`));
});
