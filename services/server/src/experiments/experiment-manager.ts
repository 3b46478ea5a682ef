import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import { checkSpaceLimits, inlineBatchLimits, latencySource, resolveSpace } from '@supernetd/engine/space';
import {
  AlreadyExistsError,
  CancelledError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from '@supernetd/sdk';
import type { SupernetdError } from '@supernetd/sdk';
import type { Arch, Constraint, SamplePurpose } from '@supernetd/sdk';
import { TOKENS } from '../tokens.ts';
import { spaceLimitsOf } from '../config.ts';
import type { ServerConfig } from '../config.ts';
import type { ExperimentRecord, ExperimentSpec, ExperimentView, MetricRecord, RequestKey } from '../domain/experiment-spec.ts';
import type { Subnet } from '../domain/subnet.ts';
import { EXPERIMENT_ID_PATTERN } from '../persistence/experiment-store.ts';
import type { ExperimentStore } from '../persistence/experiment-store.ts';
import type { StrategyRegistry } from '../strategies/strategy-registry.ts';
import type { RawBatchMessage, TrainProgress, WorkerOps } from '../worker/protocol.ts';
import type { ServerMetrics } from '../observability/server-metrics.ts';
import { ExperimentSession, loadFailureReason, unloadableView } from './experiment-session.ts';
import { quote } from '../errors/to-status.ts';
import { prepareRetrain, removeInheritFiles, writeInheritFiles } from './retrain.ts';
import { builtinDatasetList, confineDatasetPath, isBuiltinDataset } from './dataset-root.ts';
import type { InheritFiles } from './retrain.ts';

/** Largest SampleSubnet count. */
export const MAX_SAMPLE_COUNT = 64;

/** Which subnet an Evaluate or ExportSubnet call is about. */
export type SubnetTarget = { subnetId: string } | { arch: Arch } | { constraint: Constraint };

/** A training call's outcome. */
export interface TrainOutcome {
  step: number;
  losses: Record<string, number>;
  learningRate: number;
  subnets: Subnet[];
  checkpointStep: number;
  cancelled: boolean;
}

/**
 * Experiment lifecycle and every operation on an experiment: persistence in the data directory,
 * one worker thread per experiment (started on first use, stopped after `workerIdleSeconds` idle),
 * the serving replica of each strategy, limits on concurrent training. Throws the SDK's typed errors.
 */
@injectable()
export class ExperimentManager {
  private readonly sessions = new Map<string, ExperimentSession>();
  private readonly creating = new Set<string>();
  /** Stored experiments that could not be loaded: listed as FAILED with the reason, deletable. */
  private readonly unloadable = new Map<string, ExperimentView>();
  private shuttingDown = false;
  /** Sessions holding a live-worker slot (a worker starting, running or being stopped). */
  private readonly slots = new Set<ExperimentSession>();

  constructor(
    @inject(TOKENS.Config) private readonly config: ServerConfig,
    @inject(TOKENS.ExperimentStore) private readonly store: ExperimentStore,
    @inject(TOKENS.StrategyRegistry) private readonly registry: StrategyRegistry,
    @inject(TOKENS.ServerMetrics) private readonly metrics: ServerMetrics,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  /** Loads every stored experiment; with `eagerResume`, starts their workers in the background. */
  async init(): Promise<void> {
    await this.store.init();
    for (const id of await this.store.listIds()) {
      let record: ExperimentRecord | undefined;
      try {
        record = await this.store.readRecord(id);
        const session = await this.openSession(record, {
          subnets: await this.store.readSubnets(id),
          metrics: await this.store.readMetrics(id),
          progress: await this.store.readProgress(id),
        });
        this.sessions.set(id, session);
        this.logger.info({ experiment: id, step: session.progress.checkpointStep, metrics: session.metrics.length }, 'experiment loaded');
        if (this.config.eagerResume) {
          session.ensureWorker().catch((err: unknown) => this.logger.error({ err, experiment: id }, 'resume failed'));
        }
      } catch (err) {
        const reason = loadFailureReason(err, this.store.root);
        this.unloadable.set(id, unloadableView(id, reason, record, new Date().toISOString()));
        this.logger.error({ err, experiment: id, reason }, 'cannot load experiment; listed as FAILED');
      }
    }
  }

  private async openSession(
    record: ExperimentRecord,
    init: { subnets: Map<string, Arch>; metrics: MetricRecord[]; progress: ExperimentSession['progress'] | undefined },
  ): Promise<ExperimentSession> {
    const registered = this.registry.get(record.spec.strategy.id);
    // a table measured on this host earlier is reused, never re-measured
    const measured = latencySource(record.spec.space) === 'measure' ? await this.store.readLatencyTable(record.id) : undefined;
    const space = resolveSpace(record.spec.space, measured ? { latencyTable: measured } : {});
    const makeReplica = (s: typeof space) =>
      registered.factory.create({
        space: s,
        config: registered.factory.parseConfig(record.spec.strategy.config),
        seed: record.spec.training.seed,
        totalSteps: record.spec.training.totalSteps,
      });
    const session = new ExperimentSession(
      record,
      space,
      registered,
      makeReplica,
      { ...init, measuredLatencyTable: measured },
      this.store,
      this.config.backend,
      this.logger,
      {
        seconds: this.config.workerIdleSeconds,
        onEvicted: () => this.metrics.workerEvictions.inc({ experiment: record.id }),
        maxRestarts: this.config.maxWorkerRestarts,
        onRestarted: () => this.metrics.workerRestarts.inc({ experiment: record.id }),
        acquireSlot: (s) => this.acquireSlot(s),
        releaseSlot: (s) => void this.slots.delete(s),
        workerSpec: (spec) => this.workerSpec(spec),
        nice: this.config.workerNice,
        ...(this.config.engineThreads > 0 ? { engineThreads: this.config.engineThreads } : {}),
      },
    );
    this.metrics.trackExperiment(session);
    return session;
  }

  /**
   * Reserves one of `maxLiveWorkers` slots for `s`'s worker. At the limit, the least recently
   * updated idle worker of another experiment is checkpointed and stopped to make room; with none
   * idle, throws ResourceExhaustedError(LIMIT_EXCEEDED) naming the setting.
   */
  private async acquireSlot(s: ExperimentSession): Promise<void> {
    const limit = this.config.maxLiveWorkers;
    for (;;) {
      if (this.slots.has(s)) return;
      if (this.slots.size < limit) {
        this.slots.add(s);
        return;
      }
      const idle = [...this.slots].filter((o) => o !== s && o.workerIdle).sort((a, b) => a.updateTime.localeCompare(b.updateTime));
      let freed = false;
      for (const victim of idle) {
        this.logger.info({ experiment: victim.id, for: s.id, maxLiveWorkers: limit }, 'stopping an idle worker to make room under maxLiveWorkers');
        if (await victim.evictNow()) {
          freed = true;
          break;
        }
      }
      if (!freed) {
        throw new ResourceExhaustedError(
          'LIMIT_EXCEEDED',
          `${this.slots.size} experiment workers are busy; the limit maxLiveWorkers is ${limit} (each holds its own engine, see docs/configuration.md): retry later or raise it`,
        );
      }
    }
  }

  /** The spec a worker is built from: a dataset path resolved inside datasetRoot. */
  private async workerSpec(spec: ExperimentSpec): Promise<ExperimentSpec> {
    const ds = spec.training.dataset;
    if (ds.format === undefined || ds.path === undefined) return spec;
    const real = await confineDatasetPath(this.config.datasetRoot, ds.path);
    return { ...spec, training: { ...spec.training, dataset: { ...ds, path: real } } };
  }

  /**
   * Validates a spec (strategy id and config, search space, dataset), writes it, builds the
   * supernet in a new worker (measuring the latency table there with `measureLatency`) and returns
   * the experiment. Throws InvalidArgumentError with reasons UNKNOWN_STRATEGY,
   * INVALID_STRATEGY_CONFIG, INVALID_SEARCH_SPACE (naming a bad latency-table key), INVALID_DATASET,
   * FailedPreconditionError(UNSUPPORTED) when the strategy says its config asks for latency costs and
   * the space has no latency table, and AlreadyExistsError(EXPERIMENT_ALREADY_EXISTS).
   * With `spec.retrain` the space is derived from the source experiment's (see retrain.ts:
   * EXPERIMENT_NOT_FOUND, SUBNET_NOT_FOUND), and for INHERITED the worker starts from the subnet's
   * source weights, written at once as the new experiment's step-0 checkpoint.
   */
  async create(requestedId: string, spec: ExperimentSpec, request?: RequestKey): Promise<ExperimentView> {
    this.assertServing();
    const id = requestedId === '' ? `exp-${randomBytes(5).toString('hex')}` : requestedId;
    if (!EXPERIMENT_ID_PATTERN.test(id)) {
      throw new InvalidArgumentError(`experiment_id ${quote(id)} must match [a-z0-9][a-z0-9-]{0,62}`);
    }
    // retraining: the space is derived from the source experiment's, the weights maybe inherited
    let inherit: InheritFiles | undefined;
    if (spec.retrain) {
      ({ spec, inherit } = await prepareRetrain(spec, this.sessions.get(spec.retrain.sourceExperimentId), (s) => this.store.checkpointDir(s)));
    }
    const registered = this.registry.get(spec.strategy.id);
    const config = registered.factory.parseConfig(spec.strategy.config ?? {});
    const filled: ExperimentSpec = { ...spec, strategy: { id: spec.strategy.id, config: JSON.parse(JSON.stringify(config ?? {})) as unknown } };
    // sizes are checked against the configured limits before a worker allocates anything
    checkSpaceLimits(resolveSpace(filled.space), spaceLimitsOf(this.config), filled.training.batchSize);
    if (latencySource(filled.space) === 'none') {
      const key = registered.factory.latencyConfigKey?.(config);
      if (key !== undefined) {
        throw new FailedPreconditionError(
          'UNSUPPORTED',
          `strategy '${filled.strategy.id}' config ${key} asks for latency costs, which need a latency table: set ` +
            'search_space.overrides.measureLatency = true (measured on this server) or overrides.latencyTable ' +
            '(a table measured on the target device, format in docs/engine.md)',
        );
      }
    }
    const ds = filled.training.dataset;
    if (ds.format === undefined && !isBuiltinDataset(ds.name ?? '')) {
      throw new InvalidArgumentError(
        `spec.training.dataset.name '${ds.name ?? ''}' is not a built-in dataset (built-in: ${builtinDatasetList()}); set format and path for files`,
        'INVALID_DATASET',
      );
    }
    // a dataset outside datasetRoot is refused before anything is written
    if (ds.format !== undefined && ds.path !== undefined) await confineDatasetPath(this.config.datasetRoot, ds.path);
    if (this.sessions.has(id) || this.creating.has(id) || this.unloadable.has(id)) {
      throw new AlreadyExistsError('EXPERIMENT_ALREADY_EXISTS', `experiment '${id}' already exists`);
    }
    const stored = this.sessions.size + this.creating.size + this.unloadable.size;
    if (stored >= this.config.maxExperiments) {
      throw new ResourceExhaustedError(
        'LIMIT_EXCEEDED',
        `the server holds ${stored} experiments; the limit maxExperiments is ${this.config.maxExperiments}: delete some or raise it`,
      );
    }
    this.creating.add(id);
    try {
      const record: ExperimentRecord = { id, spec: filled, createTime: new Date().toISOString(), ...(request ? { request } : {}) };
      let session: ExperimentSession | undefined;
      await this.store.create(record);
      try {
        if (inherit) await writeInheritFiles(this.store.checkpointDir(id), inherit);
        session = await this.openSession(record, { subnets: new Map(), metrics: [], progress: undefined });
        await session.ensureWorker();
        if (inherit) {
          // the inherited weights become the experiment's own step-0 checkpoint: restarts need no source
          await session.withWorker((worker) => worker.call('checkpoint', {}));
          await removeInheritFiles(this.store.checkpointDir(id));
        }
        // the strategy's serving replica (built after a measured table arrived) and the table's file
        await session.replica();
        await session.flush();
        this.sessions.set(id, session);
        this.logger.info({ experiment: id, strategy: filled.strategy.id, preset: filled.space.preset }, 'experiment created');
        return session.view();
      } catch (err) {
        if (session) {
          this.metrics.untrackExperiment(id);
          await session.terminate().catch(() => undefined);
        }
        await this.store.delete(id);
        throw err;
      }
    } finally {
      this.creating.delete(id);
    }
  }

  /**
   * The experiment's session. Throws NotFoundError(EXPERIMENT_NOT_FOUND) for an id this server does
   * not hold, FailedPreconditionError(EXPERIMENT_FAILED) for one stored but not loadable.
   */
  session(id: string): ExperimentSession {
    const s = this.sessions.get(id);
    if (!s) throw this.notServing(id);
    return s;
  }

  /**
   * Checks that `id` names an experiment that serves calls, before a call reads the rest of its
   * request: NotFoundError(EXPERIMENT_NOT_FOUND) for an unknown id, FailedPreconditionError
   * (EXPERIMENT_FAILED) for one stored but not loadable.
   */
  requireExperiment(id: string): void {
    if (!this.sessions.has(id)) throw this.notServing(id);
  }

  /**
   * Checks that `id` names a stored experiment, loadable or not (what DeleteExperiment accepts):
   * NotFoundError(EXPERIMENT_NOT_FOUND) otherwise.
   */
  requireStored(id: string): void {
    if (!this.sessions.has(id) && !this.unloadable.has(id)) throw experimentNotFound(id);
  }

  /** The error for a call on an experiment without a session: unloadable (EXPERIMENT_FAILED) or unknown. */
  private notServing(id: string): SupernetdError {
    const broken = this.unloadable.get(id);
    if (broken) return new FailedPreconditionError('EXPERIMENT_FAILED', `experiment ${quote(id)} failed: ${broken.error}`);
    return experimentNotFound(id);
  }

  get(id: string): ExperimentView {
    return this.unloadable.get(id) ?? this.session(id).view();
  }

  /**
   * One page of experiments ordered by id; the token is the last id of the previous page. A page
   * also ends before its experiments' `sizeOf` would pass `maxBytes` (it holds at least one).
   */
  list(
    pageSize: number,
    pageToken: string,
    bound: { maxBytes: number; sizeOf: (v: ExperimentView) => number } = { maxBytes: Infinity, sizeOf: () => 0 },
  ): { experiments: ExperimentView[]; nextPageToken: string } {
    if (pageSize < 0) throw new InvalidArgumentError(`page_size must not be negative, got ${pageSize}`);
    const size = Math.min(pageSize === 0 ? 100 : pageSize, 1000);
    let after = '';
    if (pageToken !== '') {
      after = Buffer.from(pageToken, 'base64url').toString('utf8');
      if (!EXPERIMENT_ID_PATTERN.test(after)) throw new InvalidArgumentError('page_token is not a token this server issued');
    }
    const ids = [...this.sessions.keys(), ...this.unloadable.keys()].sort().filter((id) => id > after);
    const experiments: ExperimentView[] = [];
    let bytes = 0;
    for (const id of ids) {
      if (experiments.length >= size) break;
      const v = this.get(id);
      const b = bound.sizeOf(v);
      if (experiments.length > 0 && bytes + b > bound.maxBytes) break;
      experiments.push(v);
      bytes += b;
    }
    const more = ids.length > experiments.length;
    return {
      experiments,
      nextPageToken: more ? Buffer.from((experiments[experiments.length - 1] as ExperimentView).id, 'utf8').toString('base64url') : '',
    };
  }

  /** Stops the worker and deletes everything stored. */
  async delete(id: string): Promise<void> {
    if (this.unloadable.has(id)) {
      this.unloadable.delete(id);
      await this.store.delete(id);
      this.logger.info({ experiment: id }, 'unloadable experiment deleted');
      return;
    }
    const s = this.session(id);
    this.sessions.delete(id);
    this.metrics.untrackExperiment(id);
    await s.terminate();
    await this.store.delete(id);
    this.logger.info({ experiment: id }, 'experiment deleted');
  }

  /**
   * Proposals from the serving replica. Count 0 means 1; more than 64 is INVALID_ARGUMENT: the
   * bound is part of the API, not a configured quota, so no retry or later state can make it pass.
   */
  sample(id: string, constraint: Constraint | undefined, purpose: SamplePurpose, count: number): Promise<Subnet[]> {
    const s = this.session(id);
    if (count < 0) throw new InvalidArgumentError(`count must not be negative, got ${count}`);
    if (count > MAX_SAMPLE_COUNT) {
      throw new InvalidArgumentError(`count ${count} exceeds the limit of ${MAX_SAMPLE_COUNT} subnets per SampleSubnet call`);
    }
    if (constraint?.kind === 'latency') {
      return s.requireLatency('a LATENCY constraint').then(() => s.sample(constraint, purpose, count === 0 ? 1 : count));
    }
    return s.sample(constraint, purpose, count === 0 ? 1 : count);
  }

  /** Stores a metric durably and forwards it to the strategy. Throws SUBNET_NOT_FOUND, NON_FINITE_VALUE. */
  async reportMetric(id: string, subnet: string, values: Record<string, number>, clientId: string, request?: RequestKey): Promise<number> {
    const s = this.session(id);
    const arch = s.subnets.get(subnet);
    if (!arch) throw new NotFoundError('SUBNET_NOT_FOUND', `experiment '${id}' has never handed out subnet '${subnet}'`);
    const names = Object.keys(values);
    if (names.length === 0) throw new InvalidArgumentError('metrics must hold at least one value');
    for (const [name, v] of Object.entries(values)) {
      if (name === '') throw new InvalidArgumentError('metric names must not be empty');
      if (!Number.isFinite(v)) throw new InvalidArgumentError(`metric '${name}' is ${v}; metric values must be finite`, 'NON_FINITE_VALUE');
    }
    return s.reportMetric(subnet, arch, values, clientId, request);
  }

  /** Metric records after `afterSequence`, at most `limit` (default 1000, capped at 10000). */
  listMetrics(id: string, afterSequence: number, limit: number): MetricRecord[] {
    const s = this.session(id);
    if (limit < 0) throw new InvalidArgumentError(`limit must not be negative, got ${limit}`);
    if (afterSequence < 0) throw new InvalidArgumentError(`after_sequence must not be negative, got ${afterSequence}`);
    const n = Math.min(limit === 0 ? 1000 : limit, 10000);
    return s.metrics.filter((m) => m.sequence > afterSequence).slice(0, n);
  }

  /**
   * Runs training steps in the experiment's worker (dataset batches, or one inline batch).
   * Throws AbortedError(TRAINING_IN_PROGRESS) at the concurrency limit, CancelledError
   * when `signal` aborts before any step ran, and the worker's typed errors (SHAPE_MISMATCH, ...).
   */
  async train(
    id: string,
    args: { steps: number; progressInterval: number; batch?: RawBatchMessage },
    opts: { signal?: AbortSignal; onProgress?: (e: TrainProgress) => void; transfer?: ArrayBuffer[] } = {},
  ): Promise<TrainOutcome> {
    this.assertServing();
    const s = this.session(id);
    s.beginTraining(this.config.maxConcurrentTrainingPerExperiment);
    try {
      if (args.batch) this.checkInlineTrainBatch(s, args.batch);
      return await s.withWorker(async (worker) => {
        if (opts.signal?.aborted) throw new CancelledError();
        const callOpts: Parameters<typeof worker.call>[2] = {};
        if (opts.signal) callOpts.signal = opts.signal;
        if (opts.onProgress) callOpts.onProgress = opts.onProgress;
        if (opts.transfer) callOpts.transfer = opts.transfer;
        const before = s.progress.step;
        const r = await worker.call('train', args, callOpts);
        // the checkpoint's state.json is queued before the result arrives; acknowledge only once it is on disk
        await s.flush();
        if (r.cancelled && !opts.signal?.aborted) {
          // stopped by the server's shutdown, not by the caller: not a finished job
          throw new UnavailableError(
            'SHUTTING_DOWN',
            `the server is shutting down: training of '${id}' stopped at step ${r.step} of ${before + args.steps}, checkpoint at step ${r.checkpointStep}; call Train again after the restart`,
          );
        }
        this.metrics.trainingSteps.inc({ experiment: id }, r.step - before);
        const subnets = await s.remember(r.archs.map((a) => s.describe(a, 'train')));
        return { step: r.step, losses: r.losses, learningRate: r.learningRate, subnets, checkpointStep: r.checkpointStep, cancelled: r.cancelled };
      });
    } finally {
      s.endTraining();
    }
  }

  /**
   * Refuses a TrainStep batch whose estimated training-step memory exceeds maxBatchMemoryBytes
   * (ResourceExhaustedError LIMIT_EXCEEDED); the spec's own batch size is always allowed.
   */
  private checkInlineTrainBatch(s: ExperimentSession, batch: RawBatchMessage): void {
    const n = Array.isArray(batch.images?.shape) ? (batch.images.shape[0] ?? 0) : 0;
    const max = Math.max(s.record.spec.training.batchSize, inlineBatchLimits(s.space, this.config.maxBatchMemoryBytes).trainImages);
    if (n > max) {
      throw new ResourceExhaustedError(
        'LIMIT_EXCEEDED',
        `an inline training batch of ${n} images exceeds what one step may hold: at most ${max} images of this search space fit the limit maxBatchMemoryBytes (${this.config.maxBatchMemoryBytes}); split the batch`,
      );
    }
  }

  /**
   * Resolves a target to a subnet: a handed-out id, any valid architecture, or the deploy choice;
   * its score is the strategy's own (SearchStrategy.score, else the deploy proposal's), 0 when none.
   * A constraint runs the strategy's search in the worker; `signal` (the caller's cancel or
   * deadline) stops it there, and its progress is logged.
   */
  async resolveTarget(id: string, target: SubnetTarget | undefined, signal?: AbortSignal): Promise<Subnet> {
    const s = this.session(id);
    if (!target) throw new InvalidArgumentError('target is required: set subnet_id, architecture or constraint');
    if ('subnetId' in target) {
      const arch = s.subnets.get(target.subnetId);
      if (!arch) throw new NotFoundError('SUBNET_NOT_FOUND', `experiment '${id}' has never handed out subnet '${target.subnetId}'`);
      return s.describe(arch, 'subnet', await s.scoreOf(arch));
    }
    if ('arch' in target) {
      s.space.validateArch(target.arch);
      const [sub] = await s.remember([s.describe(target.arch, 'architecture', await s.scoreOf(target.arch))]);
      return sub as Subnet;
    }
    if (target.constraint.kind === 'latency') await s.requireLatency('a LATENCY constraint');
    const constraint = target.constraint;
    const p = await s.withWorker((worker) =>
      worker.call(
        'deploy',
        { constraint },
        {
          ...(signal ? { signal } : {}),
          onSearchProgress: (e) =>
            this.logger.info({ experiment: id, constraint, done: e.done, total: e.total, note: e.note, seconds: Math.round(e.seconds) }, 'deploy search progress'),
        },
      ),
    );
    const [sub] = await s.remember([s.describe(p.arch, p.source, p.score ?? (await s.scoreOf(p.arch)))]);
    return sub as Subnet;
  }

  /** Accuracy and loss of a subnet on the test split or an inline batch. */
  async evaluate(
    id: string,
    args: Omit<WorkerOps['evaluate']['args'], 'arch'> & { target: SubnetTarget | undefined },
    transfer?: ArrayBuffer[],
    signal?: AbortSignal,
  ) {
    this.assertServing();
    const subnet = await this.resolveTarget(id, args.target, signal);
    const evalArgs: WorkerOps['evaluate']['args'] = { arch: subnet.arch, recalibrate: args.recalibrate };
    if (args.maxExamples !== undefined) evalArgs.maxExamples = args.maxExamples;
    if (args.batch) {
      evalArgs.batch = args.batch;
      // evaluated in chunks whose activations fit maxBatchMemoryBytes, whatever the batch's size
      evalArgs.chunkImages = inlineBatchLimits(this.session(id).space, this.config.maxBatchMemoryBytes).evalImages;
    }
    const r = await this.session(id).withWorker((worker) => worker.call('evaluate', evalArgs, transfer ? { transfer } : {}));
    return { subnet, ...r };
  }

  /** A standalone model of a subnet with inherited weights. */
  async export(id: string, target: SubnetTarget | undefined, recalibrate: boolean, signal?: AbortSignal) {
    this.assertServing();
    const subnet = await this.resolveTarget(id, target, signal);
    const r = await this.session(id).withWorker((worker) => worker.call('export', { arch: subnet.arch, recalibrate }));
    return { subnet: { ...subnet, cost: r.cost }, files: r.files };
  }

  /** Every session (for metrics and shutdown). */
  all(): ExperimentSession[] {
    return [...this.sessions.values()];
  }

  private assertServing(): void {
    if (this.shuttingDown) throw new UnavailableError('SHUTTING_DOWN', 'the server is shutting down');
  }

  /** Stops training at a step boundary, checkpoints every experiment and stops the workers. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      this.all().map((s) =>
        s.shutdown().catch((err: unknown) => this.logger.error({ err, experiment: s.id }, 'shutdown checkpoint failed')),
      ),
    );
  }

  /** tsyringe calls this on `container.dispose()`. */
  async dispose(): Promise<void> {
    await this.shutdown();
  }
}

function experimentNotFound(id: string): NotFoundError {
  return new NotFoundError('EXPERIMENT_NOT_FOUND', `experiment ${quote(id)} not found`);
}
