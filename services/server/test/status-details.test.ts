// Every failed call carries google.rpc.Status in grpc-status-details-bin: ErrorInfo (reason, domain,
// metadata naming the field or limit), RequestInfo, and BadRequest for INVALID_ARGUMENT; decoded
// here from the trailer the TypeScript client's grpc-js channel receives.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ERROR_DOMAIN, STATUS_DETAILS_KEY, decodeStatusDetails, encodeTensor } from '@supernetd/api';
import { InvalidArgumentError, NotFoundError } from '@supernetd/sdk';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { errorMetadata, leadingField } from '../src/errors/to-status.ts';
import { connectClient, tempDir, tinySpec } from './helpers.ts';
import { SupernetdError } from '@supernetd/client';
import type { SupernetdClient } from '@supernetd/client';

let server: RunningServer;
let client: SupernetdClient;
const data = tempDir();
const EXP = 'details';

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', maxTensorElements: 1000 });
  client = connectClient(server.address);
  await client.createExperiment({ experimentId: EXP, spec: tinySpec() });
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

async function details(p: Promise<unknown>, code: grpc.status) {
  // the grpc-js error the client's SupernetdError was made from: the trailer itself
  const err = await p.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => (e instanceof SupernetdError ? e.cause : e) as grpc.ServiceError,
  );
  assert.equal(grpc.status[err.code], grpc.status[code], err.details);
  const bin = err.metadata.get(STATUS_DETAILS_KEY)[0];
  assert.ok(Buffer.isBuffer(bin), `no ${STATUS_DETAILS_KEY} trailer`);
  const d = decodeStatusDetails(bin);
  assert.ok(d, 'the trailer is a google.rpc.Status with an ErrorInfo');
  assert.equal(d.code, err.code);
  assert.equal(d.message, err.details);
  assert.equal(d.domain, ERROR_DOMAIN);
  assert.equal(d.requestId, err.metadata.get('x-request-id')[0]);
  assert.equal(err.metadata.get('supernetd-error-reason')[0], d.reason, 'the compatibility echo agrees');
  return d;
}

test('NOT_FOUND names the id field in ErrorInfo and carries no BadRequest', async () => {
  const d = await details(client.getExperiment('nope'), grpc.status.NOT_FOUND);
  assert.equal(d.reason, 'ERROR_REASON_EXPERIMENT_NOT_FOUND');
  assert.deepEqual(d.metadata, { field: 'experiment_id' });
  assert.deepEqual(d.fieldViolations, []);
  const s = await details(client.reportMetric({ experimentId: EXP, subnetId: 'sn-none', metrics: { accuracy: 1 } }), grpc.status.NOT_FOUND);
  assert.equal(s.reason, 'ERROR_REASON_SUBNET_NOT_FOUND');
  assert.equal(s.metadata.field, 'subnet_id');
});

test('INVALID_ARGUMENT carries a BadRequest field violation and the limit it broke', async () => {
  const d = await details(client.sampleSubnet({ experimentId: EXP, count: 65 }), grpc.status.INVALID_ARGUMENT);
  assert.equal(d.reason, 'ERROR_REASON_INVALID_ARGUMENT');
  assert.deepEqual(d.metadata, { field: 'count', limitValue: '64' });
  assert.deepEqual(d.fieldViolations, [{ field: 'count', description: d.message }]);
  const c = await details(
    client.sampleSubnet({ experimentId: EXP, constraint: { kind: 1, target: -1 } }),
    grpc.status.INVALID_ARGUMENT,
  );
  assert.equal(c.reason, 'ERROR_REASON_INVALID_CONSTRAINT');
  assert.equal(c.fieldViolations[0]?.field, 'constraint.target');
});

test('RESOURCE_EXHAUSTED names the configured limit and its value', async () => {
  const images = encodeTensor(new Float32Array(2 * 28 * 28), [2, 28, 28, 1]);
  const labels = encodeTensor(new Int32Array(2), [2]);
  const d = await details(
    client.trainStep({ experimentId: EXP, input: { case: 'batch', value: { images, labels } } }),
    grpc.status.RESOURCE_EXHAUSTED,
  );
  assert.equal(d.reason, 'ERROR_REASON_LIMIT_EXCEEDED');
  assert.equal(d.metadata.limit, 'max_tensor_elements');
  assert.equal(d.metadata.limitValue, '1000');
  assert.equal(d.metadata.field, 'batch.images');
});

test('a message names a field only when every segment is a field of the API', () => {
  assert.equal(leadingField('spec.training.batch_size must be positive'), 'spec.training.batch_size');
  assert.equal(leadingField('page_token is not a token this server issued'), 'page_token');
  assert.equal(leadingField('no dataset named x'), undefined);
  assert.equal(leadingField('metric names must not be empty'), undefined);
  assert.deepEqual(errorMetadata(new NotFoundError('EXPERIMENT_NOT_FOUND', "experiment 'x' not found")), { field: 'experiment_id' });
  assert.deepEqual(errorMetadata(new InvalidArgumentError('bad').with({ field: 'metrics' })), { field: 'metrics' });
});
