import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScoreBoard, archKey, metricScore } from '../src/index.ts';
import type { Arch } from '../src/index.ts';

const arch = (a: number, resolution = 16): Arch => ({ resolution, width: { a } });

describe('metricScore', () => {
  it('prefers accuracy, falls back to -loss, and is undefined without a finite one', () => {
    assert.equal(metricScore({ accuracy: 0.7, loss: 0.2 }), 0.7);
    assert.equal(metricScore({ loss: 1.25 }), -1.25);
    assert.equal(metricScore({ accuracy: Number.NaN, loss: 2 }), -2);
    assert.equal(metricScore({ accuracy: Number.POSITIVE_INFINITY }), undefined);
    assert.equal(metricScore({ top5: 0.9 }), undefined);
    assert.equal(metricScore({}), undefined);
  });
});

describe('ScoreBoard', () => {
  it('inserts new subnets and blends repeated reports with lambda', () => {
    const b = new ScoreBoard(10, 0.75);
    assert.equal(b.update(arch(8), 0.4), undefined);
    assert.equal(b.get(arch(8)), 0.4);
    b.update({ width: { a: 8 }, resolution: 16 }, 0.8);
    // 0.75 * 0.4 + 0.25 * 0.8
    assert.equal(b.get(arch(8)), 0.5);
    assert.equal(b.size, 1);
    assert.equal(b.has(arch(8)), true);
    assert.equal(b.has(arch(16)), false);
    assert.equal(b.get(arch(16)), undefined);
  });

  it('over capacity evicts the lowest score, which may be the newcomer', () => {
    const b = new ScoreBoard(2, 0.9);
    b.update(arch(8), 0.5);
    b.update(arch(16), 0.7);
    assert.equal(b.update(arch(24), 0.6), archKey(arch(8)));
    assert.deepEqual(b.list().map((e) => e.arch.width['a']), [16, 24]);
    assert.equal(b.update(arch(32), 0.1), archKey(arch(32)));
    assert.equal(b.has(arch(32)), false);
    assert.equal(b.size, 2);
  });

  it('evicts the earliest inserted among equal lowest scores', () => {
    const b = new ScoreBoard(2, 0.9);
    b.update(arch(16), 0.5);
    b.update(arch(8), 0.5);
    assert.equal(b.update(arch(24), 0.9), archKey(arch(16)));
  });

  it('lists in insertion order and ranks by score, ties by key', () => {
    const b = new ScoreBoard(10, 0.5);
    b.update(arch(24), 0.2);
    b.update(arch(8), 0.9);
    b.update(arch(16), 0.2);
    b.update(arch(8, 20), 0.5);
    assert.deepEqual(b.list().map((e) => archKey(e.arch)), [arch(24), arch(8), arch(16), arch(8, 20)].map(archKey));
    assert.deepEqual(
      b.ranked().map((e) => [archKey(e.arch), e.score]),
      [
        ['{"resolution":16,"width":{"a":8}}', 0.9],
        ['{"resolution":20,"width":{"a":8}}', 0.5],
        ['{"resolution":16,"width":{"a":16}}', 0.2],
        ['{"resolution":16,"width":{"a":24}}', 0.2],
      ],
    );
  });

  it('best() is the highest-ranked entry that passes the filter', () => {
    const b = new ScoreBoard(10, 0.5);
    assert.equal(b.best(), undefined);
    b.update(arch(8), 0.3);
    b.update(arch(24), 0.8);
    b.update(arch(16), 0.6);
    assert.equal(b.best()?.arch.width['a'], 24);
    assert.equal(b.best((a) => (a.width['a'] as number) < 24)?.arch.width['a'], 16);
    assert.equal(b.best(() => false), undefined);
  });

  it('toJSON and restore round-trip through JSON, keeping order and scores', () => {
    const b = new ScoreBoard(3, 0.9);
    b.update(arch(8), 0.3);
    b.update(arch(24), 0.8);
    b.update(arch(8), 0.5);
    const saved = JSON.parse(JSON.stringify(b.toJSON())) as ReturnType<ScoreBoard['toJSON']>;
    const c = new ScoreBoard(3, 0.9);
    c.update(arch(40), 1);
    c.restore(saved);
    assert.deepEqual(c.toJSON(), b.toJSON());
    assert.equal(c.has(arch(40)), false);
    // The restored board blends and evicts as the original does.
    for (const x of [b, c]) {
      x.update(arch(24), 0.1);
      x.update(arch(16), 0.4);
      x.update(arch(32), 0.35);
    }
    assert.deepEqual(c.toJSON(), b.toJSON());
  });

  it('toJSON does not expose the live entries', () => {
    const b = new ScoreBoard(3, 0.9);
    b.update(arch(8), 0.3);
    b.toJSON()[0]!.score = 99;
    assert.equal(b.get(arch(8)), 0.3);
  });
});
