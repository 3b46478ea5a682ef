import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { activeBackend, initBackend } from '../../src/backend/select-backend.ts';

async function nativeInstalled(): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return true;
    } catch {
      // absent: try the next one
    }
  }
  return false;
}

test('initBackend activates wasm and cpu, idempotently', async () => {
  assert.equal(await initBackend('wasm'), 'wasm');
  assert.equal(await initBackend('wasm'), 'wasm');
  assert.equal(activeBackend(), 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(await initBackend('cpu'), 'cpu');
  assert.equal(activeBackend(), 'cpu');
  const [a, b] = await Promise.all([initBackend('wasm'), initBackend('wasm')]);
  assert.equal(a, 'wasm');
  assert.equal(b, 'wasm');
});

test("'tensorflow' fails clearly and 'auto' falls back to wasm when no native binding loads", async (t) => {
  if (await nativeInstalled()) {
    t.skip('a native binding is installed here');
    return;
  }
  await assert.rejects(initBackend('tensorflow'), /@tensorflow\/tfjs-node-gpu or @tensorflow\/tfjs-node/);
  assert.equal(await initBackend('auto'), 'wasm');
});

test('an unknown preference is refused', async () => {
  await assert.rejects(initBackend('gpu' as never), /unknown backend 'gpu'/);
});
