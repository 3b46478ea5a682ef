// CreateExperiment over a real socket: a PSS config that asks for latency only through its target
// grid (targets.latency) on a space without a latency table is refused like one with latency in
// costKinds, FAILED_PRECONDITION / UNSUPPORTED, the message naming the key that asked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { SupernetdClient } from '@supernetd/client';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connectClient, tempDir, tinySpec } from './helpers.ts';

const data = tempDir();
let server: RunningServer;
let client: SupernetdClient;

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'warn', metricsPort: 0, backend: 'wasm' });
  client = connectClient(server.address);
});

after(async () => {
  client.close();
  await server.stop();
  data.remove();
});

test('PSS targets.latency without a latency table: same status, reason and message as costKinds, naming targets.latency', async () => {
  const byKinds = await assertStatus(
    client.createExperiment({ experimentId: 'pss-kinds', spec: tinySpec({ strategy: 'pss', config: { costKinds: ['flops', 'latency'] } }) }),
    grpc.status.FAILED_PRECONDITION,
    'UNSUPPORTED',
    /config costKinds\[1\] asks for latency costs.*measureLatency/,
  );
  const byTargets = await assertStatus(
    client.createExperiment({
      experimentId: 'pss-targets',
      spec: tinySpec({ strategy: 'pss', config: { costKinds: ['flops'], targets: { latency: { start: 1, stop: 10, step: 2 } } } }),
    }),
    grpc.status.FAILED_PRECONDITION,
    'UNSUPPORTED',
    /config targets\.latency asks for latency costs.*measureLatency/,
  );
  assert.equal(byTargets.details, byKinds.details.replace('costKinds[1]', 'targets.latency'));
  // nothing was created
  assert.deepEqual((await client.listExperiments()).map((e) => e.id), []);
});
