// The CallRunner's unary path over a real socket: a handler that answers at once and one that
// returns a promise both succeed; a synchronous throw, a rejection, a refused token and a failed
// validation each become the call's status with the request id (the caller's, else a new one) in
// the trailers; every call is counted once under its method and code.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import pino from 'pino';
import { GetExperimentResponseSchema, ListStrategiesResponseSchema, SupernetService, makeGrpcClientConstructor, toGrpcServiceDefinition } from '@supernetd/api';
import { InvalidArgumentError, NotFoundError } from '@supernetd/sdk';
import { CallRunner } from '../src/grpc/call-runner.ts';
import { ServerMetrics } from '../src/observability/server-metrics.ts';

const metrics = new ServerMetrics();
const runner = new CallRunner('secret', pino({ level: 'silent' }), metrics, (req) => {
  if ((req as { experimentId?: string }).experimentId === 'invalid') throw new InvalidArgumentError('experiment_id is invalid', 'INVALID_ARGUMENT');
});
const server = new grpc.Server();
let client: grpc.Client & Record<string, (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void>;

before(async () => {
  server.addService(toGrpcServiceDefinition(SupernetService) as unknown as grpc.ServiceDefinition, {
    // answers at once, or throws at once
    listStrategies: runner.unary('ListStrategies', () => create(ListStrategiesResponseSchema, { strategies: [{ id: 'sync' }] })),
    // answers through a promise, or rejects; 'throw' throws before returning one
    getExperiment: runner.unary('GetExperiment', (req: { experimentId: string }) => {
      if (req.experimentId === 'throw') throw new NotFoundError('EXPERIMENT_NOT_FOUND', 'thrown at once');
      return new Promise((resolve, reject) =>
        setImmediate(() => (req.experimentId === 'reject' ? reject(new NotFoundError('EXPERIMENT_NOT_FOUND', 'rejected later')) : resolve(create(GetExperimentResponseSchema, {})))),
      );
    }),
  } as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const Client = makeGrpcClientConstructor(SupernetService);
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as typeof client;
});

after(() => {
  client?.close();
  server.forceShutdown();
});

function call(method: string, req: unknown, md: Record<string, string> = { authorization: 'Bearer secret' }): Promise<{ err: grpc.ServiceError | null; res: unknown }> {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  const input = (SupernetService.method as unknown as Record<string, { input: Parameters<typeof create>[0] }>)[method]!.input;
  return new Promise((resolve) => client[method]!(create(input, req as never), metadata, (err, res) => resolve({ err, res })));
}

const counted = async (method: string, code: string) =>
  (await metrics.rpcTotal.get()).values.find((v) => v.labels.method === method && v.labels.code === code)?.value ?? 0;

test('a handler that answers at once and one that answers through a promise both succeed', async () => {
  const sync = await call('listStrategies', {});
  assert.equal(sync.err, null);
  assert.equal((sync.res as { strategies: { id: string }[] }).strategies[0]?.id, 'sync');
  const later = await call('getExperiment', { experimentId: 'ok' });
  assert.equal(later.err, null);
  assert.equal(await counted('ListStrategies', 'OK'), 1);
  assert.equal(await counted('GetExperiment', 'OK'), 1);
});

test("a throw, a rejection, a bad token and a failed validation are the call's status, with the request id", async () => {
  const thrown = await call('getExperiment', { experimentId: 'throw' }, { authorization: 'Bearer secret', 'x-request-id': 'req-1' });
  assert.equal(thrown.err?.code, grpc.status.NOT_FOUND);
  assert.match(thrown.err!.details, /thrown at once/);
  assert.deepEqual(thrown.err!.metadata.get('x-request-id'), ['req-1']);

  const rejected = await call('getExperiment', { experimentId: 'reject' });
  assert.equal(rejected.err?.code, grpc.status.NOT_FOUND);
  assert.match(rejected.err!.details, /rejected later/);
  // no id sent: a new UUID
  const id = rejected.err!.metadata.get('x-request-id')[0];
  assert.match(String(id), /^[0-9a-f-]{36}$/);

  const unauthenticated = await call('listStrategies', {}, { authorization: 'Bearer wrong' });
  assert.equal(unauthenticated.err?.code, grpc.status.UNAUTHENTICATED);

  const invalid = await call('getExperiment', { experimentId: 'invalid' });
  assert.equal(invalid.err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(invalid.err!.details, /experiment_id is invalid/);

  assert.equal(await counted('GetExperiment', 'NOT_FOUND'), 2);
  assert.equal(await counted('ListStrategies', 'UNAUTHENTICATED'), 1);
  assert.equal(await counted('GetExperiment', 'INVALID_ARGUMENT'), 1);
});
