// ListMetrics pages with page_size/page_token as ListExperiments does; the deprecated
// after_sequence/limit still work, and the two styles are not mixed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import type { SupernetdClient } from '@supernetd/client';
import { assertStatus, connect, connectClient, tempDir, tinySpec, unary } from './helpers.ts';
import type { SupernetClient } from './helpers.ts';

const S = grpc.status;
let server: RunningServer;
let client: SupernetdClient;
// the pages one by one, which only the bare stub shows: the client's listMetrics follows them to the end
let stub: SupernetClient;
const data = tempDir();
const experimentId = 'pages';

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
  client = connectClient(server.address);
  stub = connect(server.address);
  await client.createExperiment({ experimentId, spec: tinySpec() });
  const subnetId = (await client.sampleSubnet({ experimentId }))[0]!.id;
  for (let i = 0; i < 7; i++) await client.reportMetric({ experimentId, subnetId, metrics: { accuracy: i / 10 } });
});

after(async () => {
  client?.close();
  stub?.close();
  await server?.stop();
  data.remove();
});

test('page_size and page_token walk the whole log once, in order, and the last page has no token', async () => {
  const seen: bigint[] = [];
  const sizes: number[] = [];
  let pageToken = '';
  do {
    const page = await unary(stub, 'listMetrics', { experimentId, pageSize: 3, pageToken });
    seen.push(...page.records.map((r) => r.sequence));
    sizes.push(page.records.length);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  assert.deepEqual(seen, [1n, 2n, 3n, 4n, 5n, 6n, 7n]);
  assert.deepEqual(sizes, [3, 3, 1]);
  // a page that ends exactly at the last record says so
  const exact = await unary(stub, 'listMetrics', { experimentId, pageSize: 7 });
  assert.equal(exact.records.length, 7);
  assert.equal(exact.nextPageToken, '');
});

test('the deprecated after_sequence and limit still page, and are not mixed with the new fields', async () => {
  const old = await unary(stub, 'listMetrics', { experimentId, afterSequence: 5n, limit: 1 });
  assert.deepEqual(
    old.records.map((r) => r.sequence),
    [6n],
  );
  assert.notEqual(old.nextPageToken, '');
  const next = await unary(stub, 'listMetrics', { experimentId, pageToken: old.nextPageToken });
  assert.deepEqual(
    next.records.map((r) => r.sequence),
    [7n],
  );
  await assertStatus(client.listMetrics({ experimentId, pageToken: old.nextPageToken, afterSequence: 2n }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /page_token and the deprecated after_sequence/);
  await assertStatus(client.listMetrics({ experimentId, pageSize: 2, limit: 2 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /page_size and the deprecated limit/);
  await assertStatus(client.listMetrics({ experimentId, pageToken: 'bm9wZQ' }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /page_token is not a token this server issued/);
  await assertStatus(client.listMetrics({ experimentId, pageSize: -1 }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /page_size must be greater than or equal to 0, got -1/);
});
