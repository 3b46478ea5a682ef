// Runs against the server clients/run-tests.sh starts (SUPERNETD_ADDR); skipped without one
// unless SUPERNETD_REQUIRE_SERVER is set.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ErrorReason } from '../src/index.ts';
import { runSearch } from '../examples/search-loop.ts';
import { SupernetdClient, SupernetdError, flops } from '../src/index.ts';

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

test('UNAVAILABLE is retried, then reported', async () => {
  // Nothing listens on loopback port 1: every attempt fails with UNAVAILABLE.
  let attempts = 0;
  const counting: grpc.Interceptor = (options, next) => {
    attempts++;
    return new grpc.InterceptingCall(next(options));
  };
  const client = new SupernetdClient({
    address: '127.0.0.1:1',
    retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 1, multiplier: 2 },
    timeoutMs: 10_000,
    channelOptions: { interceptors: [counting] },
  });
  try {
    await assert.rejects(client.listStrategies(), (err: unknown) => err instanceof SupernetdError && err.code === grpc.status.UNAVAILABLE);
    assert.equal(attempts, 3);
  } finally {
    client.close();
  }
});
