// ListStrategies publishes each built-in strategy's config schema; a client validates a config with
// it before calling, and CreateExperiment refuses what the schema refuses, naming the path and rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { assertStatus, serverForFile, tinySpec } from './helpers.ts';

const t = serverForFile();

/** A config breaking one bound of the schema: its first property with a `minimum`, set below it. */
function belowMinimum(schema: Record<string, unknown>): { key: string; config: Record<string, unknown>; min: number } {
  const props = schema['properties'] as Record<string, Record<string, unknown>>;
  const [key, s] = Object.entries(props).find(([, p]) => typeof p['minimum'] === 'number')!;
  const min = s['minimum'] as number;
  return { key, config: { [key]: min - 1 }, min };
}

test('each built-in strategy publishes a JSON Schema a client validates with', async () => {
  const list = await t.client.listStrategies();
  const builtins = list.filter((s) => s.origin === 'builtin');
  assert.deepEqual(builtins.map((s) => s.id), ['cafenet', 'dna', 'pss', 'sandwich', 'uniform']);
  for (const info of builtins) {
    const schema = JSON.parse(info.configSchemaJson) as Record<string, unknown>;
    assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema', info.id);
    const validate = new Ajv2020({ strict: true }).compile(schema);
    const defaults = Object.fromEntries(
      Object.entries(schema['properties'] as Record<string, { default?: unknown }>).flatMap(([k, p]) => (p.default === undefined ? [] : [[k, p.default]])),
    );
    assert.ok(Object.keys(defaults).length > 0, info.id);
    assert.ok(validate(defaults), `${info.id}: ${JSON.stringify(validate.errors)}`);
    assert.equal(validate({ noSuchKey: 1 }), false, info.id);
    const bad = belowMinimum(schema);
    assert.equal(validate(bad.config), false, `${info.id}: ${JSON.stringify(bad.config)}`);
    assert.equal(validate.errors?.[0]?.keyword, 'minimum');

    // the server refuses the same config, naming the key, the bound and the rule
    const err = await assertStatus(
      t.client.createExperiment({ experimentId: `bad-${info.id}`, spec: tinySpec({ strategy: info.id, config: bad.config }) }),
      grpc.status.INVALID_ARGUMENT,
      'INVALID_STRATEGY_CONFIG',
      new RegExp(`^invalid config for strategy '${info.id}': ${bad.key}: must be >= ${bad.min}, got ${bad.min - 1} \\(schema rule 'minimum' at /${bad.key}\\)$`),
    );
    assert.equal(err.metadata['configPath'], `/${bad.key}`);
    assert.equal(err.metadata['schemaRule'], 'minimum');
  }
});

test('a nested path and a list entry are named as the reader names them', async () => {
  await assertStatus(
    t.client.createExperiment({ experimentId: 'nested', spec: tinySpec({ strategy: 'pss', config: { targets: { flops: { step: 0 } } } }) }),
    grpc.status.INVALID_ARGUMENT,
    'INVALID_STRATEGY_CONFIG',
    /: targets\.flops\.step: must be >= 1, got 0 \(schema rule 'minimum' at \/targets\/flops\/step\)$/,
  );
  await assertStatus(
    t.client.createExperiment({ experimentId: 'entry', spec: tinySpec({ strategy: 'pss', config: { pRange: [1, 2] } }) }),
    grpc.status.INVALID_ARGUMENT,
    'INVALID_STRATEGY_CONFIG',
    /: pRange\[1\]: must be <= 1, got 2 \(schema rule 'maximum' at \/pRange\/1\)$/,
  );
});

test('a config the schema accepts still meets the strategy\'s rules between keys, and a valid one is created', async () => {
  await assertStatus(
    t.client.createExperiment({ experimentId: 'cross', spec: tinySpec({ strategy: 'cafenet', config: { population: 2, topK: 3 } }) }),
    grpc.status.INVALID_ARGUMENT,
    'INVALID_STRATEGY_CONFIG',
    /topK: must not exceed population \(2\)$/,
  );
  const created = await t.client.createExperiment({ experimentId: 'ok', spec: tinySpec({ strategy: 'uniform', config: { searchPopulation: 8 } }) });
  assert.equal(created.id, 'ok');
  const spec = (await t.client.getExperiment('ok')).spec;
  assert.equal((spec?.strategy?.config as Record<string, unknown> | undefined)?.['searchPopulation'], 8);
  await t.client.deleteExperiment('ok');
});
