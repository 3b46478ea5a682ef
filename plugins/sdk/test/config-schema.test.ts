// ConfigReader.schemaOf: the JSON Schema a parser's getters describe, key by key, with defaults,
// nested objects and the errors of a parser it cannot describe. ListStrategies sends these schemas
// to clients, so they are compared whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_SCHEMA_DIALECT, ConfigReader, InvalidConfigError } from '../src/index.ts';

/** A parser using every getter once, with a nested object and a rule between keys. */
function parseEvery(raw: unknown) {
  const r = new ConfigReader('every', raw);
  const cfg = {
    steps: r.number('steps', 10, { min: 1, integer: true }),
    rate: r.number('rate', 0.5, { above: 0, max: 1 }),
    seed: r.optionalNumber('seed', { min: 0, integer: true }),
    fast: r.boolean('fast', false),
    mode: r.oneOf('mode', 'a', ['a', 'b'] as const),
    label: r.optionalString('label'),
    extra: r.optionalObject('extra'),
    grid: r.numberList('grid', [1, 2], { min: 0 }, { min: 1, max: 4 }),
    kinds: r.stringList('kinds', ['flops'], ['flops', 'params'] as const),
    tags: r.stringList('tags', undefined),
    inner: r.object('inner', (o) => ({ depth: o.number('depth', 2, { min: 1 }), on: o.boolean('on', true) })),
  };
  if (cfg.rate > 0.9 && cfg.fast) r.fail('rate', 'must be <= 0.9 when fast');
  r.done();
  return cfg;
}

describe('ConfigReader.schemaOf', () => {
  it('describes every key a parser reads: type, bounds, allowed values and default', () => {
    assert.deepEqual(ConfigReader.schemaOf(parseEvery), {
      $schema: CONFIG_SCHEMA_DIALECT,
      title: "config of strategy 'every'",
      type: 'object',
      additionalProperties: false,
      properties: {
        steps: { type: 'integer', minimum: 1, default: 10 },
        rate: { type: 'number', maximum: 1, exclusiveMinimum: 0, default: 0.5 },
        seed: { type: 'integer', minimum: 0 },
        fast: { type: 'boolean', default: false },
        mode: { enum: ['a', 'b'], default: 'a' },
        label: { type: 'string', minLength: 1 },
        extra: { type: 'object' },
        grid: { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 1, maxItems: 4, default: [1, 2] },
        kinds: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['flops', 'params'] }, default: ['flops'] },
        tags: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
        inner: {
          type: 'object',
          additionalProperties: false,
          properties: { depth: { type: 'number', minimum: 1, default: 2 }, on: { type: 'boolean', default: true } },
        },
      },
    });
  });

  it('copies defaults, so the schema does not alias what the parser returns', () => {
    const grid = [1, 2];
    const schema = ConfigReader.schemaOf((raw) => {
      const r = new ConfigReader('s', raw);
      const out = r.numberList('grid', grid);
      r.done();
      return out;
    });
    grid.push(3);
    assert.deepEqual((schema['properties'] as Record<string, { default: unknown }>)['grid']?.default, [1, 2]);
  });

  it('describes the first top-level reader only; readers built after it record nothing', () => {
    const schema = ConfigReader.schemaOf((raw) => {
      const first = new ConfigReader('first', raw);
      first.number('a', 1);
      const second = new ConfigReader('second', raw);
      second.number('b', 2);
    });
    assert.equal(schema['title'], "config of strategy 'first'");
    assert.deepEqual(Object.keys(schema['properties'] as object), ['a']);
  });

  it('throws when the parser builds no ConfigReader', () => {
    assert.throws(() => ConfigReader.schemaOf(() => ({ fixed: true })), /the parser built no ConfigReader/);
  });

  it("passes on the parser's refusal of the empty config, and leaves no schema pending", () => {
    const refusing = (raw: unknown) => {
      const r = new ConfigReader('strict', raw);
      if (r.optionalString('required') === undefined) r.fail('required', 'is required');
    };
    assert.throws(() => ConfigReader.schemaOf(refusing), InvalidConfigError);
    assert.throws(() => ConfigReader.schemaOf(() => {
      throw new Error('parser broke before reading');
    }), /parser broke before reading/);
    // A failed call does not break the next one.
    const schema = ConfigReader.schemaOf((raw) => new ConfigReader('next', raw).boolean('x', true));
    assert.equal(schema['title'], "config of strategy 'next'");
  });
});
