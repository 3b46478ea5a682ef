import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  ListStrategiesResponseSchema,
  SupernetService,
  TrainRequestSchema,
  TrainResponseSchema,
  grpcMethodDefinitions,
  makeGrpcClientConstructor,
  toGrpcServiceDefinition,
  withEncodedBytes,
  withEncoding,
} from '../src/index.ts';
import type { TrainResponse } from '../src/index.ts';

test('service definition: paths, streaming flags and binary round trip', () => {
  const def = toGrpcServiceDefinition(SupernetService);
  assert.equal(Object.keys(def).length, 12);
  assert.equal(def.sampleSubnet.path, '/supernetd.v1.SupernetService/SampleSubnet');
  assert.equal(def.train.responseStream, true);
  assert.equal(def.train.requestStream, false);
  assert.equal(def.trainStep.responseStream, false);
  const req = create(TrainRequestSchema, { experimentId: 'e', steps: 3 });
  assert.deepEqual(def.train.requestDeserialize(def.train.requestSerialize(req)), req);
});

test("the server's definition is the client's method definitions, with its own serializers", () => {
  const server = toGrpcServiceDefinition(SupernetService) as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;
  const client = grpcMethodDefinitions(SupernetService);
  assert.deepEqual(Object.keys(server), Object.keys(client));
  for (const [name, d] of Object.entries(client)) {
    const s = server[name]!;
    assert.deepEqual([s.path, s.requestStream, s.responseStream, s.originalName], [d.path, d.requestStream, d.responseStream, d.originalName], name);
  }
  // a message with attached bytes: the server sends them, the plain serializer encodes the message
  const msg = withEncoding(create(ListStrategiesResponseSchema, { strategies: [{ id: 'x' }] }), ListStrategiesResponseSchema);
  const cached = server.listStrategies!.responseSerialize(msg);
  assert.equal(server.listStrategies!.responseSerialize(msg), cached);
  const fresh = client.listStrategies!.responseSerialize(msg);
  assert.notEqual(fresh, cached);
  assert.deepEqual(fresh, cached);
});

test('withEncoding: the serializer sends the bytes made once, which decode to the message', () => {
  const def = toGrpcServiceDefinition(SupernetService);
  const msg = withEncoding(create(ListStrategiesResponseSchema, { strategies: [{ id: 'x', description: 'd', origin: 'builtin' }] }), ListStrategiesResponseSchema);
  const first = def.listStrategies.responseSerialize(msg);
  assert.equal(def.listStrategies.responseSerialize(msg), first, 'the same buffer, not encoded again');
  assert.deepEqual(def.listStrategies.responseDeserialize(first), create(ListStrategiesResponseSchema, { strategies: [{ id: 'x', description: 'd', origin: 'builtin' }] }));
  // the attached bytes are no field of the message
  assert.deepEqual(Object.keys(msg), Object.keys(create(ListStrategiesResponseSchema, {})));
});

test('withEncodedBytes: the serializer sends the bytes the caller attached, as they are', () => {
  const def = toGrpcServiceDefinition(SupernetService);
  const msg = create(ListStrategiesResponseSchema, { strategies: [{ id: 'x' }] });
  const bytes = Buffer.from(toBinary(ListStrategiesResponseSchema, msg));
  assert.equal(def.listStrategies.responseSerialize(withEncodedBytes(msg, bytes)), bytes);
  assert.deepEqual(Object.keys(msg), Object.keys(create(ListStrategiesResponseSchema, {})));
});

test('typed client and server talk over a real socket (unary and server streaming)', async () => {
  const server = new grpc.Server();
  const impl = {
    listStrategies: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, create(ListStrategiesResponseSchema, { strategies: [{ id: 'x', description: 'd', origin: 'builtin' }] })),
    train: (call: grpc.ServerWritableStream<{ steps: number }, TrainResponse>) => {
      for (let i = 1; i <= call.request.steps; i++) call.write(create(TrainResponseSchema, { step: BigInt(i), done: i === call.request.steps }));
      call.end();
    },
  };
  server.addService(toGrpcServiceDefinition(SupernetService) as unknown as grpc.ServiceDefinition, impl as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const Client = makeGrpcClientConstructor(SupernetService);
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const res = await new Promise<{ strategies: { id: string }[] }>((resolve, reject) =>
      client.listStrategies(create(SupernetService.method.listStrategies.input, {}), (e, r) => (e ? reject(e) : resolve(r as never))),
    );
    assert.equal(res.strategies[0]?.id, 'x');
    const steps: bigint[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = client.train(create(TrainRequestSchema, { experimentId: 'e', steps: 3 }));
      s.on('data', (m: TrainResponse) => steps.push(m.step));
      s.on('error', reject);
      s.on('end', resolve);
    });
    assert.deepEqual(steps, [1n, 2n, 3n]);
  } finally {
    client.close();
    server.forceShutdown();
  }
});
