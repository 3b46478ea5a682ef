// The --katib-port listener over real gRPC (health through Katib's own vendored health.proto) (the full controller replay with Katib's own Python stubs
// is integration-tests/katib, run by `npm run test:katib`), and the pure mapping functions.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { makeGrpcClientConstructor } from '@supernetd/api';
import {
  GetSuggestionsRequestSchema,
  HealthCheckResponse_ServingStatus,
  Health,
  HealthCheckRequestSchema,
  ObjectiveType,
  Suggestion,
  TrialSchema,
  TrialStatus_TrialConditionType,
  ValidateAlgorithmSettingsRequestSchema,
} from '@supernetd/api/katib';
import type { GetSuggestionsReply, Trial } from '@supernetd/api/katib';
import { startServer } from '../src/index.ts';
import type { RunningServer } from '../src/index.ts';
import { experimentIdForKatib, metricsOfObservation } from '../src/katib/katib-suggestion-service.ts';
import { connectClient, tempDir } from './helpers.ts';

const SETTINGS = {
  preset: 'mbv1-small',
  strategy: 'uniform',
  training: JSON.stringify({ dataset: { max_train_examples: 256, max_test_examples: 64 }, batch_size: 16, total_steps: 8 }),
  budgets: '8e5,1.6e6',
  train_steps_per_call: '4',
};

function experiment(settings: Record<string, string> = SETTINGS, name = 'unit-nas') {
  return {
    name,
    spec: {
      objective: { type: ObjectiveType.MAXIMIZE, objectiveMetricName: 'acc' },
      algorithm: { algorithmName: 'supernetd', algorithmSettings: Object.entries(settings).map(([n, value]) => ({ name: n, value })) },
    },
  };
}

const tmp = tempDir('supernetd-katib-');
let server: RunningServer;
const SuggestionClient = makeGrpcClientConstructor(Suggestion);
const HealthClient = makeGrpcClientConstructor(Health);
let katib: InstanceType<typeof SuggestionClient>;

function call<T>(fn: (cb: (err: grpc.ServiceError | null, res?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res as T))));
}

before(async () => {
  server = await startServer({ port: 0, katibPort: 0, dataDir: path.join(tmp.dir, 'data'), logLevel: 'warn', backend: 'wasm' });
  assert.ok(server.katibPort);
  katib = new SuggestionClient(`127.0.0.1:${server.katibPort}`, grpc.credentials.createInsecure());
});

after(async () => {
  katib?.close();
  await server?.stop();
  tmp.remove();
});

test('health answers SERVING for manager.v1beta1.Suggestion on the Katib port', async () => {
  const health = new HealthClient(`127.0.0.1:${server.katibPort}`, grpc.credentials.createInsecure());
  try {
    const res = await call<{ status: HealthCheckResponse_ServingStatus }>((cb) => health.check(create(HealthCheckRequestSchema, { service: 'manager.v1beta1.Suggestion' }), cb));
    assert.equal(res.status, HealthCheckResponse_ServingStatus.SERVING);
  } finally {
    health.close();
  }
});

test('ValidateAlgorithmSettings names the bad setting in INVALID_ARGUMENT', async () => {
  await call((cb) => katib.validateAlgorithmSettings(create(ValidateAlgorithmSettingsRequestSchema, { experiment: experiment() }), cb));
  for (const [change, named] of [
    [{ strategy: 'nope' }, 'strategy'],
    [{ preset: 'nope' }, 'preset'],
    [{ budgets: '1e6,x' }, 'budgets'],
    [{ strategy_config: '{' }, 'strategy_config'],
    [{ strategy: 'pss', strategy_config: '{"costKinds": ["flops", "latency"]}' }, 'strategy_config'],
    [{ typo_setting: '1' }, 'typo_setting'],
  ] as const) {
    await assert.rejects(
      call((cb) => katib.validateAlgorithmSettings(create(ValidateAlgorithmSettingsRequestSchema, { experiment: experiment({ ...SETTINGS, ...change }) }), cb)),
      (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && err.details.includes(`'${named}'`),
    );
  }
});

test('GetSuggestions: exact counts, budgets round-robin, each final observation reported once', async () => {
  const exp = experiment();
  const get = (trials: Trial[], current: number, total: number) =>
    call<GetSuggestionsReply>((cb) => katib.getSuggestions(create(GetSuggestionsRequestSchema, { experiment: exp, trials, currentRequestNumber: current, totalRequestNumber: total }), cb));
  const first = await get([], 3, 3);
  assert.equal(first.parameterAssignments.length, 3);
  const trials = first.parameterAssignments.map((pa, i) =>
    create(TrialSchema, {
      name: pa.trialName,
      spec: { parameterAssignments: { assignments: pa.assignments }, labels: pa.labels },
      status: { condition: i === 1 ? TrialStatus_TrialConditionType.RUNNING : TrialStatus_TrialConditionType.SUCCEEDED, observation: { metrics: [{ name: 'acc', value: `0.${i + 3}` }] } },
    }),
  );
  first.parameterAssignments.forEach((pa, i) => {
    const p = Object.fromEntries(pa.assignments.map((a) => [a.name, a.value]));
    const budget = [8e5, 1.6e6][i % 2] as number;
    assert.equal(Number(p.budget), budget);
    assert.ok(Number(p.flops) <= budget);
  });
  const second = await get(trials, 2, 5);
  assert.equal(second.parameterAssignments.length, 2);
  assert.equal(Number(second.parameterAssignments[0]?.assignments.find((a) => a.name === 'budget')?.value), 1.6e6);
  await get(trials, 1, 6);
  const api = connectClient(server.address);
  try {
    const records = await api.listMetrics({ experimentId: 'katib-unit-nas' });
    const katibRecords = records.filter((r) => r.clientId.startsWith('katib:'));
    assert.deepEqual(katibRecords.map((r) => r.clientId).sort(), [`katib:${trials[0]?.name}`, `katib:${trials[2]?.name}`].sort());
    assert.equal(katibRecords.find((r) => r.clientId === `katib:${trials[2]?.name}`)?.values.accuracy, 0.5);
  } finally {
    api.close();
  }
});

test('GetSuggestions reports nothing for a trial naming a subnet the experiment never handed out', async () => {
  const stray = create(TrialSchema, {
    name: 'stray',
    spec: { parameterAssignments: { assignments: [{ name: 'subnet_id', value: 'sn-0000000000000000' }] } },
    status: { condition: TrialStatus_TrialConditionType.SUCCEEDED, observation: { metrics: [{ name: 'acc', value: '0.9' }] } },
  });
  const reply = await call<GetSuggestionsReply>((cb) =>
    katib.getSuggestions(create(GetSuggestionsRequestSchema, { experiment: experiment(SETTINGS, 'stray-nas'), trials: [stray], currentRequestNumber: 1, totalRequestNumber: 1 }), cb),
  );
  assert.equal(reply.parameterAssignments.length, 1);
  const api = connectClient(server.address);
  try {
    const records = await api.listMetrics({ experimentId: 'katib-stray-nas' });
    assert.equal(records.length, 0);
  } finally {
    api.close();
  }
});

test('experimentIdForKatib is stable and always a valid experiment id', () => {
  assert.equal(experimentIdForKatib('mnist-nas'), 'katib-mnist-nas');
  const odd = experimentIdForKatib('My.Experiment.With.Dots-and-a-very-long-name-that-goes-past-the-limit-of-ids');
  assert.equal(odd, experimentIdForKatib('My.Experiment.With.Dots-and-a-very-long-name-that-goes-past-the-limit-of-ids'));
  assert.match(odd, /^[a-z0-9][a-z0-9-]{0,62}$/);
  assert.notEqual(experimentIdForKatib('a.b'), experimentIdForKatib('a-b'));
});

test('metricsOfObservation reports the objective as accuracy or loss and keeps the rest apart', () => {
  const t = (metrics: [string, string][]) => create(TrialSchema, { status: { observation: { metrics: metrics.map(([name, value]) => ({ name, value })) } } });
  assert.deepEqual(metricsOfObservation(t([['top1', '0.7'], ['loss', '0.9']]), { metric: 'top1', maximize: true }), { observed_loss: 0.9, top1: 0.7, accuracy: 0.7 });
  assert.deepEqual(metricsOfObservation(t([['val_loss', '0.4'], ['accuracy', '0.8']]), { metric: 'val_loss', maximize: false }), {
    observed_accuracy: 0.8,
    val_loss: 0.4,
    loss: 0.4,
  });
  assert.equal(metricsOfObservation(t([['top1', 'unavailable']]), { metric: 'top1', maximize: true }), undefined);
  assert.equal(metricsOfObservation(t([]), { metric: 'top1', maximize: true }), undefined);
});
