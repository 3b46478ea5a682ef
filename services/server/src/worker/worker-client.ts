import { Worker } from 'node:worker_threads';
import { deserializeError, FailedPreconditionError, SupernetdError } from '@supernetd/sdk';
import type { Logger } from 'pino';
import { processDatasets } from './dataset-shelf.ts';
import type { SearchProgress, TrainProgress, WorkerInit, WorkerMessage, WorkerOpName, WorkerOps, WorkerSnapshot } from './protocol.ts';

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const ENTRY = new URL('./experiment-worker.ts', import.meta.url).href;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: (e: TrainProgress) => void;
  onSearchProgress?: (e: SearchProgress) => void;
}

/** Callbacks a worker client reports through. */
export interface WorkerEvents {
  /** A fresh snapshot of the worker's state (after steps, jobs and progress intervals). */
  onSnapshot(snapshot: WorkerSnapshot): void;
  /** A checkpoint was written. */
  onCheckpoint(snapshot: WorkerSnapshot): void;
  /** The worker measured the experiment's latency table (before its first snapshot). */
  onLatencyTable?(table: Record<string, number>): void;
  /**
   * The worker died outside of a shutdown, or an operation failed with an error that is not one of
   * the typed SupernetdErrors (a wasm trap such as "memory access out of bounds", a strategy's bug):
   * its engine may be corrupt, so the thread is ended. Returns the error the calls in flight are
   * rejected with (by default FAILED_PRECONDITION / EXPERIMENT_FAILED).
   */
  onFailure(error: Error): Error | void;
  /** A call returned a result (the worker is healthy). */
  onCallSucceeded?(): void;
}

/**
 * The RPC thread's handle on one experiment worker thread: starts it, sends it jobs, routes its
 * results, progress events and snapshots. `start()` rejects with the worker's typed error when the
 * engine or strategy cannot be built.
 */
export class WorkerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exiting = false;

  constructor(
    private readonly init: Omit<WorkerInit, 'entry'>,
    private readonly events: WorkerEvents,
    private readonly logger: Logger,
  ) {}

  /** Starts the thread and resolves with its first snapshot once the runtime is built and restored. */
  start(): Promise<WorkerSnapshot> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(BOOTSTRAP, { workerData: { ...this.init, datasets: processDatasets.available(), entry: ENTRY } satisfies WorkerInit });
      // dataset sources this thread uses, released from the process's shelf when it exits
      const datasets = new Set<string>();
      this.worker = worker;
      let ready = false;
      worker.on('message', (m: WorkerMessage) => {
        switch (m.kind) {
          case 'ready':
            ready = true;
            if (m.measuredLatencyTable) this.events.onLatencyTable?.(m.measuredLatencyTable);
            this.events.onSnapshot(m.snapshot);
            resolve(m.snapshot);
            return;
          case 'init-failed':
            this.exiting = true;
            void worker.terminate();
            reject(deserializeError(m.error));
            return;
          case 'snapshot':
            this.events.onSnapshot(m.snapshot);
            return;
          case 'checkpointed':
            this.events.onCheckpoint(m.snapshot);
            return;
          case 'dataset':
            if (!datasets.has(m.dataset.key)) {
              datasets.add(m.dataset.key);
              processDatasets.acquire(m.dataset, m.loaded);
            }
            return;
          case 'progress':
            this.pending.get(m.id)?.onProgress?.(m.event);
            return;
          case 'search-progress':
            this.pending.get(m.id)?.onSearchProgress?.(m.event);
            return;
          case 'result': {
            const p = this.pending.get(m.id);
            if (!p) return;
            if (m.ok) {
              this.pending.delete(m.id);
              this.events.onCallSucceeded?.();
              p.resolve(m.value);
              return;
            }
            const err = deserializeError(m.error);
            if (err instanceof SupernetdError) {
              this.pending.delete(m.id);
              p.reject(err);
              return;
            }
            // an untyped error leaves the engine's state unknown (a trapped wasm heap stays broken):
            // end the thread; this call and every other in flight fail with the failure's error
            this.logger.error({ err, experiment: this.init.experimentId }, 'experiment worker failed an operation with an unexpected error; stopping it');
            this.fail(err);
            void worker.terminate();
            return;
          }
        }
      });
      worker.on('error', (err) => {
        this.logger.error({ err, experiment: this.init.experimentId }, 'experiment worker crashed');
        if (!ready) reject(err);
        this.fail(err);
      });
      worker.on('exit', (code) => {
        for (const key of datasets) processDatasets.release(key);
        datasets.clear();
        const err = new Error(`experiment worker exited with code ${code}`);
        if (!ready) reject(err);
        if (!this.exiting) this.fail(err);
        this.worker = undefined;
      });
    });
  }

  private fail(err: Error): void {
    let wrapped: Error = new FailedPreconditionError('EXPERIMENT_FAILED', `experiment '${this.init.experimentId}' worker failed: ${err.message}`);
    if (!this.exiting) {
      this.exiting = true;
      wrapped = this.events.onFailure(err) ?? wrapped;
    }
    for (const p of this.pending.values()) p.reject(wrapped);
    this.pending.clear();
  }

  /** Requests sent to the worker whose result has not arrived yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Runs `op` in the worker. `onProgress` receives training progress events of this call. */
  call<K extends WorkerOpName>(
    op: K,
    args: WorkerOps[K]['args'],
    opts: {
      onProgress?: (e: TrainProgress) => void;
      onSearchProgress?: (e: SearchProgress) => void;
      signal?: AbortSignal;
      transfer?: ArrayBuffer[];
    } = {},
  ): Promise<WorkerOps[K]['result']> {
    const worker = this.worker;
    if (!worker || this.exiting) {
      return Promise.reject(new FailedPreconditionError('EXPERIMENT_FAILED', `experiment '${this.init.experimentId}' has no running worker`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = { resolve: resolve as (v: unknown) => void, reject };
      if (opts.onProgress) entry.onProgress = opts.onProgress;
      if (opts.onSearchProgress) entry.onSearchProgress = opts.onSearchProgress;
      this.pending.set(id, entry);
      if (opts.signal) {
        const onAbort = () => worker.postMessage({ kind: 'cancel', id });
        if (opts.signal.aborted) onAbort();
        else opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      worker.postMessage({ kind: 'call', id, op, args }, opts.transfer ?? []);
    });
  }

  /** Checkpoints, disposes the runtime and ends the thread. */
  async shutdown(): Promise<void> {
    if (!this.worker || this.exiting) return;
    try {
      await this.call('shutdown', {});
    } finally {
      this.exiting = true;
      await this.worker?.terminate();
    }
  }

  /** Ends the thread at once, without a checkpoint (experiment deletion). */
  async terminate(): Promise<void> {
    this.exiting = true;
    for (const p of this.pending.values()) p.reject(new FailedPreconditionError('EXPERIMENT_FAILED', 'the experiment worker was stopped'));
    this.pending.clear();
    await this.worker?.terminate();
  }
}
