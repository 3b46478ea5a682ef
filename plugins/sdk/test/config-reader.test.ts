// The config reader's messages reach clients verbatim (INVALID_ARGUMENT, INVALID_STRATEGY_CONFIG),
// so they are checked word for word.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigReader, InvalidConfigError, readEvolutionSearchConfig } from '../src/index.ts';

/** Asserts that `f` throws InvalidConfigError for strategy 's' with exactly `message` after the prefix. */
function refuses(f: () => unknown, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof InvalidConfigError, `expected InvalidConfigError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.reason, 'INVALID_STRATEGY_CONFIG');
    assert.equal(e.message, `invalid config for strategy 's': ${message}`);
    return true;
  });
}

const reader = (raw: unknown) => new ConfigReader('s', raw);

describe('ConfigReader: the config itself', () => {
  it('reads undefined and null as an empty config', () => {
    for (const raw of [undefined, null]) {
      const r = reader(raw);
      assert.equal(r.number('n', 3), 3);
      r.done();
    }
  });

  it('refuses anything but an object', () => {
    for (const raw of [42, 'x', true, [1]]) refuses(() => reader(raw), 'config: must be an object');
  });

  it('done() names the first key no getter read', () => {
    const r = reader({ a: 1, typo: 2, other: 3 });
    r.number('a', 0);
    refuses(() => r.done(), 'typo: unknown key');
  });

  it('counts a key as read even when it held the default', () => {
    const r = reader({ a: 1 });
    r.number('a', 1);
    r.done();
  });
});

describe('ConfigReader: numbers', () => {
  it('returns the default when absent and the value when valid', () => {
    const r = reader({ x: 2.5, i: 4 });
    assert.equal(r.number('x', 1), 2.5);
    assert.equal(r.number('i', 1, { min: 1, max: 4, integer: true }), 4);
    assert.equal(r.number('absent', 7), 7);
    assert.equal(r.optionalNumber('absent2'), undefined);
    r.done();
  });

  it('refuses non-numbers (quoted as JSON) and NaN or infinities (named)', () => {
    refuses(() => reader({ x: '1' }).number('x', 0), 'x: must be a finite number, got "1"');
    refuses(() => reader({ x: null }).number('x', 0), 'x: must be a finite number, got null');
    refuses(() => reader({ x: Number.POSITIVE_INFINITY }).number('x', 0), 'x: must be a finite number, got Infinity');
    refuses(() => reader({ x: Number.NEGATIVE_INFINITY }).number('x', 0), 'x: must be a finite number, got -Infinity');
    refuses(() => reader({ x: Number.NaN }).optionalNumber('x'), 'x: must be a finite number, got NaN');
    refuses(() => reader({ l: [1, Number.NaN] }).numberList('l', undefined), 'l[1]: must be a finite number, got NaN');
    refuses(() => reader({ x: [1] }).number('x', 0), 'x: must be a finite number, got [1]');
  });

  it('checks integer, min, max and the exclusive lower bound, in that order', () => {
    refuses(() => reader({ n: 1.5 }).number('n', 1, { integer: true, min: 2 }), 'n: must be an integer, got 1.5');
    refuses(() => reader({ n: 0 }).number('n', 1, { min: 1 }), 'n: must be >= 1, got 0');
    refuses(() => reader({ n: 11 }).number('n', 1, { max: 10 }), 'n: must be <= 10, got 11');
    refuses(() => reader({ n: 0 }).number('n', 1, { above: 0 }), 'n: must be > 0, got 0');
    refuses(() => reader({ n: -2 }).optionalNumber('n', { above: -1 }), 'n: must be > -1, got -2');
    assert.equal(reader({ n: 1e-9 }).number('n', 1, { above: 0 }), 1e-9);
    assert.equal(reader({ n: 10 }).number('n', 1, { min: 10, max: 10 }), 10);
  });
});

describe('ConfigReader: booleans, enums and strings', () => {
  it('booleans', () => {
    assert.equal(reader({ b: false }).boolean('b', true), false);
    assert.equal(reader({}).boolean('b', true), true);
    refuses(() => reader({ b: 'true' }).boolean('b', false), 'b: must be true or false, got "true"');
    refuses(() => reader({ b: 1 }).boolean('b', false), 'b: must be true or false, got 1');
  });

  it('oneOf lists the allowed values', () => {
    assert.equal(reader({ m: 'free' }).oneOf('m', 'leftmost', ['leftmost', 'free']), 'free');
    assert.equal(reader({}).oneOf('m', 'leftmost', ['leftmost', 'free']), 'leftmost');
    refuses(() => reader({ m: 'Free' }).oneOf('m', 'leftmost', ['leftmost', 'free']), 'm: must be one of leftmost, free, got "Free"');
    refuses(() => reader({ m: 1 }).oneOf('m', 'leftmost', ['leftmost', 'free']), 'm: must be one of leftmost, free, got 1');
  });

  it('optionalString refuses empty and non-strings', () => {
    assert.equal(reader({ s: 'mbv2' }).optionalString('s'), 'mbv2');
    assert.equal(reader({}).optionalString('s'), undefined);
    refuses(() => reader({ s: '' }).optionalString('s'), 's: must be a non-empty string, got ""');
    refuses(() => reader({ s: 3 }).optionalString('s'), 's: must be a non-empty string, got 3');
  });
});

describe('ConfigReader: objects and lists', () => {
  it('optionalObject returns a copy and refuses non-objects', () => {
    const inner = { a: { b: 1 } };
    const got = reader({ o: inner }).optionalObject('o');
    assert.deepEqual(got, inner);
    assert.notEqual(got, inner);
    (got as { a: { b: number } }).a.b = 2;
    assert.equal(inner.a.b, 1);
    assert.equal(reader({}).optionalObject('o'), undefined);
    refuses(() => reader({ o: [1] }).optionalObject('o'), 'o: must be an object, got [1]');
    refuses(() => reader({ o: null }).optionalObject('o'), 'o: must be an object, got null');
  });

  it('numberList checks length and each entry by index', () => {
    assert.deepEqual(reader({ l: [1, 2] }).numberList('l', undefined, { min: 0 }), [1, 2]);
    assert.deepEqual(reader({}).numberList('l', [5]), [5]);
    refuses(() => reader({ l: 3 }).numberList('l', undefined), 'l: must be a list of numbers, got 3');
    refuses(() => reader({ l: [1] }).numberList('l', undefined, {}, { min: 2 }), 'l: needs at least 2 entries');
    refuses(() => reader({ l: [1, 2, 3] }).numberList('l', undefined, {}, { max: 2 }), 'l: allows at most 2 entries');
    refuses(() => reader({ l: [1, -1] }).numberList('l', undefined, { min: 0 }), 'l[1]: must be >= 0, got -1');
    refuses(() => reader({ l: [1, 'a'] }).numberList('l', undefined), 'l[1]: must be a finite number, got "a"');
  });

  it('stringList refuses empty lists, empty strings, values outside the allowed set and duplicates', () => {
    assert.deepEqual(reader({ l: ['flops', 'params'] }).stringList('l', undefined, ['flops', 'params', 'latency']), ['flops', 'params']);
    assert.deepEqual(reader({}).stringList('l', ['x']), ['x']);
    refuses(() => reader({ l: [] }).stringList('l', undefined), 'l: must be a non-empty list, got []');
    refuses(() => reader({ l: 'a' }).stringList('l', undefined), 'l: must be a non-empty list, got "a"');
    refuses(() => reader({ l: ['a', ''] }).stringList('l', undefined), 'l[1]: must be a non-empty string');
    refuses(() => reader({ l: ['a', 2] }).stringList('l', undefined), 'l[1]: must be a non-empty string');
    refuses(() => reader({ l: ['flops', 'mem'] }).stringList('l', undefined, ['flops', 'params']), 'l[1]: must be one of flops, params, got "mem"');
    refuses(() => reader({ l: ['a', 'b', 'a'] }).stringList('l', undefined), 'l[2]: duplicate "a"');
  });

  it('object reads a nested config whose keys and messages carry the path', () => {
    const r = reader({ teacher: { steps: 3, inner: { lr: 0.1 } } });
    const got = r.object('teacher', (t) => ({ steps: t.number('steps', 1), lr: t.object('inner', (i) => i.number('lr', 1)) }));
    assert.deepEqual(got, { steps: 3, lr: 0.1 });
    r.done();
    assert.deepEqual(reader({}).object('teacher', (t) => t.number('steps', 1)), 1);
    refuses(() => reader({ teacher: { steps: 0 } }).object('teacher', (t) => t.number('steps', 1, { min: 1 })), 'teacher.steps: must be >= 1, got 0');
    refuses(() => reader({ teacher: { steps: 1, stpes: 2 } }).object('teacher', (t) => t.number('steps', 1)), 'teacher.stpes: unknown key');
    refuses(
      () => reader({ teacher: { inner: { x: 1 } } }).object('teacher', (t) => t.object('inner', (i) => i.number('lr', 1))),
      'teacher.inner.x: unknown key',
    );
    refuses(() => reader({ teacher: 5 }).object('teacher', () => 0), 'teacher: must be an object');
    refuses(() => reader({ teacher: [] }).object('teacher', () => 0), 'teacher: must be an object');
    refuses(() => reader({ teacher: null }).object('teacher', () => 0), 'teacher: must be an object');
  });

  it('fail() throws with the key and the reader prefix', () => {
    refuses(() => reader({}).fail('k', 'is wrong'), 'k: is wrong');
    refuses(() => new ConfigReader('s', {}, 'outer.').fail('k', 'is wrong'), 'outer.k: is wrong');
  });
});

describe('readEvolutionSearchConfig', () => {
  it('fills the documented defaults', () => {
    const r = reader({});
    assert.deepEqual(readEvolutionSearchConfig(r), {
      searchPopulation: 16,
      searchGenerations: 6,
      searchTopK: 4,
      searchMutations: 8,
      searchCrossovers: 8,
      mutationProb: 0.1,
      minBudgetFraction: 0.9,
      recalibrationBatches: 9,
      fitnessImages: 512,
      validationImages: 2048,
    });
    r.done();
  });

  it('refuses values out of bounds, naming the key', () => {
    refuses(() => readEvolutionSearchConfig(reader({ searchPopulation: 0 })), 'searchPopulation: must be >= 1, got 0');
    refuses(() => readEvolutionSearchConfig(reader({ searchGenerations: 2.5 })), 'searchGenerations: must be an integer, got 2.5');
    refuses(() => readEvolutionSearchConfig(reader({ mutationProb: 1.5 })), 'mutationProb: must be <= 1, got 1.5');
    refuses(() => readEvolutionSearchConfig(reader({ fitnessImages: 2_000_000 })), 'fitnessImages: must be <= 1000000, got 2000000');
    refuses(() => readEvolutionSearchConfig(reader({ minBudgetFraction: -0.1 })), 'minBudgetFraction: must be >= 0, got -0.1');
  });
});
