// Runs against the server clients/run-tests.sh starts (SUPERNETD_ADDR); skipped without one
// unless SUPERNETD_REQUIRE_SERVER is set.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ErrorReason, ExperimentState, ReportMetricRequestSchema, ReportMetricResponseSchema } from '../src/index.ts';
import { runSearch } from '../examples/search-loop.ts';
import { DEFAULT_RETRY_POLICY, SupernetdClient, SupernetdError, flops, serviceConfig } from '../src/index.ts';

const address = process.env.SUPERNETD_ADDR;
if (!address && process.env.SUPERNETD_REQUIRE_SERVER) throw new Error('SUPERNETD_ADDR is not set');
const skip = address ? false : 'SUPERNETD_ADDR is not set; run clients/run-tests.sh';

test('the search loop exports a model per budget', { skip }, async () => {
  const client = new SupernetdClient({ address: address ?? '' });
  const out = await mkdtemp(join(tmpdir(), 'supernetd-ts-'));
  try {
    const written = await runSearch(client, out, { trainSteps: 1, batchSize: 8, budgets: 1 });
    assert.equal(written.size, 1);
    const [files] = [...written.values()];
    assert.ok(files?.some((f) => basename(f) === 'model.json'), String(files));
    for (const f of files ?? []) assert.ok((await stat(f)).size > 0, `${f} is empty`);
  } finally {
    client.close();
    await rm(out, { recursive: true, force: true });
  }
});

test('an unknown experiment is NOT_FOUND with reason EXPERIMENT_NOT_FOUND', { skip }, async () => {
  const client = new SupernetdClient({ address: address ?? '' });
  try {
    await assert.rejects(client.getExperiment('no-such-experiment'), (err: unknown) => {
      assert.ok(err instanceof SupernetdError);
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.equal(err.reason, ErrorReason.EXPERIMENT_NOT_FOUND);
      assert.equal(err.reasonName, 'ERROR_REASON_EXPERIMENT_NOT_FOUND');
      assert.match(err.message, /ERROR_REASON_EXPERIMENT_NOT_FOUND/);
      return true;
    });
    // Streams report the reason too.
    await assert.rejects(
      client.exportSubnet({ experimentId: 'no-such-experiment', target: { case: 'constraint', value: flops(1e7) } }),
      (err: unknown) => err instanceof SupernetdError && err.reason === ErrorReason.EXPERIMENT_NOT_FOUND,
    );
  } finally {
    client.close();
  }
});

test('a call without the token is UNAUTHENTICATED', { skip: skip || (process.env.SUPERNETD_TOKEN ? false : 'no token') }, async () => {
  const client = new SupernetdClient({ address: address ?? '', token: '' });
  try {
    await assert.rejects(
      client.listExperiments(),
      (err: unknown) =>
        err instanceof SupernetdError && err.code === grpc.status.UNAUTHENTICATED && err.reason === ErrorReason.UNAUTHENTICATED,
    );
  } finally {
    client.close();
  }
});

/** A small experiment (uniform over mbv2-small, batch size 8); the caller deletes it. */
async function createExperiment(client: SupernetdClient): Promise<string> {
  const e = await client.createExperiment({
    spec: { searchSpace: { preset: 'mbv2-small' }, strategy: { id: 'uniform' }, training: { batchSize: 8 } },
  });
  return e.id;
}

test('error details are decoded from the standard google.rpc.Status', { skip }, async () => {
  const client = new SupernetdClient({ address: address ?? '' });
  try {
    await assert.rejects(client.getExperiment('no-such-experiment'), (err: unknown) => {
      assert.ok(err instanceof SupernetdError);
      assert.equal(err.domain, 'supernetd.dev');
      assert.deepEqual(err.metadata, { field: 'experiment_id' });
      assert.ok(err.requestId !== '', 'RequestInfo names the id the server logged the call under');
      return true;
    });
    const exp = await createExperiment(client);
    try {
      await assert.rejects(client.sampleSubnet({ experimentId: exp, count: 65 }), (err: unknown) => {
        assert.ok(err instanceof SupernetdError);
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(err.reason, ErrorReason.INVALID_ARGUMENT);
        assert.deepEqual(err.metadata, { field: 'count', limitValue: '64' });
        assert.deepEqual(err.fieldViolations, [{ field: 'count', description: err.details }]);
        return true;
      });
    } finally {
      await client.deleteExperiment(exp);
    }
  } finally {
    client.close();
  }
});

test('TrainStep while a Train stream runs is ABORTED / TRAINING_IN_PROGRESS', { skip }, async () => {
  const client = new SupernetdClient({ address: address ?? '' });
  try {
    const exp = await createExperiment(client);
    try {
      const events = client.train({ experimentId: exp, steps: 100_000, progressInterval: 1 });
      await events.next(); // training is running
      try {
        await assert.rejects(client.trainStep({ experimentId: exp, input: { case: 'steps', value: 1 } }), (err: unknown) => {
          assert.ok(err instanceof SupernetdError);
          assert.equal(err.code, grpc.status.ABORTED);
          assert.equal(err.reason, ErrorReason.TRAINING_IN_PROGRESS);
          return true;
        });
      } finally {
        await events.return(undefined);
      }
      while ((await client.getExperiment(exp)).state === ExperimentState.TRAINING) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.deleteExperiment(exp);
    }
  } finally {
    client.close();
  }
});

test('the retry policy is the service config, for the safe calls only', () => {
  const config = JSON.parse(serviceConfig(DEFAULT_RETRY_POLICY)) as {
    methodConfig: { name: { method: string }[]; retryPolicy: { maxAttempts: number; retryableStatusCodes: string[] } }[];
  };
  assert.equal(config.methodConfig.length, 1);
  const methods = config.methodConfig[0]!.name.map((n) => n.method);
  for (const m of ['ReportMetric', 'TrainStep', 'CreateExperiment', 'DeleteExperiment', 'GetExperiment', 'SampleSubnet']) assert.ok(methods.includes(m), m);
  assert.ok(!methods.includes('Train'), 'a repeated Train would train again');
  assert.equal(config.methodConfig[0]!.retryPolicy.maxAttempts, 5);
  assert.deepEqual(config.methodConfig[0]!.retryPolicy.retryableStatusCodes, ['UNAVAILABLE']);
  assert.deepEqual(JSON.parse(serviceConfig({ ...DEFAULT_RETRY_POLICY, maxAttempts: 1 })), { methodConfig: [] });
});

test('a ReportMetric that gRPC retries after a lost reply is applied once', { skip }, async () => {
  const direct = new SupernetdClient({ address: address ?? '' });
  const upstream = new SupernetdClient({ address: address ?? '', retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 } });
  // a gRPC server in front of the real one that forwards ReportMetric and, the first time, drops
  // the server's reply and answers UNAVAILABLE: a reply lost after the metric was stored
  const requestIds: string[] = [];
  const raw = (b: Buffer) => b;
  const proxy = new grpc.Server();
  proxy.addService(
    {
      reportMetric: {
        path: '/supernetd.v1.SupernetService/ReportMetric',
        requestStream: false,
        responseStream: false,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      reportMetric: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const req = fromBinary(ReportMetricRequestSchema, call.request);
        requestIds.push(req.requestId);
        upstream.reportMetric(req).then(
          (sequence) => {
            if (requestIds.length === 1) callback({ code: grpc.status.UNAVAILABLE, details: 'the reply was lost' });
            else callback(null, Buffer.from(toBinary(ReportMetricResponseSchema, create(ReportMetricResponseSchema, { sequence }))));
          },
          (err: SupernetdError) => callback({ code: err.code, details: err.details }),
        );
      },
    },
  );
  const port = await new Promise<number>((res, rej) => proxy.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const lossy = new SupernetdClient({ address: `127.0.0.1:${port}`, tls: false });
  const exp = await createExperiment(direct);
  try {
    const [subnet] = await direct.sampleSubnet({ experimentId: exp });
    const sequence = await lossy.reportMetric({ experimentId: exp, subnetId: subnet!.id, metrics: { accuracy: 0.5 } });
    // gRPC retried the call (the service config's retryPolicy) with the same request id
    assert.equal(requestIds.length, 2, String(requestIds));
    assert.ok(requestIds[0] !== '' && requestIds[0] === requestIds[1]);
    const records = await direct.listMetrics({ experimentId: exp });
    assert.deepEqual(
      records.map((r) => r.sequence),
      [sequence],
      'stored once, answered with its sequence',
    );
    await assert.rejects(
      direct.reportMetric({ experimentId: exp, subnetId: subnet!.id, metrics: { accuracy: 0.9 }, requestId: requestIds[0]! }),
      (err: unknown) =>
        err instanceof SupernetdError &&
        err.code === grpc.status.ALREADY_EXISTS &&
        err.reason === ErrorReason.REQUEST_ID_REUSED &&
        err.metadata.field === 'request_id',
    );
  } finally {
    await direct.deleteExperiment(exp);
    lossy.close();
    upstream.close();
    direct.close();
    proxy.forceShutdown();
  }
});

test('an explicit 0 or false is sent and kept; an absent field takes the default', { skip }, async () => {
  assert.equal(flops(1e9).tolerance, undefined);
  assert.equal(flops(1e9, 0).tolerance, 0);
  const client = new SupernetdClient({ address: address ?? '' });
  const spec = { searchSpace: { preset: 'mbv2-small' }, strategy: { id: 'uniform' } };
  const plain = await client.createExperiment({ spec: { ...spec, training: { batchSize: 8, momentum: 0, nesterov: false, weightDecay: 0 } } });
  const byDefault = await client.createExperiment({ spec: { ...spec, training: { batchSize: 8 } } });
  try {
    const t = plain.spec?.training;
    assert.deepEqual([t?.momentum, t?.nesterov, t?.weightDecay], [0, false, 0]);
    const d = byDefault.spec?.training;
    assert.deepEqual([d?.momentum, d?.nesterov, d?.weightDecay], [0.9, true, 1e-4]);
    const [subnet] = await client.sampleSubnet({ experimentId: byDefault.id, constraint: flops(1e12, 0) });
    assert.ok(subnet!.cost!.flops <= 1e12);
  } finally {
    await client.deleteExperiment(plain.id);
    await client.deleteExperiment(byDefault.id);
    client.close();
  }
});
