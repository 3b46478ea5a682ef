// The buf.validate rules are evaluated once per distinct small request: a request whose wire bytes
// passed before is let through at once, over a real socket; an invalid request is refused every
// time with the same status; large requests keep no bytes and are always checked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create, toBinary } from '@bufbuild/protobuf';
import { MAX_KEPT_REQUEST_BYTES, ReportMetricRequestSchema, SampleSubnetRequestSchema, SupernetService, makeGrpcClientConstructor, requestBytesOf, toGrpcServiceDefinition } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { validationStats } from '../src/grpc/request-validation.ts';
import { tempDir } from './helpers.ts';

let server: RunningServer;
let client: grpc.Client & { sampleSubnet(req: unknown, cb: (err: grpc.ServiceError | null) => void): void };
const data = tempDir();

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
  const Client = makeGrpcClientConstructor(SupernetService);
  client = new Client(server.address, grpc.credentials.createInsecure()) as unknown as typeof client;
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

const sample = (init: Parameters<typeof create<typeof SampleSubnetRequestSchema>>[1]) =>
  new Promise<grpc.ServiceError | null>((resolve) => client.sampleSubnet(create(SampleSubnetRequestSchema, init), (err) => resolve(err)));

test('a request seen valid is let through without its rules; an invalid one is refused every time', async () => {
  const valid = { experimentId: 'no-such-experiment', count: 2 };
  const before = validationStats.skipped;
  // valid, so the handler runs: the experiment is unknown
  assert.equal((await sample(valid))?.code, grpc.status.NOT_FOUND);
  assert.equal(validationStats.skipped, before, 'the first time, the rules are evaluated');
  assert.equal((await sample(valid))?.code, grpc.status.NOT_FOUND);
  assert.equal((await sample(valid))?.code, grpc.status.NOT_FOUND);
  assert.equal(validationStats.skipped, before + 2, 'the same bytes again: let through at once');

  for (let i = 0; i < 3; i++) {
    const err = await sample({ experimentId: 'no-such-experiment', count: 65 });
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err!.details, /^count must be greater than or equal to 0 and less than or equal to 64, got 65 \[int32\.gte_lte\]$/);
  }
  assert.equal(validationStats.skipped, before + 2, 'invalid requests are never let through');
});

test('the server definition keeps the bytes of small requests only', () => {
  const def = toGrpcServiceDefinition(SupernetService);
  const small = Buffer.from(toBinary(SampleSubnetRequestSchema, create(SampleSubnetRequestSchema, { experimentId: 'e', count: 1 })));
  const msg = def.sampleSubnet.requestDeserialize(small);
  assert.equal(requestBytesOf(msg), small);
  assert.deepEqual(Object.keys(msg), Object.keys(create(SampleSubnetRequestSchema, {})), 'the bytes are no field of the message');
  const large = Buffer.from(toBinary(ReportMetricRequestSchema, create(ReportMetricRequestSchema, { experimentId: 'e', subnetId: 'x'.repeat(MAX_KEPT_REQUEST_BYTES) })));
  assert.equal(requestBytesOf(def.reportMetric.requestDeserialize(large)), undefined);
});
