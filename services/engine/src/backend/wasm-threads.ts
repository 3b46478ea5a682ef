import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { WasmKernelPool } from './wasm-kernel-pool.ts';

/**
 * The threaded build of tfjs-backend-wasm, started under Node.
 *
 * tfjs-backend-wasm 4.22 ships `tfjs-backend-wasm-threaded-simd.wasm` (XNNPACK over a pthreadpool,
 * memory shared between threads) but never uses it in Node: its multithread flag is false there,
 * and its factory hands Emscripten a `blob:` URL for the pthread worker script, which Node's Worker
 * cannot start. Here the Emscripten factory of that build is called directly with:
 *
 * - the worker script as a file (wasm-pthread-worker.cjs, which runs the script tfjs ships as a
 *   string) and the glue script by path, so every pthread loads the same module over the same memory;
 * - `emscripten_num_logical_cores` answering twice the wanted thread count: tfjs halves that number
 *   (hyper-threads) and caps the pool at it, which would leave one thread on a 2-core machine;
 * - pthread workers started lazily: Emscripten makes a pool of 8 workers up front; here each is a
 *   stand-in until XNNPACK's pool starts a thread on it, so a backend with N threads runs N - 1
 *   worker threads besides the calling one, and none of them loads the parent's loaders (tsx).
 *
 * The backend is registered under the name `wasm`, so every wasm kernel (and the engine's) applies.
 */

/** The most threads the build's pool can use (tfjs caps XNNPACK's pool at 8). */
export const MAX_WASM_THREADS = 8;

const require = createRequire(import.meta.url);
const PTHREAD_WORKER = fileURLToPath(new URL('./wasm-pthread-worker.cjs', import.meta.url));

/** The Emscripten module of the threaded build (the parts used here and by BackendWasm). */
interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  wasmMemory: object;
  PThread: { terminateAllThreads(): void; runningWorkers: unknown[]; unusedWorkers: unknown[] };
  tfjs?: unknown;
}

type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

/** A message Emscripten posts to a pthread worker. */
interface PthreadMessage {
  cmd?: string;
}

/**
 * Stands in for one of Emscripten's pthread workers until a thread is started on it: the `load`
 * message is answered at once and kept, and the real worker thread is started (and sent `load`)
 * when the first `run` arrives. Implements what the Emscripten glue calls on a Node worker.
 */
class LazyPthreadWorker extends EventEmitter {
  private real: Worker | undefined;
  private load: PthreadMessage | undefined;
  // The glue stores its own state on the worker object.
  [key: string]: unknown;

  postMessage(msg: PthreadMessage, transfer?: readonly ArrayBuffer[]): void {
    if (this.real === undefined && msg.cmd === 'load') {
      this.load = msg;
      setImmediate(() => this.emit('message', { cmd: 'loaded' }));
      return;
    }
    const real = this.real ?? this.start();
    real.postMessage(msg, transfer as ArrayBuffer[] | undefined);
  }

  private start(): Worker {
    // execArgv [] : the script is plain CommonJS, and loaders such as tsx would only slow its start.
    const real = new Worker(PTHREAD_WORKER, { execArgv: [] });
    let loaded = false;
    real.on('message', (m: PthreadMessage) => {
      if (!loaded && m?.cmd === 'loaded') {
        loaded = true; // already reported by the stand-in
        return;
      }
      this.emit('message', m);
    });
    real.on('error', (e) => this.emit('error', e));
    real.on('exit', () => liveThreads.delete(real));
    liveThreads.add(real);
    if (this.load !== undefined) real.postMessage(this.load);
    real.unref();
    this.real = real;
    return real;
  }

  /**
   * Emscripten refs a worker while a pthread runs on it; XNNPACK's pool threads run until the
   * backend ends, and must not keep the process (or the thread that owns them) alive.
   */
  ref(): void {}

  unref(): void {}

  terminate(): Promise<number> {
    return this.real?.terminate() ?? Promise.resolve(0);
  }
}

const liveThreads = new Set<Worker>();

/** Worker threads the threaded wasm backend of this thread runs now (pthreads of XNNPACK's pool). */
export function wasmHelperThreads(): number {
  return liveThreads.size;
}

/**
 * The number of threads a `threads` setting asks for: `undefined` means every core the machine
 * gives this process (`os.availableParallelism()`), at most MAX_WASM_THREADS. Throws RangeError for
 * anything but a positive integer.
 */
export function resolveWasmThreads(threads: number | undefined): number {
  if (threads === undefined) return Math.max(1, Math.min(MAX_WASM_THREADS, availableParallelism()));
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`engine threads must be a positive integer, got ${threads}`);
  return Math.min(MAX_WASM_THREADS, threads);
}

/**
 * Makes the next activation of the `wasm` backend in this thread start the threaded build with
 * `threads` threads (calling thread included). A no-op for 1 thread: the single-threaded SIMD build
 * that tfjs registers stays. Throws Error when the wasm backend already runs in this thread.
 */
export function registerThreadedWasmBackend(threads: number): void {
  if (threads <= 1) return;
  if (tf.findBackend('wasm') != null) throw new Error('the wasm backend already runs in this thread; its thread count is fixed');
  const singleThreaded = tf.findBackendFactory('wasm');
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    let module: BackendWasm['wasm'];
    try {
      module = await createThreadedModule(threads);
    } catch (e) {
      // A build that cannot start here (no SharedArrayBuffer, a glue that changed) is no reason to
      // have no wasm backend: the single-threaded one runs, and threadedWasmFailure() says why.
      if (singleThreaded == null) throw e;
      failure = e instanceof Error ? e.message : String(e);
      return singleThreaded() as Promise<tf.KernelBackend>;
    }
    setThreadsCount(threads);
    const backend = new ThreadedBackendWasm(module);
    backend.kernelPool = WasmKernelPool.start((module as unknown as ThreadedModule).wasmMemory, threads);
    return backend;
  }, 2);
}

let failure: string | undefined;

/** Why the threaded build did not start in this thread (the single-threaded one runs), or undefined. */
export function threadedWasmFailure(): string | undefined {
  return failure;
}

/** Threads the active wasm backend's XNNPACK pool runs on (1 for the single-threaded build). */
export function wasmPoolThreads(): number {
  const b = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?(): number } } };
  const n = b.wasm?.tfjs?.getThreadsCount?.() ?? 1;
  return n > 0 ? n : 1;
}

/** BackendWasm with the engine's kernel pool, whose dispose also ends the pool and the pthreads. */
class ThreadedBackendWasm extends BackendWasm {
  /** Splits the engine's own kernels across the same threads (wasm-kernel-pool.ts). */
  kernelPool: WasmKernelPool | undefined;

  override dispose(): void {
    const module = this.wasm as unknown as ThreadedModule;
    super.dispose();
    this.kernelPool?.terminate();
    this.kernelPool = undefined;
    module.PThread.terminateAllThreads();
  }
}

async function createThreadedModule(threads: number): Promise<BackendWasm['wasm']> {
  const glue = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const dir = path.dirname(glue);
  const factory = require(glue) as Factory;
  const wasmFile = path.join(dir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const config = {
    locateFile: (file: string) => (file.endsWith('.worker.js') ? PTHREAD_WORKER : path.join(dir, file)),
    mainScriptUrlOrBlob: glue,
    instantiateWasm: (
      imports: { env: Record<string, unknown> },
      receive: (instance: object, module: object) => void,
    ): object => {
      imports.env['emscripten_num_logical_cores'] = () => 2 * threads;
      const wasm = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array, i: object): Promise<{ instance: object; module: object }> } }).WebAssembly;
      void wasm.instantiate(readFileSync(wasmFile), imports).then(({ instance, module }) => receive(instance, module));
      return {};
    },
  };
  // The glue installs Node's Worker as the global `Worker` and makes its pool of pthread workers
  // while the factory runs (synchronously); the stand-ins go in instead.
  const had = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => LazyPthreadWorker, set: () => {} });
  let pending: Promise<ThreadedModule>;
  try {
    pending = factory(config);
  } finally {
    if (had !== undefined) Object.defineProperty(globalThis, 'Worker', had);
    else delete (globalThis as Record<string, unknown>)['Worker'];
  }
  const module = await pending;
  const c = (name: string, ret: string | null, args: string[]) => module.cwrap(name, ret, args);
  module.tfjs = {
    init: c('init', null, []),
    initWithThreadsCount: c('init_with_threads_count', null, ['number']),
    getThreadsCount: c('get_threads_count', 'number', []),
    registerTensor: c('register_tensor', null, ['number', 'number', 'number']),
    disposeData: c('dispose_data', null, ['number']),
    dispose: c('dispose', null, []),
  };
  return module as unknown as BackendWasm['wasm'];
}
