// A deploy search (Evaluate/ExportSubnet by constraint) honours the caller's deadline: the work in
// the worker stops, the call ends DEADLINE_EXCEEDED and is counted so in /metrics, and the
// experiment keeps serving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ConstraintKind } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connectClient, scrape, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

const FIXTURE = fileURLToPath(new URL('./fixtures/endless-search-strategy.ts', import.meta.url));
let server: RunningServer;
let client: SupernetdClient;
const data = tempDir();

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', metricsPort: 0, backend: 'wasm', strategies: [FIXTURE] });
  client = connectClient(server.address);
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

test('a search by constraint stops at the caller deadline, is counted as DEADLINE_EXCEEDED, and the experiment keeps serving', async () => {
  await client.createExperiment({ experimentId: 'endless', spec: tinySpec({ strategy: 'endless-search' }) });
  const sampled = await client.sampleSubnet({ experimentId: 'endless', count: 1 });
  const subnetId = sampled[0]?.id;
  assert.ok(subnetId);
  const evaluateOne = () => client.evaluate({ experimentId: 'endless', target: { case: 'subnetId', value: subnetId }, maxExamples: 16 });
  // the first call waits for the worker to start (seconds); the search is timed after it
  await evaluateOne();
  await assertStatus(
    client.evaluate({ experimentId: 'endless', target: { case: 'constraint', value: { kind: ConstraintKind.PARAMS, target: 1e9 } } }, { timeoutMs: 1500 }),
    grpc.status.DEADLINE_EXCEEDED,
    undefined,
  );
  // The worker runs one job at a time: this evaluation can only finish if the search has stopped.
  const ev = await evaluateOne();
  assert.equal(ev.examples, 16);
  const port = server.metricsPort as number;
  // the handler settles after the caller has gone; wait for the metric rather than for time
  for (let i = 0; i < 200 && (await scrape(port, 'supernetd_rpc_total', { method: 'Evaluate', code: 'DEADLINE_EXCEEDED' })) === undefined; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await scrape(port, 'supernetd_rpc_total', { method: 'Evaluate', code: 'DEADLINE_EXCEEDED' }), 1);
});
