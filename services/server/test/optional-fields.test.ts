// Fields with explicit presence (`optional` in the proto): over real gRPC, an explicit 0 or false is
// honoured and stored as sent, and an absent field takes the documented default.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConstraintKind, OptimizerKind } from '@supernetd/api';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { assertStatus, connectClient, tempDir, tinySpec } from './helpers.ts';
import type { SupernetdClient } from '@supernetd/client';

const FIXTURE = fileURLToPath(new URL('./fixtures/tolerance-echo-strategy.ts', import.meta.url));
let server: RunningServer;
let client: SupernetdClient;
const data = tempDir();

before(async () => {
  server = await startServer({ port: 0, dataDir: data.dir, logLevel: 'silent', backend: 'wasm', strategies: [FIXTURE] });
  client = connectClient(server.address);
});

after(async () => {
  client?.close();
  await server?.stop();
  data.remove();
});

type Training = Record<string, unknown>;
async function createWith(experimentId: string, training: Training) {
  const spec = tinySpec();
  const created = await client.createExperiment({ experimentId, spec: { ...spec, training: { ...spec.training, ...training } } });
  const got = await client.getExperiment(experimentId);
  assert.deepEqual(got?.spec?.training, created?.spec?.training, 'GetExperiment shows the spec CreateExperiment returned');
  return created.spec!.training!;
}

test('momentum, nesterov and weight_decay: absent takes the defaults, explicit 0 and false are kept', async () => {
  const defaults = await createWith('defaults', {});
  assert.equal(defaults.momentum, 0.9);
  assert.equal(defaults.nesterov, true);
  assert.equal(defaults.weightDecay, 1e-4);

  const plain = await createWith('plain-sgd', { momentum: 0, nesterov: false, weightDecay: 0 });
  assert.equal(plain.momentum, 0, 'an explicit momentum 0 is plain SGD, not the default 0.9');
  assert.equal(plain.nesterov, false);
  assert.equal(plain.weightDecay, 0, 'an explicit weight_decay 0 turns decay off');
  // the stored, resolved config is what the worker trains with: one step runs with it
  const step = await client.trainStep({ experimentId: 'plain-sgd', input: { case: 'steps', value: 1 } });
  assert.equal(step.step, 1n);
  assert.ok(Object.values(step.losses).every(Number.isFinite));

  const heavyBall = await createWith('heavy-ball', { momentum: 0.5, nesterov: false });
  assert.equal(heavyBall.momentum, 0.5);
  assert.equal(heavyBall.nesterov, false, 'an explicit false with a momentum set is kept');
  assert.equal(heavyBall.weightDecay, 1e-4);

  const momentumOnly = await createWith('momentum-only', { momentum: 0.5 });
  assert.equal(momentumOnly.nesterov, true, 'absent nesterov with a momentum above 0 takes the default true');
  const noMomentum = await createWith('no-momentum', { momentum: 0 });
  assert.equal(noMomentum.nesterov, false, 'absent nesterov with momentum 0 is false');

  const adam = await createWith('adam', { optimizer: OptimizerKind.ADAM, weightDecay: 0 });
  assert.equal(adam.momentum, undefined, 'Adam has no momentum: the echo leaves it absent');
  assert.equal(adam.nesterov, undefined);
  assert.equal(adam.weightDecay, 0);
});

test('explicit values out of range are INVALID_ARGUMENT naming the field and the bound', async () => {
  const spec = tinySpec();
  const createBad = (experimentId: string, training: Training) =>
    client.createExperiment({ experimentId, spec: { ...spec, training: { ...spec.training, ...training } } });
  await assertStatus(createBad('bad-a', { momentum: 0, nesterov: true }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /spec\.training\.nesterov needs a momentum above 0/);
  await assertStatus(createBad('bad-b', { momentum: 1 }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /spec\.training\.momentum must be greater than or equal to 0 and less than 1, got 1/);
  await assertStatus(createBad('bad-c', { weightDecay: -0.5 }), grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT', /spec\.training\.weight_decay must be greater than or equal to 0, got -0\.5/);
});

test('Constraint.tolerance: an explicit 0 reaches the strategy as 0, an absent one as absent', async () => {
  await client.createExperiment({ experimentId: 'tol', spec: { ...tinySpec(), strategy: { id: 'tolerance-echo' } } });
  const sample = async (constraint: object) => (await client.sampleSubnet({ experimentId: 'tol', constraint: constraint as never }))[0]!.source;
  const target = 1e9;
  assert.equal(await sample({ kind: ConstraintKind.FLOPS, target }), 'tolerance=absent');
  assert.equal(await sample({ kind: ConstraintKind.FLOPS, target, tolerance: 0 }), 'tolerance=0');
  assert.equal(await sample({ kind: ConstraintKind.FLOPS, target, tolerance: 0.25 }), 'tolerance=0.25');
  await assertStatus(
    sample({ kind: ConstraintKind.FLOPS, target, tolerance: 1 }),
    grpc.status.INVALID_ARGUMENT,
    'INVALID_CONSTRAINT',
    /constraint\.tolerance must be greater than or equal to 0 and less than 1, got 1/,
  );
});
