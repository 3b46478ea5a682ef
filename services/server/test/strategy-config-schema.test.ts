// Each built-in strategy's published config schema agrees with its config reader: the same keys,
// the same defaults, and every per-key rule refused by both with the same message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidConfigError } from '@supernetd/sdk';
import type { JsonSchema, StrategyFactory } from '@supernetd/sdk';
import { strategy as cafenet } from '@supernetd/strategy-cafenet';
import { strategy as dna } from '@supernetd/strategy-dna';
import { strategy as pss } from '@supernetd/strategy-pss';
import { strategy as sandwich } from '@supernetd/strategy-sandwich';
import { strategy as uniform } from '@supernetd/strategy-uniform';
import { compileConfigSchema } from '../src/strategies/strategy-config-schema.ts';

type Path = (string | number)[];

/** `{}` with `value` at `path` (objects all the way). */
function configWith(path: Path, value: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let at = root;
  for (const [i, k] of path.entries()) {
    if (i === path.length - 1) at[k] = value;
    else at = (at[k] = {}) as Record<string, unknown>;
  }
  return root;
}

/** A value the schema accepts on its own: the default, else one built from the rules. */
function validValue(s: JsonSchema): unknown {
  if (s['default'] !== undefined) return structuredClone(s['default']);
  if (Array.isArray(s['enum'])) return s['enum'][0];
  switch (s['type']) {
    case 'integer':
    case 'number':
      return typeof s['minimum'] === 'number' ? s['minimum'] : typeof s['exclusiveMinimum'] === 'number' ? s['exclusiveMinimum'] + 1 : 1;
    case 'boolean':
      return true;
    case 'string':
      return 'x';
    case 'object':
      return {};
    case 'array': {
      const items = s['items'] as JsonSchema;
      const n = typeof s['minItems'] === 'number' ? s['minItems'] : 1;
      return Array.from({ length: n }, (_, i) => (items['type'] === 'string' && !items['enum'] ? `x${i}` : validValue(items)));
    }
    default:
      throw new Error(`no valid value for ${JSON.stringify(s)}`);
  }
}

/** Values that break exactly one rule of a number schema. */
function numberViolations(s: JsonSchema): unknown[] {
  const out: unknown[] = ['x', null];
  const min = s['minimum'] as number | undefined;
  const max = s['maximum'] as number | undefined;
  const above = s['exclusiveMinimum'] as number | undefined;
  if (s['type'] === 'integer') out.push((min ?? 0) + 0.5);
  if (min !== undefined) out.push(min - 1);
  if (max !== undefined) out.push(max + 1);
  if (above !== undefined) out.push(above);
  return out;
}

/** Every config that breaks one per-key rule of the schema, with the path it breaks. */
function violations(props: Record<string, JsonSchema>, prefix: Path = []): { path: Path; config: Record<string, unknown> }[] {
  const out: { path: Path; config: Record<string, unknown> }[] = [];
  const add = (path: Path, value: unknown) => out.push({ path, config: configWith(path, value) });
  for (const [key, s] of Object.entries(props)) {
    const path = [...prefix, key];
    switch (s['type'] ?? (Array.isArray(s['enum']) ? 'string' : undefined)) {
      case 'integer':
      case 'number':
        for (const v of numberViolations(s)) add(path, v);
        break;
      case 'boolean':
        add(path, 'yes');
        break;
      case 'string':
        add(path, 5);
        add(path, Array.isArray(s['enum']) ? 'nope' : '');
        break;
      case 'object':
        add(path, 5);
        add(path, [1]);
        if (s['properties']) {
          add([...path, 'noSuchKey'], 1);
          out.push(...violations(s['properties'] as Record<string, JsonSchema>, path));
        }
        break;
      case 'array': {
        const items = s['items'] as JsonSchema;
        const ok = validValue(s) as unknown[];
        add(path, 5);
        if (typeof s['minItems'] === 'number') add(path, ok.slice(0, s['minItems'] - 1));
        if (typeof s['maxItems'] === 'number') add(path, [...ok, ...ok, ok[0]].slice(0, s['maxItems'] + 1));
        if (s['uniqueItems'] === true) add(path, [ok[0], ok[0]]);
        const bad = items['type'] === 'string' ? [5, Array.isArray(items['enum']) ? 'nope' : ''] : numberViolations(items);
        for (const b of bad) add(path, [b, ...ok.slice(1)]);
        break;
      }
      default:
        assert.fail(`${path.join('.')}: no type in ${JSON.stringify(s)}`);
    }
  }
  return out;
}

function messageOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof InvalidConfigError, `expected InvalidConfigError, got ${String(e)}`);
    return e.message;
  }
}

for (const factory of [uniform, sandwich, pss, cafenet, dna] as StrategyFactory[]) {
  describe(`${factory.id}: the config schema agrees with the config reader`, () => {
    const schema = factory.configSchema as JsonSchema;
    const props = schema['properties'] as Record<string, JsonSchema>;
    const check = compileConfigSchema(factory, 'builtin');

    test('same keys and defaults', () => {
      assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(schema['additionalProperties'], false);
      const parsed = factory.parseConfig({}) as Record<string, unknown>;
      // every key the reader fills is in the schema, with the reader's default
      for (const [key, value] of Object.entries(parsed)) {
        assert.ok(props[key], `'${key}' is missing from the schema`);
        assert.deepEqual(props[key]['default'] ?? {}, value, `default of '${key}'`);
      }
      // every key of the schema is one the reader reads, and its default is the reader's
      for (const [key, s] of Object.entries(props)) {
        if (s['default'] !== undefined) assert.deepEqual(parsed[key], s['default'], `default of '${key}'`);
        const value = validValue(s);
        check({ [key]: value });
        const refused = messageOf(() => factory.parseConfig({ [key]: value }));
        assert.ok(refused === undefined || !refused.includes(`${key}: unknown key`), `the reader does not know '${key}': ${refused}`);
      }
      const unknown = `invalid config for strategy '${factory.id}': noSuchKey: unknown key`;
      assert.equal(messageOf(() => factory.parseConfig({ noSuchKey: 1 })), unknown);
      assert.equal(messageOf(() => check({ noSuchKey: 1 })), `${unknown} (schema rule 'additionalProperties' at /noSuchKey)`);
    });

    test('every per-key rule is refused by both, in the same words', () => {
      const cases = violations(props);
      assert.ok(cases.length >= Object.keys(props).length);
      for (const { path, config } of cases) {
        const byReader = messageOf(() => factory.parseConfig(config));
        const bySchema = messageOf(() => check(config));
        assert.ok(byReader !== undefined, `the reader accepts ${JSON.stringify(config)}`);
        assert.ok(bySchema !== undefined, `the schema accepts ${JSON.stringify(config)}`);
        const m = /^(.*) \(schema rule '([A-Za-z]+)' at (\/\S*)\)$/.exec(bySchema);
        assert.ok(m, `no rule in '${bySchema}'`);
        assert.equal(m[1], byReader, `${JSON.stringify(config)}`);
        assert.ok(m[3]!.startsWith(`/${path.slice(0, -1).join('/')}`), `${m[3]} is not under ${path.join('/')}`);
      }
    });

    test('the defaults and the bounds themselves are accepted', () => {
      check(JSON.parse(JSON.stringify(factory.parseConfig({}))));
      for (const [key, s] of Object.entries(props)) {
        for (const bound of [s['minimum'], s['maximum']]) if (typeof bound === 'number') check({ [key]: bound });
      }
    });
  });
}

test('the schema check refuses non-objects as the reader does', () => {
  const check = compileConfigSchema(uniform, 'builtin');
  for (const raw of [42, 'x', [1]]) {
    assert.equal(messageOf(() => check(raw)), `${messageOf(() => uniform.parseConfig(raw))} (schema rule 'type' at /)`);
  }
});

test('a plug-in without a schema is checked by its parser alone; a broken schema is refused at registration', () => {
  const bare: StrategyFactory = { ...uniform, id: 'bare' };
  delete (bare as { configSchema?: JsonSchema }).configSchema;
  compileConfigSchema(bare, 'x')({ anything: 1 });
  assert.throws(
    () => compileConfigSchema({ ...uniform, id: 'broken', configSchema: { type: 'object', minProperties: 'two' } }, 'pkg'),
    /strategy 'broken' from 'pkg' has an invalid configSchema/,
  );
  const draft07 = compileConfigSchema(
    { ...uniform, id: 'old', configSchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'integer', maximum: 3 } } } },
    'pkg',
  );
  assert.throws(() => draft07({ n: 4 }), /^Error: invalid config for strategy 'old': n: must be <= 3, got 4 \(schema rule 'maximum' at \/n\)$|n: must be <= 3, got 4/);
});
