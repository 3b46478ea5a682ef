// Keepalive and connection-age settings: parsed from flags, environment and file, handed to grpc-js,
// and live: the server PINGs every connection and a Train stream under a client's aggressive
// keepalive ends OK (no too_many_pings GOAWAY); with a connection age set, the server sends GOAWAY
// at that age and a Train stream that outlives it still ends OK.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { SupernetdError } from '@supernetd/client';
import type { SupernetdClient, TrainResponse } from '@supernetd/client';
import { configFromArgs } from '../src/cli-config.ts';
import { DEFAULT_CONFIG, grpcServerOptionsOf, resolveConfig } from '../src/config.ts';
import { startServer } from '../src/index.ts';
import { connectClient, tempDir, tinySpec } from './helpers.ts';

test('keepalive and connection age: defaults, flag > environment > file, and the grpc-js options they become', () => {
  const d = configFromArgs(['serve'], {}).config;
  assert.deepEqual(
    [d.keepaliveTimeMs, d.keepaliveTimeoutMs, d.maxConnectionAgeMs, d.maxConnectionAgeGraceMs],
    [30_000, 10_000, 0, 0],
  );
  const opts = grpcServerOptionsOf(d);
  assert.equal(opts['grpc.keepalive_time_ms'], 30_000);
  assert.equal(opts['grpc.keepalive_timeout_ms'], 10_000);
  // 0 (never, no limit) becomes grpc-js's own "unlimited"
  assert.equal(opts['grpc.max_connection_age_ms'], 2 ** 31 - 1);
  assert.equal(opts['grpc.max_connection_age_grace_ms'], 2 ** 31 - 1);
  assert.equal(grpcServerOptionsOf(resolveConfig({ maxConnectionAgeMs: 5000 }))['grpc.max_connection_age_ms'], 5000);
  assert.equal(grpcServerOptionsOf(resolveConfig({ keepaliveTimeMs: 0 }))['grpc.keepalive_time_ms'], 2 ** 31 - 1);
  assert.equal(opts['grpc.max_receive_message_length'], DEFAULT_CONFIG.maxMessageBytes);

  const dir = tempDir();
  try {
    const file = path.join(dir.dir, 'supernetd.json');
    writeFileSync(file, JSON.stringify({ keepaliveTimeMs: 1000, keepaliveTimeoutMs: 2000, maxConnectionAgeMs: 3000, maxConnectionAgeGraceMs: 4000 }));
    const c = configFromArgs(['serve', '--config', file, '--max-connection-age-ms', '0'], { SUPERNETD_KEEPALIVE_TIME_MS: '5000', SUPERNETD_MAX_CONNECTION_AGE_MS: '6000' }).config;
    assert.deepEqual([c.keepaliveTimeMs, c.keepaliveTimeoutMs, c.maxConnectionAgeMs, c.maxConnectionAgeGraceMs], [5000, 2000, 0, 4000]);
    const g = configFromArgs(['serve', '--keepalive-timeout-ms', '7', '--max-connection-age-grace-ms', '8'], { SUPERNETD_MAX_CONNECTION_AGE_GRACE_MS: '9' }).config;
    assert.deepEqual([g.keepaliveTimeoutMs, g.maxConnectionAgeGraceMs], [7, 8]);
  } finally {
    dir.remove();
  }
  assert.throws(() => configFromArgs(['serve', '--keepalive-time-ms=-1'], {}), /keepaliveTimeMs must be an integer in \[0, /);
  assert.throws(() => configFromArgs(['serve', '--keepalive-timeout-ms', '0'], {}), /keepaliveTimeoutMs must be an integer in \[1, /);
  assert.throws(() => configFromArgs(['serve'], { SUPERNETD_MAX_CONNECTION_AGE_MS: '1e12' }), /maxConnectionAgeMs must be an integer/);
});

/** Trains `steps` steps over one Train stream; resolves with its status, events and duration. */
async function trainStream(client: SupernetdClient, experimentId: string, steps: number) {
  const started = Date.now();
  const events: TrainResponse[] = [];
  let code = grpc.status.OK;
  try {
    for await (const e of client.train({ experimentId, steps, progressInterval: 1 })) events.push(e);
  } catch (e) {
    code = SupernetdError.from(e).code;
  }
  return { code, events, ms: Date.now() - started };
}

/** Connects a bare HTTP/2 session to `address` and records the PINGs and GOAWAY the server sends. */
function watchConnection(address: string) {
  const session = http2.connect(`http://${address}`);
  const seen = { pings: 0, goaway: undefined as number | undefined, goawayAfterMs: 0 };
  const t0 = Date.now();
  session.on('error', () => undefined);
  session.on('ping', () => seen.pings++);
  const goaway = new Promise<void>((resolve) =>
    session.on('goaway', (code: number) => {
      seen.goaway = code;
      seen.goawayAfterMs = Date.now() - t0;
      resolve();
    }),
  );
  return { seen, goaway, close: () => session.destroy() };
}

test('live: the server PINGs every connection, and a Train stream under a client keepalive of 50 ms ends OK', async () => {
  const data = tempDir();
  const server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', keepaliveTimeMs: 100, keepaliveTimeoutMs: 5000 });
  const client = connectClient(server.address, { channelOptions: { 'grpc.keepalive_time_ms': 50, 'grpc.keepalive_timeout_ms': 5000, 'grpc.keepalive_permit_without_calls': 1 } });
  const watch = watchConnection(server.address);
  try {
    await client.createExperiment({ experimentId: 'ka', spec: tinySpec() });
    const r = await trainStream(client, 'ka', 20);
    assert.equal(r.code, grpc.status.OK);
    assert.equal(r.events.at(-1)?.done, true);
    assert.equal(r.events.at(-1)?.step, 20n);
    assert.ok(watch.seen.pings >= 3, `the server sent ${watch.seen.pings} PINGs on an idle connection`);
    assert.equal(watch.seen.goaway, undefined, 'no GOAWAY without a connection age');
  } finally {
    watch.close();
    client.close();
    await server.stop();
    data.remove();
  }
});

test('live: with a connection age the server sends GOAWAY at it, and a Train stream that outlives it ends OK', async () => {
  const AGE_MS = 300;
  const data = tempDir();
  const server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', keepaliveTimeMs: 0, maxConnectionAgeMs: AGE_MS });
  const client = connectClient(server.address);
  const watch = watchConnection(server.address);
  try {
    await watch.goaway;
    assert.equal(watch.seen.goaway, http2.constants.NGHTTP2_NO_ERROR);
    assert.ok(watch.seen.goawayAfterMs >= AGE_MS * 0.9 - 20, `GOAWAY after ${watch.seen.goawayAfterMs} ms, before the age of ${AGE_MS} ms`);
    assert.equal(watch.seen.pings, 0, 'keepaliveTimeMs 0 sends no PINGs');

    await client.createExperiment({ experimentId: 'age', spec: tinySpec() });
    const r = await trainStream(client, 'age', 60);
    assert.equal(r.code, grpc.status.OK);
    // longer than the age plus its jitter: the stream's connection got its GOAWAY while it ran
    assert.ok(r.ms > AGE_MS * 1.1 + 100, `the Train stream took ${r.ms} ms, too short to outlive the connection age`);
    assert.equal(r.events.at(-1)?.step, 60n);
    // the client reconnects after the GOAWAY: the next call answers
    assert.equal((await client.getExperiment('age')).step, 60n);
  } finally {
    watch.close();
    client.close();
    await server.stop();
    data.remove();
  }
});
