// Absurd input over real gRPC: sizes in a spec, unknown enums, huge echoed ids, unbounded strings
// and repeated authorization headers are refused with a precise status, and the server keeps serving.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connectClient, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

const S = grpc.status;
const TOKEN = 'hardening-token';
let server: RunningServer;
let client: SupernetdClient;
const data = tempDir();

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', authToken: TOKEN });
  client = connectClient(server.address, { token: TOKEN });
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

const createWith = (experimentId: string, spec: object) => client.createExperiment({ experimentId, spec: spec as never }, { timeoutMs: 20_000 });
const withSpace = (searchSpace: object) => ({ ...tinySpec(), searchSpace });
const custom = (widths: object[], head?: number) => ({
  preset: 'custom',
  overrides: {
    definition: {
      name: 'big',
      inputShape: [28, 28, 1],
      numClasses: 10,
      resolutions: [28],
      widths,
      blocks: [{ id: 'b0', layers: [{ type: 'conv', id: 'c', out: 'a', kernel: 3 }] }],
      tail: [...(head ? [{ type: 'conv', id: 'head', out: head, kernel: 1 }] : []), { type: 'pool', id: 'pool' }, { type: 'linear', id: 'fc' }],
    },
  },
});

async function stillServing(): Promise<void> {
  const res = await client.listExperiments({ timeoutMs: 5000 });
  assert.ok(Array.isArray(res));
}

test('absurd sizes in a spec are refused before anything is allocated, naming the limit', async () => {
  const t0 = Date.now();
  await assertStatus(createWith('s1', withSpace({ preset: 'mbv1-small', overrides: { inputShape: [1e12, 1e12, 1] } })), S.INVALID_ARGUMENT, 'INVALID_SEARCH_SPACE', /inputShape.*limit/);
  await assertStatus(createWith('s2', withSpace(custom([{ id: 'a', base: 8, maxMult: 1e12 }]))), S.INVALID_ARGUMENT, 'INVALID_SEARCH_SPACE', /maxMult.*limit/);
  await assertStatus(createWith('s3', withSpace({ preset: 'mbv1-small', overrides: { numClasses: 1e6 } })), S.INVALID_ARGUMENT, 'INVALID_SEARCH_SPACE', /maxSpaceChannels \(32768\)/);
  await assertStatus(createWith('s4', withSpace(custom([{ id: 'a', base: 1_000_000, candidates: [1_000_000] }]))), S.INVALID_ARGUMENT, 'INVALID_SEARCH_SPACE', /maxSpaceChannels/);
  await assertStatus(createWith('s5', withSpace({ preset: 'mbv1-small', overrides: { resolutions: [4096] } })), S.INVALID_ARGUMENT, 'INVALID_SEARCH_SPACE', /maxSpaceResolution \(1024\)/);
  await assertStatus(createWith('s6', withSpace(custom([{ id: 'a', base: 20_000, candidates: [20_000] }], 20_000))), S.RESOURCE_EXHAUSTED, 'LIMIT_EXCEEDED', /maxSpaceParams/);
  const big = tinySpec();
  await assertStatus(
    createWith('s7', { ...big, searchSpace: { preset: 'mobilenet_v2' }, training: { ...big.training, batchSize: 4096 } }),
    S.RESOURCE_EXHAUSTED,
    'LIMIT_EXCEEDED',
    /maxTrainingMemoryBytes/,
  );
  assert.ok(Date.now() - t0 < 10_000, `refusals took ${Date.now() - t0} ms`);
  await stillServing();
  const listed = await client.listExperiments();
  assert.deepEqual(listed.map((e) => e.id), []);
});

test('unknown schedule and optimizer enum values are INVALID_ARGUMENT, never stored as a default', async () => {
  const spec = tinySpec();
  for (const schedule of [99, -1]) {
    await assertStatus(createWith('e1', { ...spec, training: { ...spec.training, schedule } }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /spec\.training\.schedule value must be one of the defined enum values/);
  }
  for (const optimizer of [7, -1]) {
    await assertStatus(createWith('e2', { ...spec, training: { ...spec.training, optimizer } }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /spec\.training\.optimizer value must be one of the defined enum values/);
  }
  await assertStatus(
    createWith('e3', { ...spec, training: { ...spec.training, dataset: { ...spec.training.dataset, format: 42, path: '/x' } } }),
    S.INVALID_ARGUMENT,
    'INVALID_DATASET',
    /spec\.training\.dataset\.format value must be one of the defined enum values, got 42/,
  );
});

test('a 100 KB experiment id comes back NOT_FOUND with a short message', async () => {
  const experimentId = 'x'.repeat(100_000);
  for (const call of [
    () => client.getExperiment(experimentId),
    () => client.sampleSubnet({ experimentId }),
    () => client.deleteExperiment(experimentId),
  ]) {
    const err = await assertStatus(call(), S.NOT_FOUND, 'EXPERIMENT_NOT_FOUND', /100000 characters/);
    assert.ok(err.details.length < 300, `${err.details.length} characters`);
  }
  const err = await assertStatus(createWith('é'.repeat(50_000), tinySpec()), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /must match/);
  assert.ok(err.details.length < 300, `${err.details.length} characters`);
});

test('string fields are bounded on input', async () => {
  const spec = tinySpec();
  await assertStatus(createWith('d1', { ...spec, displayName: 'n'.repeat(2 * 1024 * 1024) }), S.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /spec\.display_name must be at most 1024 bytes, got 2097152 bytes/);
  await assertStatus(createWith('d2', { ...spec, strategy: { id: 'u'.repeat(10_000) } }), S.INVALID_ARGUMENT, 'UNKNOWN_STRATEGY', /spec\.strategy\.id must be at most 256 bytes, got 10000 bytes/);
  await assertStatus(
    createWith('d3', { ...spec, training: { ...spec.training, dataset: { ...spec.training.dataset, name: 'f'.repeat(5000) } } }),
    S.INVALID_ARGUMENT,
    'INVALID_DATASET',
    /spec\.training\.dataset\.name must be at most 256 bytes, got 5000 bytes/,
  );
  await assertStatus(
    client.reportMetric({ experimentId: 'nope', subnetId: 'x', metrics: { a: 1 }, clientId: 'c'.repeat(10_000) }),
    S.INVALID_ARGUMENT,
    'INVALID_ARGUMENT',
    /client_id must be at most 256 bytes, got 10000 bytes/,
  );
  await stillServing();
});

/**
 * One ListStrategies call written as raw HTTP/2 frames (Node's own client refuses to send a
 * single-value header twice). Resolves whether a response message (a DATA frame) came back.
 */
function rawListStrategies(port: number, authorization: string[]): Promise<boolean> {
  const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(stream, 5);
    return Buffer.concat([h, payload]);
  };
  const literal = (name: string, value: string) => Buffer.concat([Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  const headers = Buffer.concat([
    literal(':method', 'POST'),
    literal(':scheme', 'http'),
    literal(':path', '/supernetd.v1.SupernetService/ListStrategies'),
    literal(':authority', 'localhost'),
    literal('content-type', 'application/grpc'),
    literal('te', 'trailers'),
    ...authorization.map((a) => literal('authorization', a)),
  ]);
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let sawData = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no response'));
    }, 10_000);
    sock.on('error', reject);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const [type, flags] = [buf[3], buf[4] as number];
        const stream = buf.readUInt32BE(5) & 0x7fffffff;
        buf = buf.subarray(9 + len);
        if (type === 4 && (flags & 1) === 0) sock.write(frame(4, 1, 0, Buffer.alloc(0)));
        if (stream !== 1) continue;
        if (type === 0 && len > 0) sawData = true;
        if (((type === 0 || type === 1) && flags & 1) || type === 3) {
          clearTimeout(timer);
          sock.destroy();
          resolve(sawData);
          return;
        }
      }
    });
    sock.write(
      Buffer.concat([
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
        frame(4, 0, 0, Buffer.alloc(0)),
        frame(1, 4, 1, headers),
        frame(0, 1, 1, Buffer.from([0, 0, 0, 0, 0])),
      ]),
    );
  });
}

test('two authorization headers are rejected even when the first holds the token', async () => {
  assert.equal(await rawListStrategies(server.port, [`Bearer ${TOKEN}`]), true, 'the raw client works with one header');
  assert.equal(await rawListStrategies(server.port, [`Bearer ${TOKEN}`, 'Bearer wrong']), false);
  assert.equal(await rawListStrategies(server.port, [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]), false);
  await stillServing();
});
