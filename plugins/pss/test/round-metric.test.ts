import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundHalfEven, roundMetric } from '../src/index.ts';

describe('round_metric', () => {
  it('rounds exact halves to the even neighbour like Python round()', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 4, 0, -2, -2, 2, 3]);
  });

  it('matches int(round((m - o) / s) * s + o) computed by Python', () => {
    // Expected values printed by CPython 3 for the same inputs.
    const cases: [number, number, number, number][] = [
      [25, 10, 0, 20],
      [35, 10, 0, 40],
      [15, 10, 5, 15],
      [-25, 10, 0, -20],
      [124, 10, 0, 120],
      [125, 10, 0, 120],
      [135, 10, 0, 140],
      [126, 10, 3, 123],
      [20.5, 1, 0, 20],
      [21.5, 1, 0, 22],
      [1234567, 50000, 3, 1250003],
      [77, 10, 7, 77],
      [82, 10, 7, 87],
      [-7, 10, 7, -3],
    ];
    for (const [m, s, o, want] of cases) assert.equal(roundMetric(m, s, o), want, `round_metric(${m}, ${s}, ${o})`);
  });
});
