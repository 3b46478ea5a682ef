// The helpers of @supernetd/sdk/testing that strategy packages build their own tests on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelledError, InvalidArgumentError, heldOutBatches } from '../src/index.ts';
import { assertValidArch, midpointConstraint, recordingSearchControl } from '../src/testing/index.ts';
import { SyntheticEngine } from './synthetic-engine.ts';
import { toySpace } from './toy-space.ts';

const space = toySpace();

describe('testing helpers', () => {
  it('midpointConstraint is the rounded FLOPs midpoint of the smallest and largest subnet', () => {
    // (69,632 + 1,081,344) / 2
    assert.deepEqual(midpointConstraint(space), { kind: 'flops', target: 575488 });
  });

  it('assertValidArch checks membership, then the budget', () => {
    assertValidArch(space, space.maxArch());
    assertValidArch(space, space.minArch(), { kind: 'flops', target: 69632 });
    assert.throws(() => assertValidArch(space, { resolution: 20, width: { a: 8, b: 16 } }), InvalidArgumentError);
    assert.throws(() => assertValidArch(space, space.maxArch(), { kind: 'params', target: 1000 }), {
      name: 'AssertionError',
      message: 'arch {"op":{"o":0},"resolution":32,"width":{"a":24,"b":32}} costs 1056 params, over 1000',
    });
  });

  it('recordingSearchControl counts yields, records progress and cancels after the given number of yields', async () => {
    const { control, seen } = recordingSearchControl(2);
    await control.yield();
    control.progress(1, 4, 'generation 1/2');
    await control.yield();
    control.progress(2, 4);
    await assert.rejects(control.yield(), (e: unknown) => e instanceof CancelledError && e.message === 'test deadline');
    await assert.rejects(control.yield(), CancelledError);
    assert.deepEqual(seen, {
      yields: 2,
      progress: [
        { done: 1, total: 4, note: 'generation 1/2' },
        { done: 2, total: 4, note: '' },
      ],
    });
  });

  it('heldOutBatches asks for enough batches to cover the images, at least one', () => {
    const e = new SyntheticEngine(space, () => 0, 64);
    assert.equal(heldOutBatches(e, 64).length, 1);
    assert.equal(heldOutBatches(e, 65).length, 2);
    assert.equal(heldOutBatches(e, 2048).length, 32);
    assert.equal(heldOutBatches(e, 0).length, 1);
    assert.equal(heldOutBatches(new SyntheticEngine(space, () => 0, 0), 5).length, 5);
  });
});
