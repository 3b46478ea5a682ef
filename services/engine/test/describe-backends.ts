// One engine suite over every backend present, as tfjs runs one suite over all its backends: a
// suite written once with `describeBackends` is registered once per backend (`wasm` always,
// `tensorflow` when a native binding loads). The active backend is process-global in TensorFlow.js,
// so each registration activates its backend before its tests; node:test runs the suites of a file
// one after another, so they never interleave.
import { before, describe } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/select-backend.ts';

/** A backend the engine suite runs on. */
export type SuiteBackend = 'wasm' | 'tensorflow';

/** Why the native backend is absent ('' when it loads). */
async function probeTensorflow(): Promise<string> {
  try {
    await initBackend('tensorflow');
    return '';
  } catch (err) {
    // CI builds the binding (`npm run setup:tensorflow`) and sets SUPERNETD_REQUIRE_TENSORFLOW=1,
    // so a binding that stopped loading fails the run instead of skipping half the suite.
    if (process.env.SUPERNETD_REQUIRE_TENSORFLOW === '1') throw err;
    return (err as Error).message;
  }
}

const tensorflowMissing = await probeTensorflow();

/**
 * The backends the engine suite runs on here: `wasm`, then `tensorflow` when its binding loads.
 * `SUPERNETD_TEST_BACKENDS` (comma-separated) narrows the list, e.g. to rerun one backend's pass.
 */
export const SUITE_BACKENDS: readonly SuiteBackend[] = (() => {
  const all: SuiteBackend[] = tensorflowMissing === '' ? ['wasm', 'tensorflow'] : ['wasm'];
  const only = process.env.SUPERNETD_TEST_BACKENDS?.split(',').map((s) => s.trim()).filter(Boolean);
  return only ? all.filter((b) => only.includes(b)) : all;
})();

/**
 * Registers `fn`'s tests once per backend of SUITE_BACKENDS, as `name [backend]`, with that backend
 * active while they run. Where the native binding does not load, the `tensorflow` registration is a
 * skipped suite that says why (a failure instead under SUPERNETD_REQUIRE_TENSORFLOW=1).
 */
export function describeBackends(name: string, fn: (backend: SuiteBackend) => void): void {
  for (const backend of SUITE_BACKENDS) {
    describe(`${name} [${backend}]`, () => {
      before(async () => {
        await initBackend(backend);
        if (tf.getBackend() !== backend) throw new Error(`backend ${tf.getBackend()} is active, expected ${backend}`);
      });
      fn(backend);
    });
  }
  if (tensorflowMissing !== '' && !process.env.SUPERNETD_TEST_BACKENDS) {
    describe(`${name} [tensorflow]`, { skip: `no native binding (npm run setup:tensorflow builds one): ${tensorflowMissing.split('\n')[0]}` }, () => undefined);
  }
}

/**
 * Runs `fn` with the `cpu` backend (the reference) active, then makes `backend` active again.
 * Values crossing over must be plain arrays, not tensors.
 */
export async function onCpu<T>(backend: SuiteBackend, fn: () => T): Promise<T> {
  await initBackend('cpu');
  try {
    return fn();
  } finally {
    await initBackend(backend);
  }
}
