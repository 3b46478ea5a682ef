// strategy.latencyConfigKey: the config key the server names when a PSS config asks for latency
// costs on a space without a latency table (latency pools in costKinds, or a latency target grid).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePssConfig, strategy } from '../src/index.ts';

const keyOf = (raw: unknown) => strategy.latencyConfigKey?.(parsePssConfig(raw));

describe('pss latencyConfigKey', () => {
  it('is undefined when nothing asks for latency', () => {
    assert.equal(keyOf({}), undefined);
    assert.equal(keyOf({ costKinds: ['flops', 'params'] }), undefined);
    assert.equal(keyOf({ targets: { flops: { start: 1000, stop: 9000, step: 1000 } } }), undefined);
  });

  it('names the latency entry of costKinds by its index', () => {
    assert.equal(keyOf({ costKinds: ['latency'] }), 'costKinds[0]');
    assert.equal(keyOf({ costKinds: ['flops', 'latency'] }), 'costKinds[1]');
  });

  it('names targets.latency when only the target grid asks for latency', () => {
    assert.equal(keyOf({ targets: { latency: { start: 1, stop: 10, step: 2 } } }), 'targets.latency');
    assert.equal(keyOf({ costKinds: ['flops'], targets: { latency: { start: 1, stop: 10, step: 2 }, flops: { start: 1000, stop: 9000, step: 1000 } } }), 'targets.latency');
  });

  it('prefers costKinds when both ask for latency', () => {
    assert.equal(keyOf({ costKinds: ['params', 'latency'], targets: { latency: { start: 1, stop: 10, step: 2 } } }), 'costKinds[1]');
  });
});
