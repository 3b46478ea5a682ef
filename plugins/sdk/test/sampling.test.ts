import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedPreconditionError, Rng, archKey, fits, opCount, randomArch, sampleFitting, shrinkToFit, unsatisfiable } from '../src/index.ts';
import type { Arch, Constraint } from '../src/index.ts';
import { allArchs, toySpace } from './toy-space.ts';

const space = toySpace();
const widthsOnly = toySpace({ ops: false });
const minFlops = 69632;
const maxFlops = 1081344;

/** True when every choice of `a` is at most the same choice of `b` (by candidate order). */
function notAbove(a: Arch, b: Arch): boolean {
  if (a.resolution > b.resolution) return false;
  return Object.keys(b.width).every((id) => (a.width[id] as number) <= (b.width[id] as number));
}

describe('randomArch', () => {
  it('draws widths in space order, then the resolution, then ops: a pinned sequence per seed', () => {
    const r = new Rng(1);
    assert.deepEqual(Array.from({ length: 4 }, () => archKey(randomArch(space, r))), [
      '{"op":{"o":1},"resolution":32,"width":{"a":16,"b":32}}',
      '{"op":{"o":1},"resolution":32,"width":{"a":24,"b":32}}',
      '{"op":{"o":0},"resolution":16,"width":{"a":8,"b":16}}',
      '{"op":{"o":1},"resolution":24,"width":{"a":16,"b":16}}',
    ]);
    const r2 = new Rng(1);
    assert.deepEqual(Array.from({ length: 3 }, () => archKey(randomArch(widthsOnly, r2))), [
      '{"resolution":32,"width":{"a":16,"b":32}}',
      '{"resolution":32,"width":{"a":16,"b":32}}',
      '{"resolution":16,"width":{"a":24,"b":32}}',
    ]);
  });

  it('has no op map in a space without op choices', () => {
    const a = randomArch(widthsOnly, new Rng(2));
    assert.equal('op' in a, false);
    assert.equal('channelIdx' in a, false);
  });

  it('reaches every subnet, each choice about equally often', () => {
    const r = new Rng(3);
    const seen = new Map<string, number>();
    const n = 7200;
    for (let i = 0; i < n; i++) {
      const a = randomArch(space, r);
      space.validateArch(a);
      seen.set(archKey(a), (seen.get(archKey(a)) ?? 0) + 1);
    }
    const all = allArchs(space);
    assert.equal(seen.size, all.length);
    // 36 subnets, 200 draws each on average.
    for (const a of all) {
      const c = seen.get(archKey(a)) ?? 0;
      assert.ok(c > 140 && c < 260, `${archKey(a)} drawn ${c} times of ${n}`);
    }
  });
});

describe('opCount', () => {
  it('counts the candidate ops of an op-choice layer and is 1 elsewhere', () => {
    assert.equal(opCount(space, 'o'), 2);
    assert.equal(opCount(space, 'a'), 1);
    assert.equal(opCount(widthsOnly, 'o'), 1);
    assert.equal(opCount(space, 'no-such-layer'), 1);
  });
});

describe('sampleFitting', () => {
  const c: Constraint = { kind: 'flops', target: 200000 };
  const max = space.maxArch();
  const fitting: Arch = { resolution: 16, width: { a: 8, b: 32 }, op: { o: 0 } };

  /** A draw function that returns `archs` in turn (the last one forever) and counts its calls. */
  const scripted = (archs: Arch[]) => {
    let calls = 0;
    return { draw: () => archs[Math.min(calls++, archs.length - 1)] as Arch, calls: () => calls };
  };

  it('without a constraint returns the first draw', () => {
    const d = scripted([max, fitting]);
    assert.equal(sampleFitting(space, undefined, new Rng(1), d.draw), max);
    assert.equal(d.calls(), 1);
  });

  it('returns the first draw that fits, unchanged', () => {
    const d = scripted([max, max, fitting, max]);
    assert.equal(sampleFitting(space, c, new Rng(1), d.draw), fitting);
    assert.equal(d.calls(), 3);
  });

  it('after maxTries misfits walks the last draw down until it fits', () => {
    const d = scripted([max]);
    const a = sampleFitting(space, c, new Rng(3), d.draw, 5);
    assert.equal(d.calls(), 5);
    assert.equal(archKey(a), '{"op":{"o":0},"resolution":24,"width":{"a":8,"b":16}}');
    assert.ok(fits(space.cost(a), c));
    assert.equal(archKey(max), '{"op":{"o":0},"resolution":32,"width":{"a":24,"b":32}}', 'the draw itself is not changed');
  });

  it('returns a valid fitting subnet for every budget from the smallest cost up, for every kind', () => {
    const costs = allArchs(space).map((a) => space.cost(a));
    for (const kind of ['flops', 'params', 'latency'] as const) {
      for (const target of costs.map((x) => x[kind])) {
        const r = new Rng(target);
        const a = sampleFitting(space, { kind, target }, r, () => randomArch(space, r), 3);
        space.validateArch(a);
        assert.ok(fits(space.cost(a), { kind, target }), `${archKey(a)} over ${kind} <= ${target}`);
      }
    }
  });

  it('at a budget of exactly the smallest cost returns the smallest subnet', () => {
    const r = new Rng(4);
    const a = sampleFitting(space, { kind: 'flops', target: minFlops }, r, () => randomArch(space, r));
    assert.equal(archKey(a), archKey(space.minArch()));
  });

  it('refuses a budget below the smallest subnet with CONSTRAINT_UNSATISFIABLE naming the smallest cost', () => {
    const r = new Rng(5);
    assert.throws(
      () => sampleFitting(space, { kind: 'flops', target: minFlops - 1 }, r, () => randomArch(space, r)),
      (e: unknown) => {
        assert.ok(e instanceof FailedPreconditionError);
        assert.equal(e.code, 'FAILED_PRECONDITION');
        assert.equal(e.reason, 'CONSTRAINT_UNSATISFIABLE');
        assert.equal(e.message, "no subnet of space 'toy' fits flops <= 69631 (smallest subnet: 69632)");
        return true;
      },
    );
  });
});

describe('shrinkToFit', () => {
  it('returns a copy of a subnet that already fits', () => {
    const a: Arch = { resolution: 16, width: { a: 8, b: 32 }, op: { o: 1 } };
    const out = shrinkToFit(space, a, { kind: 'flops', target: maxFlops }, new Rng(1));
    assert.ok(out);
    assert.notEqual(out, a);
    assert.equal(archKey(out), archKey(a));
  });

  it('walks widths and resolution down one candidate at a time, never up, leaving its input alone', () => {
    const max = space.maxArch();
    for (const target of [100000, 200000, 400000, 800000]) {
      for (let seed = 0; seed < 10; seed++) {
        const out = shrinkToFit(space, max, { kind: 'flops', target }, new Rng(seed));
        assert.ok(out, `nothing under ${target}`);
        assert.ok(fits(space.cost(out), { kind: 'flops', target }));
        assert.ok(notAbove(out, max));
        space.validateArch(out);
      }
    }
    assert.deepEqual(max, space.maxArch());
    assert.equal(archKey(shrinkToFit(space, max, { kind: 'flops', target: 200000 }, new Rng(3))!), '{"op":{"o":0},"resolution":24,"width":{"a":8,"b":16}}');
  });

  it('stops at the first step that fits, choosing the step at random', () => {
    // Every single step down from the max fits just under the max's cost.
    const oneStep = [
      '{"op":{"o":0},"resolution":24,"width":{"a":24,"b":32}}',
      '{"op":{"o":0},"resolution":32,"width":{"a":16,"b":32}}',
      '{"op":{"o":0},"resolution":32,"width":{"a":24,"b":16}}',
    ];
    const got = new Set<string>();
    for (let seed = 0; seed < 20; seed++) got.add(archKey(shrinkToFit(space, space.maxArch(), { kind: 'flops', target: maxFlops - 1 }, new Rng(seed))!));
    assert.deepEqual([...got].sort(), oneStep);
  });

  it('switches to the cheapest ops once widths and resolution are at the bottom', () => {
    const a: Arch = { resolution: 24, width: { a: 16, b: 16 }, op: { o: 1 } };
    const out = shrinkToFit(space, a, { kind: 'flops', target: minFlops }, new Rng(1));
    assert.equal(out && archKey(out), archKey(space.minArch()));
    assert.deepEqual(a.op, { o: 1 });
  });

  it('is undefined when even the cheapest subnet is over the budget', () => {
    assert.equal(shrinkToFit(space, space.maxArch(), { kind: 'params', target: 271 }, new Rng(1)), undefined);
  });
});

describe('unsatisfiable', () => {
  it('names the space, the constraint and the smallest cost in the constraint kind', () => {
    const e = unsatisfiable(space, { kind: 'params', target: 10 });
    assert.ok(e instanceof FailedPreconditionError);
    assert.equal(e.reason, 'CONSTRAINT_UNSATISFIABLE');
    assert.equal(e.message, "no subnet of space 'toy' fits params <= 10 (smallest subnet: 272)");
    assert.equal(unsatisfiable(widthsOnly, { kind: 'latency', target: 1 }).message, "no subnet of space 'toy-widths' fits latency <= 1 (smallest subnet: 69.632)");
  });
});
