import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { CONTROL, GEN_MASK, TASKS, runParts } from './wasm-kernel-tasks.mjs';
import { simdModule, simdRoutines, type SimdRoutines, type WasmMemory } from './wasm-simd.ts';

/**
 * The kernel pool of a threaded wasm backend: one helper worker thread per thread beyond the
 * calling one, each running the engine's SIMD module over the backend's shared memory, so the
 * engine's own kernels (wasm-kernel-tasks.mjs) split their output across threads as XNNPACK's ops
 * do. A dispatch writes the task, its arguments and the part boundaries into a SharedArrayBuffer
 * control block, wakes the helpers (Atomics.notify), runs parts itself and waits (Atomics.wait)
 * until every part is done; parts are claimed dynamically, so the calling thread also runs the part
 * of a helper that has not been scheduled yet. Each output element is computed by one part exactly
 * as one thread computes it, so results do not depend on the split.
 *
 * Helpers start asynchronously; until all are ready, and for work under a size threshold, the
 * calling thread runs the task whole. The pool ends with its backend (`terminate`), and its helpers
 * end with the thread that owns it; they never keep a process alive.
 */
export class WasmKernelPool {
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: Worker[] = [];
  private readonly simd: SimdRoutines;
  private gen = 0;
  private readyHelpers = 0;
  private usable = false;
  private failure: string | undefined;
  private readonly started: Promise<void>;
  private onStarted: () => void = () => {};
  private onFailed: (e: Error) => void = () => {};
  /** Counters for tests and profiles: dispatches split, their parts, and the parts helpers ran. */
  readonly stats = { splits: 0, parts: 0, helperParts: 0 };

  private constructor(
    private readonly memory: WasmMemory,
    module: object,
    simd: SimdRoutines,
    /** Threads a dispatch may use, the calling one included. */
    readonly threads: number,
  ) {
    this.simd = simd;
    this.started = new Promise((resolve, reject) => {
      this.onStarted = resolve;
      this.onFailed = reject;
    });
    // Nobody need wait for it; a failure also shows in `failed`.
    this.started.catch(() => {});
    const control = new SharedArrayBuffer(CONTROL.BYTES);
    this.ctl = new Int32Array(control, 0, CONTROL.ARGS_BYTE_OFFSET / 4);
    this.args = new Float64Array(control, CONTROL.ARGS_BYTE_OFFSET, CONTROL.MAX_ARGS);
    for (let i = 1; i < threads; i++) {
      // execArgv []: the helper is plain JavaScript, and loaders such as tsx would only slow its start.
      const worker = new Worker(HELPER, { execArgv: [], workerData: { memory, module, control } });
      liveHelpers.add(worker);
      worker.on('message', (m: { ready?: boolean; error?: string }) => {
        if (m.ready === true && ++this.readyHelpers === this.workers.length && this.failure === undefined) {
          this.usable = true;
          this.onStarted();
        }
        if (m.error !== undefined) this.failure ??= `a kernel task failed on a helper thread: ${m.error}`;
      });
      worker.on('error', (e) => {
        this.usable = false;
        this.failure ??= `a kernel helper thread stopped: ${e.message}`;
        this.onFailed(new Error(this.failure));
      });
      worker.on('exit', () => liveHelpers.delete(worker));
      worker.unref();
      this.workers.push(worker);
    }
  }

  /**
   * A pool of `threads` threads (threads - 1 helpers) over the shared `memory`, or undefined for 1
   * thread, a memory that is not shared, or no WebAssembly SIMD.
   */
  static start(memory: WasmMemory, threads: number): WasmKernelPool | undefined {
    if (threads <= 1 || !((memory as { buffer?: unknown }).buffer instanceof SharedArrayBuffer)) return undefined;
    const module = simdModule(memory);
    const simd = simdRoutines(memory);
    if (module === null || simd === null) return undefined;
    return new WasmKernelPool(memory, module, simd, Math.min(threads, CONTROL.MAX_PARTS));
  }

  /** Whether every helper has started, so dispatches split (tests wait for it). */
  get ready(): boolean {
    return this.usable;
  }

  /** Resolves once every helper has started; rejects when a helper fails first. */
  whenReady(): Promise<void> {
    if (this.usable) return this.started;
    // The helpers are unref'd; while someone waits for their start, they keep the event loop alive.
    for (const w of this.workers) w.ref();
    const unref = () => {
      for (const w of this.workers) w.unref();
    };
    return this.started.then(unref, (e: unknown) => {
      unref();
      throw e;
    });
  }

  /** Why the pool stopped splitting (a helper failed), or undefined. */
  get failed(): string | undefined {
    return this.failure;
  }

  /**
   * Runs `task` over [0, total) of its partition: in up to `threads` parts whose boundaries are
   * multiples of `align`, each at least `minPart` units, or whole on the calling thread when the
   * work is smaller or the helpers are not ready. Throws the error a part threw, or Error when a
   * part failed on a helper thread.
   */
  run(task: number, a: readonly number[], total: number, align: number, minPart: number): void {
    const parts = this.usable && splitMode !== 'whole' ? Math.min(this.threads, Math.floor(total / Math.max(1, minPart))) : 1;
    if (parts <= 1) {
      TASKS[task]!(this.simd, this.memory, a, 0, total);
      return;
    }
    const ctl = this.ctl;
    if (a.length > CONTROL.MAX_ARGS) throw new Error(`wasm kernel task ${task}: ${a.length} arguments, at most ${CONTROL.MAX_ARGS}`);
    this.args.set(a);
    const step = Math.ceil(total / parts / align) * align;
    for (let p = 0; p <= parts; p++) ctl[CONTROL.BOUNDS + p] = Math.min(total, p * step);
    ctl[CONTROL.TASK] = task;
    ctl[CONTROL.PARTS] = parts;
    ctl[CONTROL.DONE] = 0;
    ctl[CONTROL.ERROR] = 0;
    this.gen = (this.gen + 1) & GEN_MASK;
    Atomics.store(ctl, CONTROL.CLAIM, this.gen << 8);
    Atomics.store(ctl, CONTROL.GEN, this.gen);
    Atomics.notify(ctl, CONTROL.GEN, parts - 1);
    const { ran, error } = splitMode === 'helpers' ? { ran: 0, error: undefined } : runParts(ctl, this.args, this.simd, this.memory, this.gen);
    // The helpers' parts usually end about when this thread's does: spin briefly before sleeping.
    for (let i = 0; i < SPIN && Atomics.load(ctl, CONTROL.DONE) < parts; i++);
    let done: number;
    while ((done = Atomics.load(ctl, CONTROL.DONE)) < parts) Atomics.wait(ctl, CONTROL.DONE, done);
    this.stats.splits++;
    this.stats.parts += parts;
    this.stats.helperParts += parts - ran;
    if (error !== undefined) throw error;
    if (Atomics.load(ctl, CONTROL.ERROR) !== 0) {
      this.usable = false;
      throw new Error(`wasm kernel task ${task} failed on a helper thread${this.failure === undefined ? '' : `: ${this.failure}`}`);
    }
  }

  /** Ends the helper threads. */
  terminate(): void {
    this.usable = false;
    Atomics.store(this.ctl, CONTROL.STOP, 1);
    Atomics.add(this.ctl, CONTROL.GEN, 1);
    Atomics.notify(this.ctl, CONTROL.GEN);
    for (const w of this.workers) void w.terminate();
  }
}

const HELPER = new URL('./wasm-kernel-helper.mjs', import.meta.url);
const SPIN = 2000;
const liveHelpers = new Set<Worker>();
let splitMode: WasmKernelSplit = 'split';

/**
 * How pools run tasks: `split` (the default), `whole` (every task on the calling thread) or
 * `helpers` (the calling thread runs no part of a split task and waits for the helpers; tests use it
 * to check the helpers' results).
 */
export type WasmKernelSplit = 'split' | 'whole' | 'helpers';

/** Helper threads of wasm kernel pools in this thread that have not exited. */
export function wasmKernelHelperThreads(): number {
  return liveHelpers.size;
}

/** Sets how pools in this thread run tasks (see WasmKernelSplit); tests compare the modes on one backend. */
export function setWasmKernelSplit(mode: WasmKernelSplit): void {
  splitMode = mode;
}

/** The kernel pool of the active backend, or undefined (not a threaded wasm backend, 1 thread, no SIMD). */
export function activeWasmKernelPool(): WasmKernelPool | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return (tf.backend() as unknown as { kernelPool?: WasmKernelPool }).kernelPool;
}

/**
 * Work, in multiply-adds (or element passes), under which a part is not worth waking a helper for:
 * a dispatch costs tens of microseconds (a futex wake and the wait for the last part).
 */
export const MIN_PART_WORK = 1 << 18;

/** `minPart` for `WasmKernelPool.run` when one unit of the partition costs `unitWork`. */
export function minPartUnits(unitWork: number): number {
  return Math.max(1, Math.ceil(MIN_PART_WORK / Math.max(1, unitWork)));
}
