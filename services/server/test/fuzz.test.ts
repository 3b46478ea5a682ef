// Seeded fuzzing of every SupernetService RPC over real gRPC: valid requests are mutated
// field by field (huge, negative and non-finite numbers, unknown enum values, long strings, random
// bytes, missing or switched fields, hostile JSON in Struct fields) and sent one after another. A
// fixed number of requests bounds the run, not wall time. Every call must end with a status other
// than INTERNAL or UNKNOWN, within its deadline (a DEADLINE_EXCEEDED is a hang), and the server must
// answer Health afterwards. FUZZ_SEED and FUZZ_REQUESTS override the seed and count.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ScalarType, create, toBinary } from '@bufbuild/protobuf';
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { ConstraintKind, SupernetService, encodeTensor } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import type { SupernetdClient } from '@supernetd/client';
import { connect, connectClient, tempDir, tinySpec } from './helpers.ts';
import type { Methods, SupernetClient } from './helpers.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 12);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 300);
/**
 * Only a hang reaches it: on a machine loaded by other suites an ExportSubnet queued behind a
 * Train call on the same experiment took over 30 s, which is slowness, not a hang.
 */
const DEADLINE_MS = 120_000;
/** Train calls asking for more steps than this may run into their (short) deadline: that is the deadline working. */
const LONG_TRAIN_STEPS = 20;
const LONG_TRAIN_DEADLINE_MS = 2_000;
const BASE = 'fuzz-base';

let server: RunningServer;
let client: SupernetdClient;
let stub: SupernetClient;
const data = tempDir();
let subnetId = '';

/** mulberry32: a small seeded generator, so a failing run can be replayed with FUZZ_SEED. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

const SEARCH = { searchPopulation: 2, searchGenerations: 1, searchTopK: 1, searchMutations: 0, searchCrossovers: 0, recalibrationBatches: 1, fitnessImages: 16, validationImages: 16 };

const spec = () => tinySpec({ config: SEARCH, totalSteps: 1000n });

const images = (n: number) => encodeTensor(new Float32Array(n * 28 * 28).fill(0.5), [n, 28, 28, 1]);
const labels = (n: number) => encodeTensor(Int32Array.from({ length: n }, (_, i) => i % 10), [n]);

/** One valid request per RPC (on the base experiment where one is needed). */
function validRequests(): { [K in keyof Methods]?: object } {
  const arch = { case: 'subnetId' as const, value: subnetId };
  return {
    createExperiment: { experimentId: 'fuzz-new', spec: spec() },
    getExperiment: { experimentId: BASE },
    listExperiments: { pageSize: 2 },
    deleteExperiment: { experimentId: 'fuzz-new' },
    listStrategies: {},
    sampleSubnet: { experimentId: BASE, count: 2, constraint: { kind: ConstraintKind.FLOPS, target: 5e6, tolerance: 0.5 } },
    reportMetric: { experimentId: BASE, subnetId, metrics: { accuracy: 0.5 }, clientId: 'fuzz' },
    listMetrics: { experimentId: BASE, afterSequence: 0n, limit: 5 },
    trainStep: { experimentId: BASE, input: { case: 'steps', value: 1 } },
    train: { experimentId: BASE, steps: 2, progressInterval: 1 },
    evaluate: { experimentId: BASE, target: arch, maxExamples: 16, batch: { images: images(4), labels: labels(4) } },
    exportSubnet: { experimentId: BASE, target: arch, chunkSize: 65536 },
  };
}

function numberFor(field: { scalar: ScalarType }, r: Rng): number | bigint | boolean | string | Uint8Array {
  switch (field.scalar) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return r.pick([Number.NaN, Infinity, -Infinity, -1, 0, 1e308, -1e308, 5e-324, 1e9, 0.5]);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return r.pick([-1, 0, 1, 2, 7, 2 ** 31 - 1, -(2 ** 31), 65535]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return r.pick([0, 1, 2, 2 ** 32 - 1, 2 ** 31]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return r.pick([-1n, 0n, 1n, 3n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n]);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return r.pick([0n, 1n, 2n ** 64n - 1n, 2n ** 53n + 1n]);
    case ScalarType.BOOL:
      return r.next() < 0.5;
    case ScalarType.STRING:
      return r.pick([
        '',
        'x'.repeat(100_000),
        '\u0000',
        '../../../etc/passwd',
        '/etc',
        'é'.repeat(3000),
        '\uD83D\uDE00'.repeat(100),
        BASE,
        subnetId,
        String.fromCharCode(...Array.from({ length: 12 }, () => 32 + r.int(95))),
      ]);
    case ScalarType.BYTES:
      return Uint8Array.from({ length: r.pick([0, 1, 3, 4096, 70_000]) }, () => r.int(256));
    default:
      return 0;
  }
}

/** Hostile JSON for Struct fields (search_space.overrides, strategy.config). */
function hostileJson(r: Rng, depth = 0): unknown {
  const choice = r.int(depth > 3 ? 4 : 7);
  switch (choice) {
    case 0:
      return r.pick([1e12, -1, 0, 1e308, 0.5, 4096, 2 ** 31]);
    case 1:
      return r.pick(['', 'x'.repeat(50_000), 'latency', 'custom', 'mbv1-small']);
    case 2:
      return r.next() < 0.5 ? null : true;
    case 3:
      return Array.from({ length: r.pick([0, 1, 3, 500]) }, () => r.pick([1e12, 28, -1, 0]));
    default: {
      const keys = ['inputShape', 'numClasses', 'resolutions', 'widths', 'definition', 'blocks', 'measureLatency', 'latencyTable', 'searchPopulation', 'fitnessImages', 'costKinds', 'maxMult', 'x'];
      const o: Record<string, unknown> = {};
      for (let i = 0, n = 1 + r.int(3); i < n; i++) o[r.pick(keys)] = hostileJson(r, depth + 1);
      return o;
    }
  }
}

function randomValue(field: DescField, r: Rng, depth: number): unknown {
  switch (field.fieldKind) {
    case 'scalar':
      return numberFor(field, r);
    case 'enum':
      return r.pick([99, -1, 2 ** 31 - 1, ...field.enum.values.map((v) => v.number)]);
    case 'message':
      if (field.message.typeName === 'google.protobuf.Struct') return hostileJson(r, 2);
      return depth > 4 ? create(field.message) : mutate(field.message, create(field.message), r, depth + 1);
    case 'list': {
      const n = r.pick([0, 1, 5, 64]);
      return Array.from({ length: n }, () => {
        if (field.listKind === 'scalar') return numberFor(field, r);
        if (field.listKind === 'enum') return r.pick([99, -1, 0, 1]);
        return depth > 4 ? create(field.message) : mutate(field.message, create(field.message), r, depth + 1);
      });
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (let i = 0, n = r.pick([0, 1, 3, 80]); i < n; i++) {
        const key = r.pick(['', 'accuracy', 'x'.repeat(300), `k${i}`, 'latency', 'nonesuch']);
        if (field.mapKind === 'scalar') out[key] = numberFor(field, r);
        else if (field.mapKind === 'enum') out[key] = r.pick([99, 0]);
        else out[key] = depth > 4 ? create(field.message) : mutate(field.message, create(field.message), r, depth + 1);
      }
      return out;
    }
  }
}

/** Mutates 1-3 fields of `msg` in place (recursing into sub-messages); returns it. */
function mutate(desc: DescMessage, msg: Record<string, unknown>, r: Rng, depth = 0): Record<string, unknown> {
  if (desc.fields.length === 0) return msg;
  for (let i = 0, n = 1 + r.int(3); i < n; i++) {
    const field = r.pick(desc.fields);
    const missing = r.next() < 0.2;
    if (field.oneof) {
      msg[field.oneof.localName] = missing ? { case: undefined } : { case: field.localName, value: randomValue(field, r, depth) };
      continue;
    }
    const current = msg[field.localName];
    if (missing) {
      msg[field.localName] = field.fieldKind === 'message' ? undefined : create(desc)[field.localName as never];
    } else if (field.fieldKind === 'message' && field.message.typeName !== 'google.protobuf.Struct' && current && r.next() < 0.6) {
      mutate(field.message, current as Record<string, unknown>, r, depth + 1);
    } else {
      msg[field.localName] = randomValue(field, r, depth);
    }
  }
  return msg;
}

/**
 * Sends one request; resolves with its status code (OK included) and details. Through the bare
 * generated stub on a default channel, not the client: the mutated messages go out as they are
 * (no request id filled in, no retry, grpc-js's default 4 MiB receive limit), and every method,
 * streaming ones included, is called the same way.
 */
function send(method: keyof Methods, msg: object, deadlineMs: number): Promise<{ code: grpc.status; details: string }> {
  const desc = SupernetService.method[method];
  const deadline = Date.now() + deadlineMs;
  return new Promise((resolve) => {
    const c = stub as unknown as Record<string, (...a: unknown[]) => grpc.ClientReadableStream<unknown>>;
    if (desc.methodKind === 'server_streaming') {
      const stream = c[method]!.call(stub, msg, new grpc.Metadata(), { deadline });
      stream.on('data', () => undefined);
      stream.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
      stream.on('end', () => resolve({ code: grpc.status.OK, details: '' }));
    } else {
      c[method]!.call(stub, msg, new grpc.Metadata(), { deadline }, (e: grpc.ServiceError | null) =>
        resolve(e ? { code: e.code, details: e.details } : { code: grpc.status.OK, details: '' }),
      );
    }
  });
}

/** grpc.health.v1.Health/Check for the whole server, by hand: true when SERVING. */
function healthy(address: string): Promise<boolean> {
  const Ctor = grpc.makeGenericClientConstructor(
    {
      check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: () => Buffer.alloc(0),
        requestDeserialize: () => ({}),
        responseSerialize: () => Buffer.alloc(0),
        responseDeserialize: (b: Buffer) => b,
      },
    },
    'Health',
  );
  const c = new Ctor(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    c.check({}, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res?: Buffer) => {
      c.close();
      // HealthCheckResponse { status: SERVING (1) } is the bytes 08 01
      resolve(!err && !!res && res.length === 2 && res[0] === 0x08 && res[1] === 0x01);
    });
  });
}

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', maxExperiments: 4, maxLiveWorkers: 3 });
  client = connectClient(server.address);
  stub = connect(server.address);
  await client.createExperiment({ experimentId: BASE, spec: spec() });
  await client.trainStep({ experimentId: BASE, input: { case: 'steps', value: 1 } });
  subnetId = (await client.sampleSubnet({ experimentId: BASE }))[0]!.id;
});

after(async () => {
  client?.close();
  stub?.close();
  await server?.stop();
  data.remove();
});

test(`fuzz: ${REQUESTS} mutated requests over every RPC (seed ${SEED}) end with a proper status, in time, and the server stays healthy`, async (t) => {
  const r = rng(SEED);
  const valid = validRequests();
  const methods = Object.keys(valid) as (keyof Methods)[];
  const failures: string[] = [];
  const codes = new Map<string, number>();
  let sent = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const method = methods[i % methods.length]!;
    const desc = SupernetService.method[method].input;
    const msg = create(desc, valid[method] as never) as unknown as Record<string, unknown>;
    // a few stay valid, to reach the deeper paths between the mutated ones
    if (r.next() < 0.85) mutate(desc, msg, r);
    // the base experiment serves the whole run: only fuzz-created ones may be deleted
    if (method === 'deleteExperiment' && msg.experimentId === BASE) msg.experimentId = 'fuzz-new';
    try {
      toBinary(desc, msg as never);
    } catch {
      continue; // not encodable on the wire (the client would refuse it), so not a request
    }
    const steps = method === 'train' ? Number(msg.steps) : method === 'trainStep' && (msg.input as { case?: string }).case === 'steps' ? Number((msg.input as { value: number }).value) : 0;
    const long = steps > LONG_TRAIN_STEPS;
    const started = performance.now();
    const res = await send(method, msg, long ? LONG_TRAIN_DEADLINE_MS : DEADLINE_MS);
    sent++;
    const name = grpc.status[res.code] ?? String(res.code);
    codes.set(`${method} ${name}`, (codes.get(`${method} ${name}`) ?? 0) + 1);
    const ms = Math.round(performance.now() - started);
    if (res.code === grpc.status.INTERNAL || res.code === grpc.status.UNKNOWN) failures.push(`#${i} ${method}: ${name} ${res.details}`);
    if (res.code === grpc.status.DEADLINE_EXCEEDED && !long) failures.push(`#${i} ${method}: hung (DEADLINE_EXCEEDED after ${ms} ms)`);
  }
  t.diagnostic(`${sent} requests sent; ${[...codes].sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  assert.deepEqual(failures, [], `seed ${SEED}`);
  assert.ok(sent >= REQUESTS * 0.8, `only ${sent} of ${REQUESTS} requests could be encoded`);
  assert.equal(await healthy(server.address), true, 'the server still answers Health');
  const again = await client.getExperiment(BASE, { timeoutMs: 10_000 });
  assert.equal(again.id, BASE, 'and still serves');
});
