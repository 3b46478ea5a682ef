import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, initBackend } from '../src/backend/select-backend.ts';
import { resolveWasmThreads, wasmHelperThreads } from '../src/backend/wasm-threads.ts';
import { activeWasmKernelPool, wasmKernelHelperThreads } from '../src/backend/wasm-kernel-pool.ts';

const BOOTSTRAP = new URL('./tsx-worker.mjs', import.meta.url);
const FIXTURE = new URL('./wasm-threads-fixture.ts', import.meta.url).href;
const STEPS = 3;

interface FixtureResult {
  info: { backend: string; threads?: number };
  poolThreads: number;
  helpers: number;
  kernelHelpers: number;
  kernelSplits: number;
  losses: number[];
  weights: Record<string, Float32Array>;
  tensorsBefore: number;
  tensorsAfter: number;
}

/** OS threads of this process (Linux), from /proc. */
function osThreads(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('Threads:'));
  return Number(line!.split(/\s+/)[1]);
}

/**
 * OS threads of this process once the ones that are ending have gone: `worker.terminate()` resolves
 * when Node has joined the worker, but /proc may still count an exiting pthread of it for a moment
 * (seen under load: 13 for 12, then 12 a millisecond later). Polls until the count is `expected`;
 * the bound (many seconds of polls) only turns a real leak into a failure instead of a hang.
 */
async function osThreadsSettled(expected: number): Promise<number> {
  for (let polls = 0; polls < 20_000 && osThreads() !== expected; polls++) await new Promise((r) => setTimeout(r, 1));
  return osThreads();
}

/** Trains in a fresh worker thread whose wasm backend runs on `threads` threads; resolves once it has exited. */
async function trainIn(threads: number): Promise<FixtureResult> {
  const worker = new Worker(BOOTSTRAP, { workerData: { entry: FIXTURE, threads, steps: STEPS } });
  const [result] = (await once(worker, 'message')) as [FixtureResult];
  await worker.terminate();
  return result;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-12;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  return diff / scale;
}

test('the wasm backend on 2 threads trains exactly as on 1: same losses and weights after sandwich steps, bit for bit', async () => {
  const one = await trainIn(1);
  const two = await trainIn(2);
  assert.equal(one.info.backend, 'wasm');
  assert.equal(one.info.threads, 1);
  assert.equal(one.helpers, 0);
  assert.equal(one.poolThreads, 1);
  assert.equal(two.info.threads, 2);
  assert.equal(two.poolThreads, 2);
  assert.equal(two.helpers, 1, 'one pthread besides the calling thread');
  assert.equal(one.kernelHelpers, 0);
  assert.equal(one.kernelSplits, 0);
  assert.equal(two.kernelHelpers, 1, 'one kernel pool helper besides the calling thread');
  assert.ok(two.kernelSplits > 100, `the engine's own kernels split across the threads (${two.kernelSplits} dispatches)`);
  for (const r of [one, two]) assert.equal(r.tensorsAfter, r.tensorsBefore, 'steps after the first leave no tensors behind');
  assert.equal(two.losses.length, STEPS);
  // XNNPACK splits output tiles and the engine's kernel pool output partitions, never a sum.
  assert.deepEqual(two.losses, one.losses);
  // The weights moved (the comparison is not of initial values), and moved the same way.
  const names = Object.keys(one.weights);
  assert.deepEqual(Object.keys(two.weights), names);
  let worst = 0;
  for (const name of names) {
    const d = maxRelDiff(two.weights[name]!, one.weights[name]!);
    assert.ok(Buffer.from(two.weights[name]!.buffer).equals(Buffer.from(one.weights[name]!.buffer)), `variable ${name}: relative difference ${d}`);
    worst = Math.max(worst, d);
  }
  assert.ok(names.length > 20);
  console.log(`# 2 threads vs 1: largest relative difference ${worst.toExponential(2)} (losses ${maxRelDiff(two.losses, one.losses).toExponential(2)})`);
});

test('the pthreads of a threaded wasm backend end with the worker thread that started it', async () => {
  const baseline = osThreads();
  const r = await trainIn(2);
  assert.equal(r.helpers, 1);
  assert.equal(r.kernelHelpers, 1);
  // worker.terminate() resolves after the thread and its own workers were joined.
  assert.equal(await osThreadsSettled(baseline), baseline);
  // And again: nothing accumulates from one engine's life to the next.
  await trainIn(2);
  assert.equal(await osThreadsSettled(baseline), baseline);
});

test('removing the threaded wasm backend ends its pthreads and its kernel pool', async () => {
  const baseline = osThreads();
  await initBackend('wasm', { threads: 2 });
  assert.equal(backendInfo().threads, 2);
  const before = tf.memory().numTensors;
  const y = tf.tidy(() => tf.matMul(tf.ones([64, 32]), tf.ones([32, 16])));
  assert.equal((await y.data())[0], 32);
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(wasmHelperThreads(), 1);
  await activeWasmKernelPool()!.whenReady();
  assert.equal(wasmKernelHelperThreads(), 1);
  assert.equal(osThreads(), baseline + 2);
  tf.removeBackend('wasm');
  while (wasmHelperThreads() > 0 || wasmKernelHelperThreads() > 0) await new Promise((r) => setImmediate(r));
  assert.equal(await osThreadsSettled(baseline), baseline);
});

test('where the threaded build cannot start, wasm runs on 1 thread and says why', async () => {
  const worker = new Worker(BOOTSTRAP, { workerData: { entry: new URL('./wasm-threads-fallback-fixture.ts', import.meta.url).href } });
  const [r] = (await once(worker, 'message')) as [{ info: { backend: string; threads?: number; reason: string }; product: number[] }];
  await worker.terminate();
  assert.equal(r.info.backend, 'wasm');
  assert.equal(r.info.threads, 1);
  assert.match(r.info.reason, /on 1 thread, because the threaded build did not start \(SharedArrayBuffer is not defined\)/);
  assert.deepEqual(r.product, [3, 3, 3, 3, 3, 3, 3, 3]);
});

test('the thread count defaults to the machine cores (at most 8) and refuses what is not a positive integer', () => {
  assert.ok(resolveWasmThreads(undefined) >= 1 && resolveWasmThreads(undefined) <= 8);
  assert.equal(resolveWasmThreads(3), 3);
  assert.equal(resolveWasmThreads(64), 8);
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => resolveWasmThreads(bad), RangeError);
});
