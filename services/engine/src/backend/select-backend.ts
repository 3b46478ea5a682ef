import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' Node bundle registers them all (in the
// registry tfjs-core keeps on globalThis), which is what training on any backend needs.
import '@tensorflow/tfjs-layers';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-training-kernels.ts';
import { registerThreadedWasmBackend, resolveWasmThreads, threadedWasmFailure, wasmPoolThreads } from './wasm-threads.ts';

import type { BackendPreference } from '../runtime-types.ts';

/** Which TensorFlow.js backend to run on: the engine's BackendPreference. */
export type BackendName = BackendPreference;

/** What `initBackend` chose, on which device, and why. */
export interface BackendInfo {
  /** The active TensorFlow.js backend: `tensorflow`, `wasm` or `cpu` ('' before `initBackend`). */
  backend: string;
  /** `CPU`, or `GPU` with the GPU's name when nvidia-smi gives it (`GPU: NVIDIA H100 80GB HBM3`). */
  device: string;
  /** The npm package of the native binding in use (tensorflow backend only). */
  nativePackage?: string;
  /** Version of the TensorFlow C library (tensorflow backend only). */
  tensorflowVersion?: string;
  /** Threads the backend computes on (wasm only: the calling thread plus its pthreads). */
  threads?: number;
  /** Why this backend: the preference, and for `auto` what was tried. */
  reason: string;
}

const require = createRequire(import.meta.url);

/** Native bindings, most capable first. Both are optional dependencies that may be absent. */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const SETUP_HINT = 'build it with `npm run setup:tensorflow`, or `npm run setup:tensorflow -- --gpu` for tfjs-node-gpu';

let pending: Promise<string> = Promise.resolve('');
let wasmPathsSet = false;
let nativeLoaded: string | undefined;
let lastReason = '';
let gpuName: string | undefined;
let wasmThreads: number | undefined;

/** Options of `initBackend`. */
export interface BackendOptions {
  /**
   * Threads of the `wasm` backend: a positive integer (at most 8 are used), default every core the
   * machine gives this process (`os.availableParallelism()`). The first activation of `wasm` in a
   * thread fixes it for that thread; later values are ignored. Other backends ignore it.
   */
  threads?: number;
}

/**
 * Makes `pref` the active TensorFlow.js backend and resolves to the active backend's name
 * (`tensorflow`, `wasm` or `cpu`).
 *
 * - `tensorflow`: loads `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node`; rejects with an
 *   Error naming both packages, and why each failed, when neither loads.
 * - `gpu`: loads `@tensorflow/tfjs-node-gpu` only and rejects unless TensorFlow runs on a GPU.
 * - `wasm`: the XNNPACK backend, with the engine's training kernels (gradients of convolutions and
 *   fast data-movement ops) registered over it.
 * - `cpu`: pure JavaScript; correct but slow to train.
 * - `auto`: `tensorflow` if it loads, else `wasm`.
 *
 * Idempotent and safe to call concurrently: calls are serialised, and a call for the backend that is
 * already active returns at once. Throws RangeError when `options.threads` is not a positive integer.
 */
export function initBackend(pref: BackendName, options: BackendOptions = {}): Promise<string> {
  const next = pending.catch(() => '').then(() => init(pref, options));
  pending = next;
  return next;
}

/** The name of the active backend (`tensorflow`, `wasm` or `cpu`), or '' before `initBackend`. */
export function activeBackend(): string {
  // tf.getBackend() would silently initialise a default backend; report only what initBackend chose.
  const engine = tf.engine();
  return engine.backendName ?? '';
}

/**
 * The active backend, its device and why it was chosen. Call after `initBackend` resolved; the GPU
 * name is looked up (nvidia-smi) once.
 */
export function backendInfo(): BackendInfo {
  const backend = activeBackend();
  if (backend === 'wasm') return { backend, device: 'CPU', reason: lastReason, threads: wasmThreads ?? 1 };
  if (backend !== 'tensorflow') return { backend, device: backend === '' ? '' : 'CPU', reason: lastReason };
  const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean; binding?: { TF_Version?: string } };
  const info: BackendInfo = { backend, device: b.isUsingGpuDevice ? gpuDevice() : 'CPU', reason: lastReason };
  if (nativeLoaded !== undefined) info.nativePackage = nativeLoaded;
  if (b.binding?.TF_Version) info.tensorflowVersion = b.binding.TF_Version;
  return info;
}

async function init(pref: BackendName, options: BackendOptions): Promise<string> {
  const threads = resolveWasmThreads(options.threads);
  switch (pref) {
    case 'cpu':
      lastReason = "backend 'cpu' was asked for";
      return activate('cpu');
    case 'wasm':
      lastReason = "backend 'wasm' was asked for";
      return activateWasm(threads);
    case 'tensorflow': {
      const err = await loadNative(NATIVE_PACKAGES);
      if (err !== undefined) throw err;
      const name = await activate('tensorflow');
      lastReason = `backend 'tensorflow' was asked for; ${nativeLoaded} loads`;
      return name;
    }
    case 'gpu': {
      if (nativeLoaded !== undefined && nativeLoaded !== '@tensorflow/tfjs-node-gpu') {
        throw new Error(`backend 'gpu' needs @tensorflow/tfjs-node-gpu, but ${nativeLoaded} is already loaded in this process`);
      }
      const err = await loadNative(['@tensorflow/tfjs-node-gpu']);
      if (err !== undefined) throw err;
      const name = await activate('tensorflow');
      if (!(tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice) {
        throw new Error(
          "backend 'gpu': @tensorflow/tfjs-node-gpu loads but TensorFlow found no usable GPU (no NVIDIA driver, or CUDA/cuDNN libraries it cannot load; TF_CPP_MIN_LOG_LEVEL=0 shows why)",
        );
      }
      lastReason = "backend 'gpu' was asked for; @tensorflow/tfjs-node-gpu runs on a GPU";
      return name;
    }
    case 'auto': {
      const err = await loadNative(NATIVE_PACKAGES);
      if (err === undefined) {
        const name = await activate('tensorflow');
        lastReason = `auto: ${nativeLoaded} loads, so the native tensorflow backend`;
        return name;
      }
      const name = await activateWasm(threads);
      lastReason = `auto: wasm, because no native binding loads (${err.message})`;
      return name;
    }
    default:
      throw new Error(`unknown backend '${String(pref)}': expected auto, tensorflow, gpu, wasm or cpu`);
  }
}

/** `GPU: <name>` from nvidia-smi (the first visible GPU, which TensorFlow uses), else `GPU`. */
function gpuDevice(): string {
  if (gpuName === undefined) {
    gpuName = '';
    try {
      const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
      const names = out.split('\n').map((l) => l.trim()).filter(Boolean);
      const visible = process.env.CUDA_VISIBLE_DEVICES?.split(',')[0]?.trim();
      const index = visible !== undefined && /^\d+$/.test(visible) ? Number(visible) : 0;
      gpuName = names[index] ?? names[0] ?? '';
    } catch {
      // no nvidia-smi: the name stays unknown
    }
  }
  return gpuName ? `GPU: ${gpuName}` : 'GPU';
}

async function activate(name: string): Promise<string> {
  if (tf.engine().backendName !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TensorFlow.js backend '${name}' failed to initialise`);
  }
  await tf.ready();
  return tf.engine().backendName;
}

async function activateWasm(threads: number): Promise<string> {
  if (wasmThreads === undefined) {
    // The thread count is fixed when the backend first starts in this thread (a wasm backend that
    // something else started already is the single-threaded one).
    if (tf.findBackend('wasm') == null) registerThreadedWasmBackend(threads);
  }
  if (!wasmPathsSet) {
    // In Node the wasm binaries are read from the package's dist folder as files; a path prefix
    // ending in a separator is what setWasmPaths expects.
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    setWasmPaths(dist + path.sep);
    wasmPathsSet = true;
  }
  registerWasmTrainingKernels();
  const name = await activate('wasm');
  if (wasmThreads === undefined) {
    wasmThreads = wasmPoolThreads();
    const failure = threadedWasmFailure();
    if (failure !== undefined) lastReason += `; on 1 thread, because the threaded build did not start (${failure})`;
  }
  return name;
}

/**
 * Why `pkg` cannot load without importing it, or undefined when it may: importing a package whose
 * binding was never built registers its kernels before it throws, and the next package's import
 * then warns once per kernel.
 */
function unbuilt(pkg: string): string | undefined {
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    return 'not installed';
  }
  try {
    // node-pre-gyp's find() is how the package itself locates its binding (napi version included)
    const preGyp = createRequire(manifest)('@mapbox/node-pre-gyp') as { find(packageJson: string): string };
    const binding = preGyp.find(manifest);
    return existsSync(binding) ? undefined : `installed, but its native binding was never built (${SETUP_HINT})`;
  } catch {
    return undefined; // let the import report it
  }
}

/** Loads a native binding once; resolves to undefined on success, else to the error to report. */
async function loadNative(packages: readonly string[]): Promise<Error | undefined> {
  if (nativeLoaded !== undefined && packages.includes(nativeLoaded)) return undefined;
  if (nativeLoaded === undefined && tf.findBackendFactory('tensorflow') != null) {
    nativeLoaded = 'a tensorflow backend registered outside the engine';
    return undefined;
  }
  // TensorFlow's C++ INFO lines are noise in the server's log; warnings stay. (The two lines of
  // oneDNN/absl it prints at load come through absl logging and cannot be turned off this way.)
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  const failures: string[] = [];
  for (const pkg of packages) {
    const why = unbuilt(pkg);
    if (why !== undefined) {
      failures.push(`${pkg}: ${why}`);
      continue;
    }
    try {
      await quietReregistration(() => import(pkg));
      if (tf.findBackendFactory('tensorflow') != null) {
        nativeLoaded = pkg;
        pinTensorFlowLibraries(pkg);
        return undefined;
      }
      failures.push(`${pkg}: loaded but registered no 'tensorflow' backend`);
    } catch (e) {
      failures.push(`${pkg}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  const which = packages.join(' or ');
  return new Error(
    `backend '${packages.length === 1 ? 'gpu' : 'tensorflow'}' needs ${which} (optional dependencies) with a built binding; ${packages.length === 1 ? 'it does not load' : 'neither loads'}: ${failures.join('; ')}`,
  );
}

/** dlopen's RTLD_NOW | RTLD_NODELETE on Linux (glibc and musl); os.constants.dlopen lacks NODELETE. */
const RTLD_NOW_NODELETE = 0x2 | 0x1000;

/**
 * Keeps the TensorFlow C library loaded until the process exits. Node unloads an addon loaded in a
 * worker thread when that thread ends; libtensorflow then leaves exit handlers pointing into
 * unmapped code and the process dies of SIGSEGV when it exits (seen with TF 2.21 after one
 * experiment worker, or the server's startup probe, ran on `tensorflow`). Opening the libraries
 * once more with RTLD_NODELETE pins them. Linux only; elsewhere a no-op.
 */
function pinTensorFlowLibraries(pkg: string): void {
  if (process.platform !== 'linux') return;
  let libDir: string;
  try {
    libDir = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'deps', 'lib');
  } catch {
    return;
  }
  for (const name of ['libtensorflow_framework.so.2', 'libtensorflow.so.2']) {
    const file = path.join(libDir, name);
    if (!existsSync(file)) continue;
    try {
      // Not an addon, so Node throws "did not self-register" and closes its handle; the library
      // stays, as NODELETE asks.
      process.dlopen({ exports: {} }, file, RTLD_NOW_NODELETE);
    } catch {
      // expected (see above)
    }
  }
}

/**
 * Runs `load` with tfjs-core's "kernel ... is already registered" warnings dropped: a binding that
 * fails after registering its kernels (tfjs-node-gpu without CUDA) leaves them for the next one.
 */
async function quietReregistration<T>(load: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /^The kernel '.*' for backend 'tensorflow' is already registered/.test(args[0])) return;
    warn(...args);
  };
  try {
    return await load();
  } finally {
    console.warn = warn;
  }
}
