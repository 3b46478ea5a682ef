// Every built-in strategy runs behind the real server: create, one training step in its worker,
// samples from its serving replica, a metric forwarded to both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConstraintKind } from '@supernetd/api';
import { serverForFile, tinySpec } from './helpers.ts';

const t = serverForFile();

test('ListStrategies names the five built-ins', async () => {
  const list = await t.client.listStrategies();
  const builtins = list.filter((s) => s.origin === 'builtin').map((s) => s.id);
  assert.deepEqual(builtins, ['cafenet', 'dna', 'pss', 'sandwich', 'uniform']);
  assert.ok(list.every((s) => s.description.length > 0));
});

for (const id of ['sandwich', 'pss', 'cafenet', 'dna']) {
  test(`${id}: create, train a step, sample under a budget, report a metric`, async () => {
    const spec = tinySpec({ strategy: id });
    if (id === 'dna') spec.searchSpace = { preset: 'dna-small' };
    await t.client.createExperiment({ experimentId: id, spec });
    const step = await t.client.trainStep({ experimentId: id, input: { case: 'steps', value: 1 } });
    assert.equal(step.step, 1n);
    const maxParams = (await t.client.sampleSubnet({ experimentId: id, count: 1 }))[0]?.cost?.params ?? 0;
    const s = await t.client.sampleSubnet({ experimentId: id, count: 2, constraint: { kind: ConstraintKind.PARAMS, target: maxParams * 1.5 } });
    assert.equal(s.length, 2);
    const rep = await t.client.reportMetric({ experimentId: id, subnetId: s[0]!.id, metrics: { accuracy: 0.3 } });
    assert.equal(rep, 1n);
    const exp = await t.client.getExperiment(id);
    assert.equal(exp?.step, 1n);
    assert.ok(exp?.phase, 'the strategy phase is reported');
    await t.client.deleteExperiment(id);
  });
}
