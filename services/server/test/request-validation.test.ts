// The buf.validate rules of proto/supernetd/v1, checked at the service edge: each violation is
// INVALID_ARGUMENT with the reason of the part it is about, ErrorInfo metadata naming the field and
// the bound, and a BadRequest field violation; as the TypeScript client's SupernetdError carries them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConstraintKind, ERROR_DOMAIN } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { connect, connectClient, tempDir, tinySpec, unary } from './helpers.ts';
import { SupernetdError } from '@supernetd/client';
import type { SupernetdClient } from '@supernetd/client';

let server: RunningServer;
let client: SupernetdClient;
const data = tempDir();
const EXP = 'rules';

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm' });
  client = connectClient(server.address);
  await client.createExperiment({ experimentId: EXP, spec: tinySpec() });
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

/** The INVALID_ARGUMENT a call fails with: message, reason, metadata and the field violation. */
async function violation(p: Promise<unknown>) {
  const err = await p.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => SupernetdError.from(e),
  );
  assert.equal(grpc.status[err.code], 'INVALID_ARGUMENT', err.details);
  assert.ok(err.reasonName, 'google.rpc.Status with an ErrorInfo');
  assert.equal(err.domain, ERROR_DOMAIN);
  assert.deepEqual(err.fieldViolations, [{ field: err.metadata.field, description: err.details }]);
  return { message: err.details, reason: err.reasonName.replace(/^ERROR_REASON_/, ''), metadata: err.metadata };
}

const createWith = (experimentId: string, patch: (s: ReturnType<typeof tinySpec>) => object) =>
  client.createExperiment({ experimentId, spec: patch(tinySpec()) as never });

test('a range names the field, the bound crossed and the value sent', async () => {
  assert.deepEqual(await violation(client.sampleSubnet({ experimentId: EXP, count: 65 })), {
    message: 'count must be greater than or equal to 0 and less than or equal to 64, got 65 [int32.gte_lte]',
    reason: 'INVALID_ARGUMENT',
    metadata: { field: 'count', limitValue: '64' },
  });
  const low = await violation(client.sampleSubnet({ experimentId: EXP, count: -1 }));
  assert.deepEqual(low.metadata, { field: 'count', limitValue: '0' }, 'below the range: the lower bound');
  const batch = await violation(createWith('r1', (s) => ({ ...s, training: { ...s.training, batchSize: 5000 } })));
  assert.deepEqual(batch.metadata, { field: 'spec.training.batch_size', limitValue: '4096' });
  assert.match(batch.message, /^spec\.training\.batch_size .* less than or equal to 4096, got 5000/);
  // a page size is sent on the bare stub: the client's listExperiments chooses none
  const stub = connect(server.address);
  const page = await violation(unary(stub, 'listExperiments', { pageSize: -3 }));
  stub.close();
  assert.deepEqual(page.metadata, { field: 'page_size', limitValue: '0' });
});

test('each part keeps its reason: dataset, search space, strategy, constraint, metric values', async () => {
  const dataset = await violation(createWith('r2', (s) => ({ ...s, training: { ...s.training, dataset: { name: 'n'.repeat(300) } } })));
  assert.deepEqual(dataset, {
    message: 'spec.training.dataset.name must be at most 256 bytes, got 300 bytes [string.max_bytes]',
    reason: 'INVALID_DATASET',
    metadata: { field: 'spec.training.dataset.name', limitValue: '256' },
  });
  const format = await violation(createWith('r3', (s) => ({ ...s, training: { ...s.training, dataset: { format: 42, path: '/x' } } })));
  assert.equal(format.reason, 'INVALID_DATASET');
  assert.deepEqual(format.metadata, { field: 'spec.training.dataset.format' });
  const preset = await violation(createWith('r4', (s) => ({ ...s, searchSpace: { preset: 'p'.repeat(257) } })));
  assert.equal(preset.reason, 'INVALID_SEARCH_SPACE');
  assert.deepEqual(preset.metadata, { field: 'spec.search_space.preset', limitValue: '256' });
  const strategy = await violation(createWith('r5', (s) => ({ ...s, strategy: { id: 's'.repeat(257) } })));
  assert.equal(strategy.reason, 'UNKNOWN_STRATEGY');
  const tolerance = await violation(
    client.evaluate({ experimentId: EXP, target: { case: 'constraint', value: { kind: ConstraintKind.FLOPS, target: 1e6, tolerance: 1 } } }),
  );
  assert.deepEqual(tolerance, {
    message: 'constraint.tolerance must be greater than or equal to 0 and less than 1, got 1 [double.gte_lt]',
    reason: 'INVALID_CONSTRAINT',
    metadata: { field: 'constraint.tolerance', limitValue: '1' },
  });
  const nan = await violation(client.reportMetric({ experimentId: EXP, subnetId: 'sn-x', metrics: { accuracy: Number.NaN } }));
  assert.deepEqual(nan, {
    message: 'metrics["accuracy"] must be finite, got NaN [double.finite]',
    reason: 'NON_FINITE_VALUE',
    metadata: { field: 'metrics["accuracy"]' },
  });
  const many = await violation(
    client.reportMetric({ experimentId: EXP, subnetId: 'sn-x', metrics: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i])) }),
  );
  assert.deepEqual(many.metadata, { field: 'metrics', limitValue: '64' });
});

test('rules are checked before the experiment is looked up, and a valid request passes them', async () => {
  const r = await violation(client.trainStep({ experimentId: 'no-such-experiment', input: { case: 'steps', value: 0 } }));
  assert.equal(r.metadata.field, 'steps');
  const ok = await client.sampleSubnet({ experimentId: EXP, count: 64 });
  assert.equal(ok.length, 64, 'the bound itself is allowed');
});
