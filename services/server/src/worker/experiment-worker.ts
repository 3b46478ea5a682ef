// Entry of one experiment's worker thread: hosts the EngineRuntime and the training instance of the
// strategy, runs jobs for the RPC thread and publishes snapshots of its state.
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { backendInfo, createEngineRuntime, latencySource, shareDatasets } from '@supernetd/engine';
import type { EngineRuntime } from '@supernetd/engine';
import { CancelledError, FailedPreconditionError, InvalidArgumentError, Rng, serializeError } from '@supernetd/sdk';
import type { SearchControl, SearchStrategy, StepContext, StrategyFactory, StrategyModule } from '@supernetd/sdk';
import type { HostMessage, TrainProgress, TrainResult, WorkerInit, WorkerMessage, WorkerOps, WorkerSnapshot } from './protocol.ts';
import { SerialQueue } from '../util/serial-queue.ts';

interface CheckpointExtra {
  strategyState: unknown;
  lastLosses: Record<string, number>;
  learningRate: number;
  metricSequence: number;
}

const port = parentPort;
if (!port) throw new Error('experiment-worker must run in a worker thread');
const init = workerData as WorkerInit;

/**
 * Lowers this thread's scheduling priority to `init.nice`. On Linux a nice value belongs to a
 * thread, and setpriority with a thread id sets that thread's alone (threads it starts later, such
 * as a native backend's, inherit it); the id is read from /proc/thread-self. Elsewhere it would
 * lower the whole process, RPC thread included, so it is left alone there, and a failure only
 * leaves the priority unchanged (with a process warning on stderr either way).
 */
function applyNice(): string | undefined {
  if (!init.nice) return undefined;
  if (process.platform !== 'linux') return `workerNice ${init.nice} not applied: thread priorities are set on Linux only`;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, init.nice);
    return undefined;
  } catch (err) {
    return `workerNice ${init.nice} not applied: ${(err as Error).message}`;
  }
}
const niceProblem = applyNice();
if (niceProblem) process.emitWarning(niceProblem);

function post(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function main(): Promise<void> {
  const mod = (await import(init.strategyModule)) as StrategyModule;
  const factories: StrategyFactory[] = [...(mod.strategies ?? []), ...(mod.strategy ? [mod.strategy] : [])];
  const factory = factories.find((f) => f.id === init.spec.strategy.id);
  if (!factory) throw new Error(`module ${init.strategyModule} no longer exports strategy '${init.spec.strategy.id}'`);
  const t = init.spec.training;
  // One copy of each dataset per process: reuse what other workers loaded, publish what this one loads.
  shareDatasets(init.datasets ?? [], (dataset, loaded) => post({ kind: 'dataset', dataset, loaded }));
  const runtime = await createEngineRuntime({
    space: init.spec.space,
    training: {
      dataset: t.dataset,
      batchSize: t.batchSize,
      totalSteps: t.totalSteps,
      optimizer: t.optimizer,
      labelSmoothing: t.labelSmoothing,
      seed: t.seed,
    },
    backend: init.backend as 'auto',
    ...(init.threads !== undefined ? { threads: init.threads } : {}),
    ...(init.latencyTable ? { latencyTable: init.latencyTable } : {}),
  });
  // Measured before the strategy exists, so it sees latency costs from its first call.
  const measured = !init.latencyTable && latencySource(init.spec.space) === 'measure' ? runtime.measureLatencyTable() : undefined;
  const strategy = factory.create({
    space: runtime.space,
    config: factory.parseConfig(init.spec.strategy.config),
    seed: t.seed,
    totalSteps: t.totalSteps,
  });
  const host = new WorkerHost(runtime, strategy);
  await host.restore();
  port!.on('message', (m: HostMessage) => host.onMessage(m));
  post({ kind: 'ready', snapshot: host.snapshot(), ...(measured ? { measuredLatencyTable: measured } : {}) });
}

class WorkerHost {
  /** Serialises engine work: one step, evaluation or export at a time. */
  private readonly lane = new SerialQueue();
  private readonly cancelled = new Set<number>();
  private readonly deployRng: Rng;
  private lastLosses: Record<string, number> = {};
  private learningRate = 0;
  private checkpointStep = 0;
  private metricSequence = 0;
  private shuttingDown = false;
  private hasCheckpoint = false;
  private disposed = false;
  private readonly activeTrains = new Set<Promise<unknown>>();
  private readonly device = backendInfo().device;

  constructor(
    private readonly runtime: EngineRuntime,
    private readonly strategy: SearchStrategy,
  ) {
    this.deployRng = new Rng((init.spec.training.seed ^ 0x6d2b79f5) >>> 0);
    this.learningRate = runtime.engine.learningRate();
  }

  async restore(): Promise<void> {
    const extra = (await this.runtime.loadCheckpoint(init.checkpointDir)) as CheckpointExtra | undefined;
    if (extra) {
      this.strategy.load(extra.strategyState);
      this.lastLosses = extra.lastLosses ?? {};
      this.learningRate = extra.learningRate ?? this.learningRate;
      this.metricSequence = extra.metricSequence ?? 0;
      this.checkpointStep = this.runtime.step;
      this.hasCheckpoint = true;
    }
    for (const m of init.metrics) {
      if (m.sequence <= this.metricSequence) continue;
      this.strategy.onMetric?.({ arch: m.arch, values: m.values });
      this.metricSequence = m.sequence;
    }
  }

  private ctx(): StepContext {
    return { step: this.runtime.step, totalSteps: init.spec.training.totalSteps, stepsPerEpoch: this.runtime.stepsPerEpoch };
  }

  snapshot(): WorkerSnapshot {
    return {
      step: this.runtime.step,
      checkpointStep: this.checkpointStep,
      lastLosses: this.lastLosses,
      learningRate: this.learningRate,
      phase: this.strategy.phase?.(this.ctx()) ?? 'train',
      strategyState: this.strategy.state(),
      backend: this.runtime.engine.backend,
      device: this.device,
      metricSequence: this.metricSequence,
      memory: this.runtime.memory(),
      stepsPerEpoch: this.runtime.stepsPerEpoch,
    };
  }

  onMessage(m: HostMessage): void {
    if (m.kind === 'cancel') {
      this.cancelled.add(m.id);
      return;
    }
    void this.dispatch(m.id, m.op, m.args);
  }

  private async dispatch(id: number, op: keyof WorkerOps, args: unknown): Promise<void> {
    try {
      const value = await this.run(id, op, args);
      const transfer: ArrayBuffer[] = [];
      if (op === 'export') {
        for (const f of (value as WorkerOps['export']['result']).files) transfer.push(f.data.buffer as ArrayBuffer);
      }
      post({ kind: 'result', id, ok: true, value }, transfer);
    } catch (err) {
      post({ kind: 'result', id, ok: false, error: serializeError(err) });
    } finally {
      this.cancelled.delete(id);
      if (!this.disposed) post({ kind: 'snapshot', snapshot: this.snapshot() });
    }
  }

  private run(id: number, op: keyof WorkerOps, args: unknown): Promise<unknown> {
    switch (op) {
      case 'train': {
        const job = this.train(id, args as WorkerOps['train']['args']);
        this.activeTrains.add(job);
        void job.catch(() => undefined).finally(() => this.activeTrains.delete(job));
        return job;
      }
      case 'evaluate': {
        const a = args as WorkerOps['evaluate']['args'];
        return this.lane.run(() => {
          const opts: Parameters<EngineRuntime['evaluate']>[1] & object = { recalibrate: a.recalibrate };
          if (a.maxExamples !== undefined) opts.maxExamples = a.maxExamples;
          // an inline batch runs in chunks (sized by the RPC thread to fit maxBatchMemoryBytes)
          if (a.batch) opts.inline = { ...a.batch, chunkImages: a.chunkImages ?? Number.MAX_SAFE_INTEGER };
          return this.runtime.evaluate(a.arch, opts);
        });
      }
      case 'export': {
        const a = args as WorkerOps['export']['args'];
        return this.lane.run(() => this.runtime.exportSubnet(a.arch, { recalibrate: a.recalibrate }));
      }
      case 'deploy': {
        const a = args as WorkerOps['deploy']['args'];
        const search = this.strategy.search?.bind(this.strategy);
        if (search) return this.lane.run(() => search(this.runtime.engine, a.constraint, this.searchControl(id)));
        return Promise.resolve(this.strategy.sample(a.constraint, 'deploy', this.deployRng));
      }
      case 'metric': {
        const a = args as WorkerOps['metric']['args'];
        if (a.sequence > this.metricSequence) {
          this.strategy.onMetric?.({ arch: a.arch, values: a.values });
          this.metricSequence = a.sequence;
        }
        return Promise.resolve(null);
      }
      case 'checkpoint':
        return this.lane.run(() => this.checkpoint());
      case 'shutdown':
        this.shuttingDown = true;
        return Promise.allSettled([...this.activeTrains]).then(() =>
          this.lane.run(async () => {
            const r = await this.checkpoint();
            this.runtime.dispose();
            this.disposed = true;
            return r;
          }),
        );
      default:
        return Promise.reject(new InvalidArgumentError(`unknown worker operation '${String(op)}'`));
    }
  }

  /**
   * The control a deploy search runs under: `yield` lets cancel messages in (the caller's cancel or
   * deadline) and then stops the search with CancelledError; progress goes to the RPC thread at most
   * once a second, plus the last report.
   */
  private searchControl(id: number): SearchControl {
    const started = performance.now();
    let lastPost = -Infinity;
    return {
      yield: async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.cancelled.has(id)) throw new CancelledError('search cancelled by the caller (cancel or deadline); its partial result was dropped');
        if (this.shuttingDown) throw new CancelledError('search stopped: the server is shutting down');
      },
      progress: (done, total, note = '') => {
        const now = performance.now();
        if (now - lastPost < 1000 && done < total) return;
        lastPost = now;
        post({ kind: 'search-progress', id, event: { done, total, note, seconds: (now - started) / 1000 } });
      },
    };
  }

  private async checkpoint(): Promise<{ checkpointStep: number }> {
    if (this.runtime.step !== this.checkpointStep || !this.hasCheckpoint) {
      const extra: CheckpointExtra = {
        strategyState: this.strategy.state(),
        lastLosses: this.lastLosses,
        learningRate: this.learningRate,
        metricSequence: this.metricSequence,
      };
      await this.runtime.saveCheckpoint(init.checkpointDir, extra);
      this.checkpointStep = this.runtime.step;
      this.hasCheckpoint = true;
      post({ kind: 'checkpointed', snapshot: this.snapshot() });
    }
    return { checkpointStep: this.checkpointStep };
  }

  private async train(id: number, a: WorkerOps['train']['args']): Promise<TrainResult> {
    if (this.shuttingDown) throw new FailedPreconditionError('SHUTTING_DOWN', 'the server is shutting down');
    const interval = Math.max(1, init.spec.training.checkpointInterval);
    const startStep = this.runtime.step;
    const targetStep = startStep + a.steps;
    let archs: TrainResult['archs'] = [];
    let windowStart = performance.now();
    let windowSteps = 0;
    let done = 0;
    let cancelled = false;
    for (; done < a.steps; done++) {
      if (this.cancelled.has(id) || this.shuttingDown) {
        cancelled = true;
        break;
      }
      await this.lane.run(async () => {
        const batch = a.batch ? this.runtime.batchFromRaw(a.batch.images, a.batch.labels) : this.runtime.nextTrainBatch();
        try {
          this.learningRate = this.runtime.engine.learningRate();
          const log = await this.strategy.trainStep(this.runtime.engine, batch, this.ctx());
          this.lastLosses = log.losses;
          archs = log.archs;
        } finally {
          batch.x.dispose();
          batch.y.dispose();
        }
        if (this.runtime.step % interval === 0) await this.checkpoint();
      });
      windowSteps++;
      const last = done + 1 === a.steps;
      if ((done + 1) % a.progressInterval === 0 && !last) {
        this.progress(id, targetStep, windowStart, windowSteps, false);
        windowStart = performance.now();
        windowSteps = 0;
      }
      // let cancel messages and snapshot reads through between steps
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await this.lane.run(() => this.checkpoint());
    // a job stopped early (cancel, shutdown) is not done: its last event says so
    this.progress(id, targetStep, windowStart, windowSteps, !cancelled);
    return { step: this.runtime.step, losses: this.lastLosses, learningRate: this.learningRate, archs, checkpointStep: this.checkpointStep, cancelled };
  }

  private progress(id: number, targetStep: number, windowStart: number, windowSteps: number, done: boolean): void {
    const seconds = (performance.now() - windowStart) / 1000;
    const stepsPerSecond = windowSteps > 0 && seconds > 0 ? windowSteps / seconds : 0;
    const event: TrainProgress = {
      step: this.runtime.step,
      targetStep,
      losses: this.lastLosses,
      learningRate: this.learningRate,
      examplesPerSecond: stepsPerSecond * init.spec.training.batchSize,
      etaSeconds: stepsPerSecond > 0 ? Math.max(0, targetStep - this.runtime.step) / stepsPerSecond : 0,
      phase: this.strategy.phase?.(this.ctx()) ?? 'train',
      checkpointStep: this.checkpointStep,
      done,
    };
    post({ kind: 'progress', id, event });
    post({ kind: 'snapshot', snapshot: this.snapshot() });
  }
}

main().catch((err: unknown) => {
  post({ kind: 'init-failed', error: serializeError(err) });
});
