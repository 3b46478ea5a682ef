import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { activeBackend, backendInfo, initBackend } from '../../src/backend/select-backend.ts';
import { resolveWasmThreads } from '../../src/backend/wasm-threads.ts';
import { tensorflowAvailable } from '../helpers.ts';

test('initBackend activates wasm and cpu, idempotently', async () => {
  assert.equal(await initBackend('wasm'), 'wasm');
  assert.equal(await initBackend('wasm'), 'wasm');
  assert.equal(activeBackend(), 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(await initBackend('cpu'), 'cpu');
  assert.equal(activeBackend(), 'cpu');
  assert.deepEqual(backendInfo(), { backend: 'cpu', device: 'CPU', reason: "backend 'cpu' was asked for" });
  const [a, b] = await Promise.all([initBackend('wasm'), initBackend('wasm')]);
  assert.equal(a, 'wasm');
  assert.equal(b, 'wasm');
  // wasm computes on every core the machine gives the process (see wasm-threads.test.ts)
  assert.deepEqual(backendInfo(), { backend: 'wasm', device: 'CPU', reason: "backend 'wasm' was asked for", threads: resolveWasmThreads(undefined) });
});

test("'tensorflow' fails clearly and 'auto' falls back to wasm, saying why, when no native binding loads", async (t) => {
  if (await tensorflowAvailable()) {
    t.skip('a native binding is installed here');
    return;
  }
  await assert.rejects(initBackend('tensorflow'), /@tensorflow\/tfjs-node-gpu or @tensorflow\/tfjs-node .*neither loads: .*setup:tensorflow/);
  assert.equal(await initBackend('auto'), 'wasm');
  assert.match(backendInfo().reason, /^auto: wasm, because no native binding loads \(.*@tensorflow\/tfjs-node: /);
});

test("'tensorflow', when a binding is built (npm run setup:tensorflow), runs on the CPU here and 'auto' picks it", async (t) => {
  if (!(await tensorflowAvailable())) {
    t.skip('no native binding here; npm run setup:tensorflow builds one');
    return;
  }
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  const info = backendInfo();
  assert.equal(info.backend, 'tensorflow');
  assert.match(info.device, /^(CPU|GPU.*)$/);
  assert.match(info.tensorflowVersion ?? '', /^2\.\d+/);
  assert.match(info.nativePackage ?? '', /^@tensorflow\/tfjs-node(-gpu)?$/);
  assert.equal(await initBackend('auto'), 'tensorflow');
  assert.match(backendInfo().reason, /^auto: @tensorflow\/tfjs-node(-gpu)? loads/);
  const y = tf.tidy(() => tf.sum(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]))).dataSync()[0]);
  assert.equal(y, 12);
  await initBackend('wasm');
});

test("'gpu' without tfjs-node-gpu on a GPU is refused with the reason", async (t) => {
  let gpu = false;
  try {
    await initBackend('gpu');
    gpu = true;
  } catch (err) {
    assert.match((err as Error).message, /^backend 'gpu'( needs @tensorflow\/tfjs-node-gpu|: @tensorflow\/tfjs-node-gpu loads but TensorFlow found no usable GPU)/);
  }
  if (gpu) t.diagnostic(`running on ${backendInfo().device}`);
  await initBackend('wasm');
});

test('an unknown preference is refused', async () => {
  await assert.rejects(initBackend('tpu' as never), /unknown backend 'tpu': expected auto, tensorflow, gpu, wasm or cpu/);
});
