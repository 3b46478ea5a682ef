import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' Node bundle registers them all (in the
// registry tfjs-core keeps on globalThis), which is what training on any backend needs.
import '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-training-kernels.ts';

/** Which TensorFlow.js backend to run on. `auto`: tensorflow if it loads, else wasm. */
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);

/** Native bindings, most capable first. Both are optional dependencies that may be absent. */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let pending: Promise<string> = Promise.resolve('');
let wasmPathsSet = false;
let nativeLoaded: string | undefined;

/**
 * Makes `pref` the active TensorFlow.js backend and resolves to the active backend's name
 * (`tensorflow`, `wasm` or `cpu`).
 *
 * - `tensorflow`: loads `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node`; rejects with an
 *   Error naming both packages when neither loads.
 * - `wasm`: the XNNPACK backend, with the engine's training kernels (gradients of convolutions and
 *   fast data-movement ops) registered over it.
 * - `cpu`: pure JavaScript; correct but slow to train.
 * - `auto`: `tensorflow` if it loads, else `wasm`.
 *
 * Idempotent and safe to call concurrently: calls are serialised, and a call for the backend that is
 * already active returns at once.
 */
export function initBackend(pref: BackendName): Promise<string> {
  const next = pending.catch(() => '').then(() => init(pref));
  pending = next;
  return next;
}

/** The name of the active backend (`tensorflow`, `wasm` or `cpu`), or '' before `initBackend`. */
export function activeBackend(): string {
  // tf.getBackend() would silently initialise a default backend; report only what initBackend chose.
  const engine = tf.engine();
  return engine.backendName ?? '';
}

async function init(pref: BackendName): Promise<string> {
  switch (pref) {
    case 'cpu':
      return activate('cpu');
    case 'wasm':
      return activateWasm();
    case 'tensorflow': {
      const err = await loadNative();
      if (err !== undefined) throw err;
      return activate('tensorflow');
    }
    case 'auto': {
      const err = await loadNative();
      return err === undefined ? activate('tensorflow') : activateWasm();
    }
    default:
      throw new Error(`unknown backend '${String(pref)}': expected auto, tensorflow, wasm or cpu`);
  }
}

async function activate(name: string): Promise<string> {
  if (tf.engine().backendName !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TensorFlow.js backend '${name}' failed to initialise`);
  }
  await tf.ready();
  return tf.engine().backendName;
}

async function activateWasm(): Promise<string> {
  if (!wasmPathsSet) {
    // In Node the wasm binaries are read from the package's dist folder as files; a path prefix
    // ending in a separator is what setWasmPaths expects.
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    setWasmPaths(dist + path.sep);
    wasmPathsSet = true;
  }
  registerWasmTrainingKernels();
  return activate('wasm');
}

/** Loads a native binding once; resolves to undefined on success, else to the error to report. */
async function loadNative(): Promise<Error | undefined> {
  if (nativeLoaded !== undefined || tf.findBackendFactory('tensorflow') != null) return undefined;
  const failures: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
      if (tf.findBackendFactory('tensorflow') != null) {
        nativeLoaded = pkg;
        return undefined;
      }
      failures.push(`${pkg}: loaded but registered no 'tensorflow' backend`);
    } catch (e) {
      failures.push(`${pkg}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  return new Error(
    `backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node (optional dependencies); neither loads: ${failures.join('; ')}`,
  );
}
