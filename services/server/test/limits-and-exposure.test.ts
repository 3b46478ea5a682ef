// Bounded resources and what the server exposes, over real gRPC and
// HTTP, each test with its own server: live workers and experiments are limited with
// RESOURCE_EXHAUSTED naming the setting, /metrics is on loopback and can require a token, dataset
// paths stay inside datasetRoot without telling what exists outside, and a Train stream cut short by
// shutdown ends UNAVAILABLE with its checkpoint step.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { DatasetFormat, ExperimentState } from '@supernetd/api';
import type { TrainResponse } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer, ServerConfig } from '../src/index.ts';
import { assertStatus, connectClient, tempDir, tinySpec } from './helpers.ts';
import { SupernetdError } from '@supernetd/client';
import type { SupernetdClient } from '@supernetd/client';

const S = grpc.status;

/** A server of its own for one test, stopped (and its directory removed) afterwards. */
async function withServer(config: Partial<ServerConfig>, fn: (server: RunningServer, client: SupernetdClient, dir: string) => Promise<void>): Promise<void> {
  const data = tempDir();
  const server = await startServer({ port: 0, dataDir: path.join(data.dir, 'data'), logLevel: 'silent', backend: 'wasm', ...config });
  const client = connectClient(server.address);
  try {
    await fn(server, client, data.dir);
  } finally {
    client.close();
    await server.stop();
    data.remove();
  }
}

const spec = () => tinySpec({ totalSteps: 1000n });

/** Starts a Train stream; resolves `started` at its first event, `ended` with its error (undefined when OK). */
function openTrain(client: SupernetdClient, experimentId: string, steps: number) {
  const events: TrainResponse[] = [];
  const abort = new AbortController();
  let first!: () => void;
  const started = new Promise<void>((resolve) => (first = resolve));
  const ended = (async (): Promise<SupernetdError | undefined> => {
    try {
      for await (const e of client.train({ experimentId, steps, progressInterval: 1 }, { signal: abort.signal })) {
        events.push(e);
        first();
      }
      return undefined;
    } catch (err) {
      return SupernetdError.from(err);
    }
  })();
  return { cancel: () => abort.abort(), events, started, ended };
}

test('maxLiveWorkers: an idle worker makes room, a busy one does not; maxExperiments bounds creation', async () => {
  await withServer({ maxLiveWorkers: 1, maxExperiments: 3, workerIdleSeconds: 0 }, async (_server, client) => {
    await client.createExperiment({ experimentId: 'a', spec: spec() });
    // a's worker is idle: it is checkpointed and stopped so b's can start
    await client.createExperiment({ experimentId: 'b', spec: spec() });
    assert.equal((await client.trainStep({ experimentId: 'a', input: { case: 'steps', value: 1 } })).step, 1n);

    // with a's worker busy training, there is no room
    const train = openTrain(client, 'a', 100_000);
    await train.started;
    await assertStatus(client.createExperiment({ experimentId: 'c', spec: spec() }), S.RESOURCE_EXHAUSTED, 'LIMIT_EXCEEDED', /maxLiveWorkers is 1/);
    await assertStatus(client.trainStep({ experimentId: 'b', input: { case: 'steps', value: 1 } }), S.RESOURCE_EXHAUSTED, 'LIMIT_EXCEEDED', /maxLiveWorkers/);
    const listed = await client.listExperiments();
    assert.deepEqual(listed.map((e) => e.id), ['a', 'b'], 'the refused creation left nothing behind');
    train.cancel();
    await train.ended;
    // the server notices the cancel at its next step boundary
    while ((await client.getExperiment('a')).state !== ExperimentState.READY) await setImmediate();

    // once a is idle again, c can start (a is stopped for it), and a fourth experiment is one too many
    await client.createExperiment({ experimentId: 'c', spec: spec() });
    await assertStatus(client.createExperiment({ experimentId: 'd', spec: spec() }), S.RESOURCE_EXHAUSTED, 'LIMIT_EXCEEDED', /maxExperiments is 3/);
  });
});

test('/metrics listens on loopback even when gRPC listens everywhere, and can require a token', async () => {
  await withServer({ host: '0.0.0.0', metricsPort: 0, metricsToken: 'metrics-secret' }, async (server) => {
    const port = server.metricsPort as number;
    const url = `http://127.0.0.1:${port}/metrics`;
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const ok = await fetch(url, { headers: { authorization: 'Bearer metrics-secret' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /supernetd_live_workers/);
    // from another interface of this machine (when it has one), gRPC answers and /metrics does not
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (external) {
      const c = connectClient(`${external}:${server.port}`);
      try {
        await c.listStrategies({ timeoutMs: 5000 });
      } finally {
        c.close();
      }
      await assert.rejects(fetch(`http://${external}:${port}/metrics`, { headers: { authorization: 'Bearer metrics-secret' } }));
    }
  });
});

test('dataset paths outside datasetRoot are refused alike, whether they exist or not', async () => {
  const outside = tempDir();
  const data = tempDir();
  const root = path.join(data.dir, 'datasets');
  mkdirSync(path.join(root, 'ok'), { recursive: true });
  writeFileSync(path.join(outside.dir, 'secret'), 'x');
  symlinkSync(outside.dir, path.join(root, 'escape'));
  const server = await startServer({ port: 0, dataDir: path.join(data.dir, 'data'), logLevel: 'silent', backend: 'wasm', datasetRoot: root });
  const client = connectClient(server.address);
  try {
    const withPath = (p: string) => {
      const s = tinySpec();
      return client.createExperiment({
        experimentId: 'ds',
        spec: { ...s, training: { ...s.training, dataset: { format: DatasetFormat.IDX, path: p } } },
      });
    };
    const messages: string[] = [];
    for (const p of [outside.dir, path.join(outside.dir, 'secret'), path.join(outside.dir, 'nothing-here'), '/etc', '/no/such/dir', '../../etc', 'escape', 'escape/secret', 'escape/nothing-here']) {
      const err = await assertStatus(withPath(p), S.INVALID_ARGUMENT, 'INVALID_DATASET', /outside the server's dataset directory \(setting datasetRoot\)/);
      messages.push(err.details.replace(p, '<p>'));
    }
    assert.equal(new Set(messages).size, 1, `one message for every outside path: ${[...new Set(messages)].join(' | ')}`);
    // inside the root, a missing dataset is named as such
    await assertStatus(withPath('missing'), S.INVALID_ARGUMENT, 'INVALID_DATASET', /no dataset 'missing'/);
    const listed = await client.listExperiments();
    assert.equal(listed.length, 0);
  } finally {
    client.close();
    await server.stop();
    data.remove();
    outside.remove();
  }
});

test('a Train stream cut short by shutdown ends UNAVAILABLE with the checkpoint step, not done', async () => {
  const data = tempDir();
  const dataDir = path.join(data.dir, 'data');
  let server = await startServer({ port: 0, dataDir, logLevel: 'silent', backend: 'wasm' });
  let client = connectClient(server.address);
  try {
    await client.createExperiment({ experimentId: 'cut', spec: spec() });
    const train = openTrain(client, 'cut', 100_000);
    await train.started;
    const stopping = server.stop();
    const err = await train.ended;
    await stopping;
    assert.ok(err, 'the stream ends with an error, not OK');
    assert.equal(grpc.status[err.code], 'UNAVAILABLE', err.details);
    assert.equal((err.cause as grpc.ServiceError).metadata.get('supernetd-error-reason')[0], 'ERROR_REASON_SHUTTING_DOWN');
    const m = /checkpoint at step (\d+)/.exec(err.details);
    assert.ok(m, err.details);
    assert.ok(!train.events.some((e) => e.done), 'no event says done');

    client.close();
    server = await startServer({ port: 0, dataDir, logLevel: 'silent', backend: 'wasm' });
    client = connectClient(server.address);
    const view = await client.getExperiment('cut');
    assert.equal(view?.checkpointStep, BigInt(m[1]!), 'the step named is the one stored');
  } finally {
    client.close();
    await server.stop();
    data.remove();
  }
});
