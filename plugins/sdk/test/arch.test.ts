// Subnet keys and ids are persisted (pools in checkpoints, ids handed to clients), so their exact
// text is pinned here: a change to the canonical form must fail these tests, not pass silently.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { archKey, constraintKey, costOf, fits, makeDivisible, subnetId } from '../src/index.ts';
import type { Arch, Constraint, Cost } from '../src/index.ts';

/** The largest and the smallest subnet of the built-in mbv2-small space, written out. */
const mbv2SmallMax: Arch = { resolution: 28, width: { stem: 16, s1: 16, s2: 24, s3: 32, s4: 64, s5: 96 } };
const mbv2SmallMin: Arch = { resolution: 20, width: { stem: 8, s1: 8, s2: 8, s3: 8, s4: 16, s5: 24 } };

describe('archKey', () => {
  it('is the sorted-key JSON of resolution and widths', () => {
    assert.equal(archKey({ resolution: 32, width: { w1: 16, w0: 8 } }), '{"resolution":32,"width":{"w0":8,"w1":16}}');
    assert.equal(
      archKey(mbv2SmallMax),
      '{"resolution":28,"width":{"s1":16,"s2":24,"s3":32,"s4":64,"s5":96,"stem":16}}',
    );
  });

  it('includes kept channel indices and ops, sorted by key, with index lists in their given order', () => {
    const a: Arch = { resolution: 24, width: { 'b.c': 24, a: 8 }, channelIdx: { 'b.c': [0, 2, 5] }, op: { l2: 1, l1: 0 } };
    assert.equal(
      archKey(a),
      '{"channelIdx":{"b.c":[0,2,5]},"op":{"l1":0,"l2":1},"resolution":24,"width":{"a":8,"b.c":24}}',
    );
    assert.notEqual(archKey({ ...a, channelIdx: { 'b.c': [2, 0, 5] } }), archKey(a));
  });

  it('does not depend on the insertion order of any map', () => {
    const a: Arch = { resolution: 20, width: { x: 8, y: 16 }, op: { p: 2, q: 0 }, channelIdx: { x: [1], y: [0, 3] } };
    const b: Arch = { channelIdx: { y: [0, 3], x: [1] }, op: { q: 0, p: 2 }, width: { y: 16, x: 8 }, resolution: 20 };
    assert.equal(archKey(a), archKey(b));
  });

  it('treats empty channelIdx/op maps and undefined entries as absent', () => {
    const plain = archKey({ resolution: 32, width: { w0: 8 } });
    assert.equal(archKey({ resolution: 32, width: { w0: 8 }, channelIdx: {}, op: {} }), plain);
    const withUndefined = { resolution: 32, width: { w0: 8, w1: undefined } } as unknown as Arch;
    assert.equal(archKey(withUndefined), plain);
  });

  it('orders keys by UTF-16 code unit (not locale, not numeric) and escapes them as JSON', () => {
    assert.equal(
      archKey({ resolution: 32, width: { 'é"\\': 8, Z: 1, a: 2, '10': 3, '9': 4 } }),
      '{"resolution":32,"width":{"10":3,"9":4,"Z":1,"a":2,"é\\"\\\\":8}}',
    );
  });

  it('ignores properties that are not part of an architecture', () => {
    const extra = { resolution: 20, width: { w: 8 }, note: 'x' } as unknown as Arch;
    assert.equal(archKey(extra), '{"resolution":20,"width":{"w":8}}');
  });
});

describe('subnetId', () => {
  it('is sn- and 16 hex digits of the key hash, pinned', () => {
    assert.equal(subnetId({ resolution: 32, width: { w1: 16, w0: 8 } }), 'sn-9fd6992e40eeddfe');
    assert.equal(
      subnetId({ resolution: 24, width: { 'b.c': 24, a: 8 }, channelIdx: { 'b.c': [0, 2, 5] }, op: { l2: 1, l1: 0 } }),
      'sn-509ba29890bc8e42',
    );
    assert.equal(subnetId({ resolution: 32, width: { 'é"\\': 8, Z: 1, a: 2 } }), 'sn-9855ad83f2487efa');
    assert.equal(subnetId(mbv2SmallMax), 'sn-9a2b1920ff7090ce');
    assert.equal(subnetId(mbv2SmallMin), 'sn-f7212f6d1aa7feca');
  });

  it('is equal for equal architectures and differs when any choice differs', () => {
    const a: Arch = { resolution: 20, width: { x: 8, y: 16 }, op: { p: 2 } };
    assert.equal(subnetId({ op: { p: 2 }, width: { y: 16, x: 8 }, resolution: 20 }), subnetId(a));
    assert.equal(subnetId({ ...a, channelIdx: {} }), subnetId(a));
    const variants: Arch[] = [
      { ...a, resolution: 24 },
      { ...a, width: { x: 16, y: 16 } },
      { ...a, op: { p: 1 } },
      { ...a, channelIdx: { x: [0, 1, 2, 3, 4, 5, 6, 7] } },
    ];
    const ids = new Set([subnetId(a), ...variants.map(subnetId)]);
    assert.equal(ids.size, 5);
    for (const id of ids) assert.match(id, /^sn-[0-9a-f]{16}$/);
  });
});

/** The canonical form as first written (entry arrays, sorted, joined): the reference the fast one must equal. */
function referenceStable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(referenceStable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceStable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function referenceKey(a: Arch): string {
  const canon: Arch = { resolution: a.resolution, width: a.width };
  if (a.channelIdx && Object.keys(a.channelIdx).length > 0) canon.channelIdx = a.channelIdx;
  if (a.op && Object.keys(a.op).length > 0) canon.op = a.op;
  return referenceStable(canon);
}

describe('archKey equals the reference canonical form', () => {
  it('on 2000 random architectures (key order, numeric and escaped keys, fractions, empty and undefined members)', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const names = ['stem', 's1', 's2', 'b.c', '10', '9', 'Z', 'a', 'é"\\', 'x y', ''];
    const map = <T>(value: () => T): Record<string, T> => {
      const out: Record<string, T> = {};
      for (let i = Math.floor(rand() * 6); i > 0; i--) out[pick(names)] = value();
      return out;
    };
    for (let i = 0; i < 2000; i++) {
      const a = { resolution: pick([20, 24, 28, 32, 0.5, -0, 1e21]), width: map(() => pick([8, 16, 24, 1.5, undefined])) } as unknown as Arch;
      if (rand() < 0.5) a.channelIdx = map(() => Array.from({ length: Math.floor(rand() * 4) }, () => Math.floor(rand() * 32)));
      if (rand() < 0.5) a.op = map(() => Math.floor(rand() * 3));
      assert.equal(archKey(a), referenceKey(a), JSON.stringify(a));
    }
  });
});

describe('makeDivisible', () => {
  it('rounds to the nearest multiple of the divisor, at least the minimum and never below 90%', () => {
    assert.deepEqual(
      [0.5, 1, 3, 4, 5, 12, 20, 30, 36, 100].map((v) => makeDivisible(v)),
      [8, 8, 8, 8, 8, 16, 24, 32, 40, 104],
    );
    // 27 rounds to 24 < 0.9 * 27, so it goes up one step; the minimum wins over rounding down.
    assert.equal(makeDivisible(27, 8, 16), 32);
    assert.equal(makeDivisible(10, 4), 12);
    assert.equal(makeDivisible(6, 4, 1), 8);
    assert.equal(makeDivisible(9, 8, 16), 16);
  });
});

describe('costs and constraints', () => {
  const cost: Cost = { flops: 1000, params: 50, latency: 2.5 };

  it('costOf picks the constraint kind', () => {
    assert.deepEqual([costOf(cost, 'flops'), costOf(cost, 'params'), costOf(cost, 'latency')], [1000, 50, 2.5]);
  });

  it('fits is an inclusive upper bound', () => {
    assert.equal(fits(cost, { kind: 'flops', target: 1000 }), true);
    assert.equal(fits(cost, { kind: 'flops', target: 999 }), false);
    assert.equal(fits(cost, { kind: 'params', target: 50 }), true);
    assert.equal(fits(cost, { kind: 'latency', target: 2.4 }), false);
  });
});

describe('constraintKey', () => {
  // Remembered search results are stored under this key in checkpoints: the text is pinned.
  it('is kind:target, pinned', () => {
    assert.equal(constraintKey({ kind: 'flops', target: 4000000 }), 'flops:4000000');
    assert.equal(constraintKey({ kind: 'params', target: 250000.5 }), 'params:250000.5');
    assert.equal(constraintKey({ kind: 'latency', target: 1.25 }), 'latency:1.25');
  });

  it('tells kinds and targets apart, and ignores the tolerance', () => {
    const c: Constraint = { kind: 'flops', target: 100 };
    assert.notEqual(constraintKey(c), constraintKey({ kind: 'params', target: 100 }));
    assert.notEqual(constraintKey(c), constraintKey({ kind: 'flops', target: 101 }));
    assert.equal(constraintKey({ ...c, tolerance: 0.1 }), constraintKey(c));
  });
});
