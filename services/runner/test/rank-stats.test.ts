import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kendallTau, meanStd, ranks, spearmanRho } from '../src/rank-stats.ts';

test('meanStd uses the sample standard deviation', () => {
  const r = meanStd([1, 2, 3, 4]);
  assert.equal(r.mean, 2.5);
  assert.ok(Math.abs(r.std - 1.2909944) < 1e-6);
  assert.equal(meanStd([5]).std, 0);
});

test('kendallTau: identical order 1, reversed -1, a known mixed case, tau-b with ties', () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // pairs: 6; one discordant pair (3,4 swapped) -> (5 - 1) / 6
  assert.ok(Math.abs(kendallTau([1, 2, 3, 4], [1, 2, 4, 3]) - 4 / 6) < 1e-12);
  // scipy.stats.kendalltau([1,2,2,3],[1,3,2,4]) = 0.9128709291752769
  assert.ok(Math.abs(kendallTau([1, 2, 2, 3], [1, 3, 2, 4]) - 0.9128709291752769) < 1e-12);
  assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])));
});

test('spearmanRho matches the rank correlation, with mean ranks for ties', () => {
  assert.deepEqual(ranks([10, 30, 20, 20]), [1, 4, 2.5, 2.5]);
  assert.equal(spearmanRho([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.8207826816681233);
  assert.equal(spearmanRho([1, 2, 3], [3, 2, 1]), -1);
});
