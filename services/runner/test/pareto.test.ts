import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paretoFront } from '../src/pareto.ts';

test('paretoFront keeps points no other point beats on cost and accuracy', () => {
  const pts = [
    { cost: 3, accuracy: 0.8, id: 'a' },
    { cost: 5, accuracy: 0.79, id: 'b' },
    { cost: 6, accuracy: 0.85, id: 'c' },
    { cost: 6, accuracy: 0.84, id: 'd' },
    { cost: 2, accuracy: 0.7, id: 'e' },
    { cost: 9, accuracy: 0.85, id: 'f' },
  ];
  assert.deepEqual(paretoFront(pts).map((p) => p.id), ['e', 'a', 'c']);
  assert.deepEqual(paretoFront([]), []);
});
