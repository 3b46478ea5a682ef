import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { AbortedError, FailedPreconditionError, Rng, SupernetdError, UnavailableError, archKey, subnetIdOfKey } from '@supernetd/sdk';
import type { Arch, Constraint, SamplePurpose, SearchStrategy } from '@supernetd/sdk';
import { latencySource } from '@supernetd/engine/space';
import type { ResolvedSpace } from '@supernetd/engine/space';
import type { ExperimentRecord, ExperimentSpec, ExperimentStateName, ExperimentView, MetricRecord, RequestKey } from '../domain/experiment-spec.ts';
import type { Subnet } from '../domain/subnet.ts';
import { StoredDataError, subnetLine } from '../persistence/experiment-store.ts';
import type { ExperimentStore, StoredProgress } from '../persistence/experiment-store.ts';
import type { RegisteredStrategy } from '../strategies/strategy-registry.ts';
import type { WorkerSnapshot } from '../worker/protocol.ts';
import { WorkerClient } from '../worker/worker-client.ts';
import { SerialQueue } from '../util/serial-queue.ts';

/** How an experiment's worker is started, stopped when idle, and restarted when it fails. */
export interface WorkerPolicy {
  /** Seconds without a call before the worker is checkpointed and stopped; 0 never stops it. */
  seconds: number;
  /** Called after an idle worker was checkpointed and stopped. */
  onEvicted(): void;
  /**
   * Automatic restarts (from the last checkpoint) of a failed worker in a row, with no successful
   * call between them, before the experiment is marked FAILED. Default 0.
   */
  maxRestarts?: number;
  /** Called after a failed worker was replaced by a running one. */
  onRestarted?(): void;
  /**
   * Reserves a live-worker slot before a worker starts (it may stop another experiment's idle
   * worker first); throws ResourceExhaustedError(LIMIT_EXCEEDED) when none is free.
   */
  acquireSlot?(session: ExperimentSession): Promise<void>;
  /** Frees the slot once the session's worker has ended (idempotent). */
  releaseSlot?(session: ExperimentSession): void;
  /** The spec the worker is built from (dataset paths resolved inside the dataset root). */
  workerSpec?(spec: ExperimentSpec): Promise<ExperimentSpec>;
  /** Nice value the worker thread sets on itself (0 or absent: unchanged). */
  nice?: number;
  /** Threads of the worker's `wasm` backend; absent: every core. */
  engineThreads?: number;
}

/** @deprecated the former name of WorkerPolicy. */
export type WorkerIdlePolicy = WorkerPolicy;

/** A worker error's message for clients and the FAILED reason: bounded, without server paths. */
function failureReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/(^|[\s'"`(])(?:file:\/\/)?\/[^\s'"`,)]+/g, '$1<path>').slice(0, 300);
}

/** Most proposals drawn ahead for one purpose and constraint (see ExperimentSession.sample). */
const MAX_DRAWN_AHEAD = 128;
/** Most (purpose, constraint) kinds with proposals drawn ahead at once. */
const MAX_DRAW_KINDS = 16;

/** Proposals drawn ahead for one purpose and constraint, and how many to keep. */
interface DrawnAhead {
  /** Proposals not handed out yet, written or being written to subnets.jsonl; the oldest first. */
  items: Subnet[];
  /** The next item of `items` to hand out (the ones before it are taken). */
  next: number;
  /** How many to keep drawn ahead (0: none). */
  target: number;
  /** Calls of this kind waiting for their lines to be durable now. */
  waiting: number;
}

/**
 * Where an experiment stands: READY, TRAINING while training jobs run in it (how many), or FAILED
 * for good once its worker failed past maxRestarts (nothing serves it again in this process).
 */
type Lifecycle = { state: 'ready' } | { state: 'training'; jobs: number } | { state: 'failed'; reason: string };

function drawKey(c: Constraint | undefined, purpose: SamplePurpose): string {
  return c ? `${purpose}|${c.kind}|${c.target}|${c.tolerance ?? ''}` : `${purpose}|`;
}

/**
 * One experiment as the RPC thread holds it: spec, cached progress, the serving replica of the
 * strategy (restored from the worker's latest state, with its own RNG), handed-out subnets, the
 * metric log and the (lazily started) worker. With `measureLatency` and no stored table, the
 * replica is built once the worker has measured the table (its costs need it from the start).
 * A worker with nothing in flight for `idle.seconds` is checkpointed and stopped (idle eviction);
 * reads keep answering from the cached state and the next call that needs it resumes it.
 *
 * Its state changes only through its own methods: training jobs through beginTraining and
 * endTraining, FAILED through the worker's failures (fail), progress, memory and device through
 * the worker's snapshots; everything else reads them.
 */
export class ExperimentSession {
  private readonly handedOut: Map<string, Arch>;
  private readonly metricLog: MetricRecord[];
  private lifecycle: Lifecycle = { state: 'ready' };
  /** The worker's latest snapshot as stored in state.json (step, losses, strategy state, ...). */
  private latest: StoredProgress;
  /** The worker's tensor memory; undefined while no worker runs. */
  private workerMemory: { numTensors: number; numBytes: number } | undefined;
  /** Device of the engine (`CPU`, `GPU: <name>`); '' until a worker has started in this process. */
  private workerDevice = '';
  private lastUpdate: string;
  private worker: WorkerClient | undefined;
  private starting: Promise<WorkerClient> | undefined;
  private readonly writes = new SerialQueue();
  /** Handed-out subnets whose subnets.jsonl line is not durable yet. */
  private readonly subnetWrites = new Map<string, Promise<void>>();
  /** Highest metric sequence given out (stored, or being appended). */
  private lastSequence: number;
  private readonly servingRng: Rng;
  private deleted = false;
  private replicaInst: SearchStrategy | undefined;
  private measuredTable: Record<string, number> | undefined;
  /** Calls holding the worker through `withWorker` (started or waiting for it). */
  private leases = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The checkpoint-and-stop of an idle worker, while it runs. */
  private evicting: Promise<void> | undefined;
  private closed = false;
  /** Worker failures (crashes, failed starts) since the last successful call. */
  private consecutiveFailures = 0;
  /** Subnets drawn ahead per purpose and constraint (see `sample`), by drawKey. */
  private readonly ahead = new Map<string, DrawnAhead>();

  constructor(
    readonly record: ExperimentRecord,
    readonly space: ResolvedSpace,
    readonly strategy: RegisteredStrategy,
    private readonly makeReplica: (space: ResolvedSpace) => SearchStrategy,
    init: {
      subnets: Map<string, Arch>;
      metrics: MetricRecord[];
      progress: StoredProgress | undefined;
      /** The table measured earlier on this host (`measureLatency`), already in `space`. */
      measuredLatencyTable?: Record<string, number> | undefined;
    },
    private readonly store: ExperimentStore,
    private readonly backend: string,
    private readonly logger: Logger,
    private readonly idle: WorkerPolicy = { seconds: 0, onEvicted: () => undefined },
  ) {
    this.handedOut = init.subnets;
    this.metricLog = init.metrics;
    // the highest stored sequence, not the count: a damaged line skipped on load leaves a gap
    this.lastSequence = init.metrics[init.metrics.length - 1]?.sequence ?? 0;
    this.latest = init.progress ?? {
      step: 0,
      checkpointStep: 0,
      lastLosses: {},
      phase: 'train',
      strategyState: undefined,
      backend: '',
      metricSequence: 0,
      updateTime: record.createTime,
    };
    this.lastUpdate = this.latest.updateTime;
    this.measuredTable = init.measuredLatencyTable;
    if (!this.latencyPending) this.buildReplica();
    const seed = createHash('sha256').update(`serving:${record.id}:${record.spec.training.seed}`).digest().readUInt32LE(0);
    this.servingRng = new Rng(seed);
  }

  get id(): string {
    return this.record.id;
  }

  /** Subnets handed out (by id): what ReportMetric, Evaluate and ExportSubnet may name. */
  get subnets(): ReadonlyMap<string, Arch> {
    return this.handedOut;
  }

  /** The metric log, in sequence order. */
  get metrics(): readonly MetricRecord[] {
    return this.metricLog;
  }

  /** The latest progress: the worker's last snapshot, or what state.json held at load. */
  get progress(): Readonly<StoredProgress> {
    return this.latest;
  }

  /** The worker's tensor memory; undefined while no worker runs. */
  get memory(): { readonly numTensors: number; readonly numBytes: number } | undefined {
    return this.workerMemory;
  }

  /** Device of the engine (`CPU`, `GPU: <name>`); '' until a worker has started in this process. */
  get device(): string {
    return this.workerDevice;
  }

  /** When the experiment last changed (a step, a metric, a worker failure), ISO 8601. */
  get updateTime(): string {
    return this.lastUpdate;
  }

  get state(): ExperimentStateName {
    return this.lifecycle.state;
  }

  /** Why the experiment is FAILED; undefined while it is not. */
  get failureReason(): string | undefined {
    return this.lifecycle.state === 'failed' ? this.lifecycle.reason : undefined;
  }

  /** Throws FailedPreconditionError(EXPERIMENT_FAILED) once the experiment is FAILED. */
  assertNotFailed(): void {
    if (this.lifecycle.state === 'failed') throw this.failedError();
  }

  /**
   * Counts a training job in (state TRAINING until it ends). Throws EXPERIMENT_FAILED once FAILED
   * and AbortedError(TRAINING_IN_PROGRESS) when `limit` jobs already run; each job that began ends
   * with endTraining.
   */
  beginTraining(limit: number): void {
    this.assertNotFailed();
    const jobs = this.trainingJobs;
    if (jobs >= limit) {
      throw new AbortedError(
        'TRAINING_IN_PROGRESS',
        `experiment '${this.id}' is already training; the limit max_concurrent_training_per_experiment is ${limit}`,
      );
    }
    this.lifecycle = { state: 'training', jobs: jobs + 1 };
  }

  /** A training job that began has ended (READY after the last; a FAILED experiment stays FAILED). */
  endTraining(): void {
    if (this.lifecycle.state !== 'training') return;
    this.lifecycle = this.lifecycle.jobs > 1 ? { state: 'training', jobs: this.lifecycle.jobs - 1 } : { state: 'ready' };
  }

  private get trainingJobs(): number {
    return this.lifecycle.state === 'training' ? this.lifecycle.jobs : 0;
  }

  /** Marks the experiment FAILED for good with `reason` (its training jobs are no longer counted). */
  private fail(reason: string): void {
    this.lifecycle = { state: 'failed', reason };
  }

  /** True while the space's latency table is still to be measured by the worker. */
  get latencyPending(): boolean {
    return !this.space.hasLatencyTable && latencySource(this.record.spec.space) === 'measure';
  }

  /**
   * Resolves once latency costs are real: at once with a table, after the worker measured it with
   * `measureLatency`. Throws FailedPreconditionError(UNSUPPORTED) naming `what` and how to get a
   * table when the experiment has none.
   */
  async requireLatency(what: string): Promise<void> {
    if (this.space.hasLatencyTable) return;
    if (this.latencyPending) {
      await this.ensureWorker();
      if (this.space.hasLatencyTable) return;
    }
    throw new FailedPreconditionError(
      'UNSUPPORTED',
      `${what} needs a latency table and experiment '${this.id}' has none: create the experiment with ` +
        'search_space.overrides.measureLatency = true (measured on this server) or overrides.latencyTable ' +
        '(a table measured on the target device, format in docs/engine.md)',
    );
  }

  private buildReplica(): SearchStrategy {
    const replica = this.makeReplica(this.space);
    if (this.progress.strategyState !== undefined) replica.load(this.progress.strategyState);
    for (const m of this.metrics) {
      const arch = this.subnets.get(m.subnetId);
      if (m.sequence > this.progress.metricSequence && arch) replica.onMetric?.({ arch, values: m.values });
    }
    this.replicaInst = replica;
    this.dropDrawnAhead();
    return replica;
  }

  /** The serving replica, built (after the latency table is measured, if pending) on first use. */
  async replica(): Promise<SearchStrategy> {
    if (this.replicaInst) return this.replicaInst;
    if (this.latencyPending) await this.ensureWorker();
    return this.replicaInst ?? this.buildReplica();
  }

  /** The GetExperiment view, from cached state (never waits for the worker). */
  view(): ExperimentView {
    return {
      id: this.id,
      spec: this.record.spec,
      state: this.lifecycle.state,
      step: this.progress.step,
      checkpointStep: this.progress.checkpointStep,
      lastLosses: this.progress.lastLosses,
      metricCount: this.metrics.length,
      phase: this.progress.phase,
      error: this.failureReason ?? '',
      createTime: this.record.createTime,
      updateTime: this.updateTime,
      backend: this.progress.backend,
      device: this.device,
    };
  }

  /**
   * Proposals of the serving replica (plain JavaScript on the RPC thread), each durable in
   * subnets.jsonl before the call returns.
   *
   * Drawing ahead: almost every constrained sample of a large space is a subnet never handed out,
   * so each call would wait for its own line to reach the disk. When calls for the same purpose and
   * constraint wait for such writes at the same time, the session draws further proposals for them
   * from the same replica and writes them with the calls' own lines (one group commit); later calls
   * take those already durable proposals and return without waiting for the disk. They are the
   * proposals the replica would have made next (same replica state, same serving RNG stream), so
   * a client cannot tell them apart. Whatever may change the replica's decisions (a reported metric,
   * a state loaded from the worker, a rebuilt replica) drops the proposals drawn before it, and the
   * amount drawn ahead grows only while calls keep waiting together and shrinks when proposals are
   * dropped unused: a client that samples now and then never has anything drawn ahead. Dropped
   * proposals stay known subnets (their lines are in subnets.jsonl), as handed-out ones do.
   */
  async sample(constraint: Constraint | undefined, purpose: SamplePurpose, count: number): Promise<Subnet[]> {
    // (no await, and so no trip through the microtask queue, once the replica is built)
    const replica = this.replicaInst ?? (await this.replica());
    const key = drawKey(constraint, purpose);
    const slot = this.aheadSlot(key);
    const out: Subnet[] = [];
    while (out.length < count && slot.next < slot.items.length) out.push(slot.items[slot.next++] as Subnet);
    let keys: string[] | undefined;
    while (out.length < count) {
      const { subnet, key } = this.draw(replica, constraint, purpose);
      out.push(subnet);
      (keys ??= [])[out.length - 1] = key;
    }
    // a call that has to wait for a line to reach the disk while others of its kind wait too
    // (for new lines, or for proposals drawn ahead too recently): draw further ahead
    if (slot.waiting > 0 && this.anyNotDurable(out)) {
      slot.target = Math.min(MAX_DRAWN_AHEAD, Math.max(2, slot.target * 2));
    }
    const written = this.recordSubnets(out, keys);
    // refilled in batches (one group-commit append each) once half of the target is taken; the
    // proposal taken next is the oldest, the one most likely on disk already
    const left = slot.items.length - slot.next;
    if (left <= slot.target >> 1 && left < slot.target) this.drawAhead(replica, slot, constraint, purpose);
    if (!written) return out;
    slot.waiting++;
    try {
      await written;
      return out;
    } finally {
      slot.waiting--;
    }
  }

  /** True when a subnet of `subnets` is not known yet or its line is still being written. */
  private anyNotDurable(subnets: readonly Subnet[]): boolean {
    for (const s of subnets) if (!this.handedOut.has(s.id) || this.subnetWrites.has(s.id)) return true;
    return false;
  }

  /** A proposal of the replica as a subnet, with its archKey (its subnets.jsonl line is built from it). */
  private draw(replica: SearchStrategy, constraint: Constraint | undefined, purpose: SamplePurpose): { subnet: Subnet; key: string } {
    const p = replica.sample(constraint, purpose, this.servingRng);
    const arch = p.arch;
    const score = p.score ?? this.strategyScore(replica, arch) ?? 0;
    // the key once, for the id and the line
    const key = archKey(arch);
    return { subnet: { id: subnetIdOfKey(key), arch, cost: this.space.cost(arch), source: p.source, score }, key };
  }

  private aheadSlot(key: string): DrawnAhead {
    let slot = this.ahead.get(key);
    if (!slot) {
      // a bounded number of (purpose, constraint) kinds: the oldest one is forgotten
      if (this.ahead.size >= MAX_DRAW_KINDS) this.ahead.delete(this.ahead.keys().next().value as string);
      slot = { items: [], next: 0, target: 0, waiting: 0 };
      this.ahead.set(key, slot);
    }
    return slot;
  }

  /**
   * Fills `slot` up to its target with proposals whose lines join the current group commit, all
   * of them in one append.
   */
  private drawAhead(replica: SearchStrategy, slot: DrawnAhead, constraint: Constraint | undefined, purpose: SamplePurpose): void {
    // the taken items go: the rest move to the front
    if (slot.next > 0) {
      slot.items.splice(0, slot.next);
      slot.next = 0;
    }
    const first = slot.items.length;
    const keys: string[] = [];
    try {
      while (slot.items.length < slot.target) {
        const { subnet, key } = this.draw(replica, constraint, purpose);
        slot.items.push(subnet);
        keys.push(key);
      }
    } catch {
      // (nothing more fits, or the strategy failed: the calls themselves report it)
    }
    if (keys.length === 0) return;
    // a failed write forgets them (recordSubnets), and the call that takes one writes it again
    this.recordSubnets(slot.items.slice(first), keys)?.catch(() => undefined);
  }

  /** Drops the proposals drawn ahead: the replica's decisions may have changed. */
  private dropDrawnAhead(): void {
    for (const slot of this.ahead.values()) {
      const unused = slot.items.length - slot.next;
      slot.items.length = 0;
      slot.next = 0;
      if (unused === 0) continue;
      // drawn for nothing: draw less ahead next time
      slot.target = slot.target >> 1;
    }
  }

  /**
   * The serving replica's own score of `arch` (SearchStrategy.score: DNA's block ratings), or
   * `fallback` when the strategy has none for it. Never fails the call that asks.
   */
  async scoreOf(arch: Arch, fallback = 0): Promise<number> {
    return this.strategyScore(await this.replica(), arch) ?? fallback;
  }

  private strategyScore(replica: SearchStrategy, arch: Arch): number | undefined {
    try {
      const v = replica.score?.(arch);
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    } catch (err) {
      this.logger.warn({ err, experiment: this.id }, 'the strategy could not score a subnet');
      return undefined;
    }
  }

  /** The Subnet of an architecture (cost from the space). */
  describe(arch: Arch, source: string, score = 0): Subnet {
    return { id: subnetIdOfKey(archKey(arch)), arch, cost: this.space.cost(arch), source, score };
  }

  /**
   * Records subnets so their ids survive restarts; resolves once every one of them is on disk: new
   * ones are appended to subnets.jsonl (concurrent calls share one fsync), and one that another call
   * is still writing is waited for, so no reply hands out an id that a crash could forget.
   */
  async remember(subnets: Subnet[]): Promise<Subnet[]> {
    await this.recordSubnets(subnets, undefined);
    return subnets;
  }

  /**
   * `remember` without a promise when there is nothing to wait for (every subnet known and
   * durable): undefined then. The new subnets' lines go out as one append, with one promise shared
   * by their ids in `subnetWrites`; `keys[i]`, where given, is the archKey of `subnets[i]`.
   */
  private recordSubnets(subnets: readonly Subnet[], keys: readonly string[] | undefined): Promise<unknown> | undefined {
    let waits: Promise<void>[] | undefined;
    let lines = '';
    let fresh: string[] | undefined;
    for (let i = 0; i < subnets.length; i++) {
      const s = subnets[i] as Subnet;
      const w = this.subnetWrites.get(s.id);
      if (w) {
        (waits ??= []).push(w);
        continue;
      }
      if (this.handedOut.has(s.id)) continue;
      this.handedOut.set(s.id, s.arch);
      if (fresh) lines += '\n';
      lines += subnetLine(s.id, keys?.[i] ?? archKey(s.arch));
      (fresh ??= []).push(s.id);
    }
    if (fresh) {
      const ids = fresh;
      const w = this.store.appendSubnetLines(this.id, lines).then(
        () => {
          for (const id of ids) this.subnetWrites.delete(id);
        },
        (err: unknown) => {
          // not durable: forgotten, so the next call that hands one out writes it again
          for (const id of ids) {
            this.subnetWrites.delete(id);
            this.handedOut.delete(id);
          }
          throw err;
        },
      );
      for (const id of ids) this.subnetWrites.set(id, w);
      (waits ??= []).push(w);
    }
    if (!waits) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits);
  }

  /** Stores a metric durably, then passes it to the replica and the worker. Returns its sequence. */
  async reportMetric(subnet: string, arch: Arch, values: Record<string, number>, clientId: string, request?: RequestKey): Promise<number> {
    // a metric never names a subnet whose own line could still be lost
    const subnetWrite = this.subnetWrites.get(subnet);
    if (subnetWrite) await subnetWrite;
    // sequences follow the order of the appends; one whose append failed is not given out again
    // (its bytes may have reached the file), so sequences stay unique
    const record: MetricRecord = {
      sequence: ++this.lastSequence,
      subnetId: subnet,
      values,
      clientId,
      time: new Date().toISOString(),
      ...(request ? { request } : {}),
    };
    // appends waiting together share one fsync; each resolves once its record is durable, in order
    await this.store.appendMetric(this.id, record);
    this.metricLog.push(record);
    this.touch();
    // a replica not built yet replays the metric log when it is
    this.replicaInst?.onMetric?.({ arch, values });
    this.dropDrawnAhead();
    // a worker still starting was handed the metric log before this record: forward it once it runs
    // (the worker ignores sequences it has already seen)
    const target = this.worker ? Promise.resolve(this.worker) : this.starting;
    // (an evicted or evicting worker needs nothing: its successor is handed the whole log)
    target
      ?.then((w) => w.call('metric', { sequence: record.sequence, arch, values }))
      .catch((err: unknown) => {
        this.logger.warn({ err, experiment: this.id }, 'metric not forwarded to the worker; it is replayed on restart');
      })
      .finally(() => this.armIdle());
    return record.sequence;
  }

  /**
   * Runs `fn` with the running worker (started or resumed first). The worker is never evicted while
   * a call holds it, and its idle timer restarts when the last call lets go. Throws
   * FailedPreconditionError(EXPERIMENT_FAILED) once the experiment is FAILED.
   */
  async withWorker<T>(fn: (worker: WorkerClient) => Promise<T>): Promise<T> {
    this.assertNotFailed();
    this.leases++;
    this.cancelIdle();
    try {
      return await fn(await this.ensureWorker());
    } finally {
      this.leases--;
      this.armIdle();
    }
  }

  /**
   * The running worker, started (and restored from the last checkpoint) on first use or after an
   * idle eviction; a call arriving while an eviction runs waits for it and starts a fresh worker.
   * Throws FailedPreconditionError(EXPERIMENT_FAILED) once the experiment is FAILED,
   * ResourceExhaustedError(LIMIT_EXCEEDED) when no live-worker slot is free.
   */
  ensureWorker(): Promise<WorkerClient> {
    return this.startWorker(false);
  }

  private startWorker(restart: boolean): Promise<WorkerClient> {
    if (this.worker) return Promise.resolve(this.worker);
    if (this.starting) return this.starting;
    if (this.evicting) return this.evicting.then(() => this.startWorker(restart));
    if (this.lifecycle.state === 'failed') return Promise.reject(this.failedError());
    if (this.closed) return Promise.reject(new UnavailableError('SHUTTING_DOWN', `experiment '${this.id}' is being stopped`));
    this.starting = (async () => {
      // a slot refused is no failure of this experiment: nothing started
      await this.idle.acquireSlot?.(this);
      try {
        const spec = this.idle.workerSpec ? await this.idle.workerSpec(this.record.spec) : this.record.spec;
        const c: WorkerClient = new WorkerClient(
          {
            experimentId: this.id,
            spec,
            backend: this.backend,
            ...(this.idle.engineThreads !== undefined ? { threads: this.idle.engineThreads } : {}),
            strategyModule: this.strategy.moduleSpecifier,
            checkpointDir: this.store.checkpointDir(this.id),
            ...(this.idle.nice ? { nice: this.idle.nice } : {}),
            ...(this.measuredTable ? { latencyTable: this.measuredTable } : {}),
            metrics: this.metrics.flatMap((m) => {
              const arch = this.subnets.get(m.subnetId);
              return arch ? [{ sequence: m.sequence, arch, values: m.values }] : [];
            }),
          },
          {
            onSnapshot: (snap) => this.onSnapshot(snap),
            onCheckpoint: (snap) => this.onCheckpoint(snap),
            onLatencyTable: (t) => this.onLatencyTable(t),
            onFailure: (err): Error | undefined => this.onWorkerFailure(c, err),
            onCallSucceeded: () => {
              this.consecutiveFailures = 0;
            },
          },
          this.logger,
        );
        await c.start();
        return c;
      } catch (err) {
        this.idle.releaseSlot?.(this);
        throw this.onStartFailed(err, restart);
      }
    })().then(
      (c) => {
        this.starting = undefined;
        // (closed meanwhile: close() waits for this start and stops the worker it finds)
        this.worker = c;
        this.armIdle();
        if (restart) {
          this.logger.info({ experiment: this.id, step: this.progress.step }, 'experiment worker restarted from its last checkpoint');
          this.idle.onRestarted?.();
        }
        return c;
      },
      (err: unknown) => {
        this.starting = undefined;
        throw err;
      },
    );
    return this.starting;
  }

  private failedError(): FailedPreconditionError {
    return new FailedPreconditionError('EXPERIMENT_FAILED', `experiment '${this.id}' failed: ${this.failureReason ?? ''}`);
  }

  /** Counts a failure; past maxRestarts in a row the experiment is FAILED. Returns whether it is. */
  private countFailure(reason: string): boolean {
    this.consecutiveFailures++;
    this.touch();
    if (this.consecutiveFailures <= (this.idle.maxRestarts ?? 0)) return false;
    this.fail(`the experiment worker failed ${this.consecutiveFailures} times in a row (last: ${reason}); restart the server or delete the experiment`);
    this.logger.error({ experiment: this.id, failures: this.consecutiveFailures, reason }, 'experiment marked FAILED');
    return true;
  }

  /** A worker that did not start: the error for its callers (typed), and a retry when restarting. */
  private onStartFailed(err: unknown, restart: boolean): Error {
    const reason = failureReason(err);
    if (!(err instanceof SupernetdError)) this.logger.error({ err, experiment: this.id }, 'experiment worker could not start');
    const typed = err instanceof SupernetdError ? err : new FailedPreconditionError('EXPERIMENT_FAILED', `experiment '${this.id}' worker could not start: ${reason}`);
    if (this.closed) return typed;
    if (this.countFailure(reason)) return this.failedError();
    if (restart) {
      this.logger.warn({ experiment: this.id, attempt: this.consecutiveFailures, reason }, 'experiment worker restart failed; trying again');
      queueMicrotask(() => void this.startWorker(true).catch(() => undefined));
    }
    return typed;
  }

  /**
   * The running worker died or failed an operation with an untyped error: the experiment is
   * restarted from its last checkpoint in the background (or marked FAILED past maxRestarts). The
   * calls in flight fail with the returned error: UNAVAILABLE (retry) or FAILED_PRECONDITION.
   */
  private onWorkerFailure(client: WorkerClient, err: Error): Error | undefined {
    // a worker still starting reports through its start; one being evicted or closed is not serving
    if (this.worker !== client) return undefined;
    this.worker = undefined;
    this.workerMemory = undefined;
    this.cancelIdle();
    this.idle.releaseSlot?.(this);
    const reason = failureReason(err);
    if (this.closed) return new UnavailableError('SHUTTING_DOWN', `experiment '${this.id}' is being stopped`);
    if (this.countFailure(reason)) return this.failedError();
    const step = this.progress.checkpointStep;
    this.logger.error(
      { err, experiment: this.id, attempt: this.consecutiveFailures, maxRestarts: this.idle.maxRestarts ?? 0, checkpointStep: step },
      'experiment worker failed; restarting it from its last checkpoint',
    );
    queueMicrotask(() => void this.startWorker(true).catch(() => undefined));
    return new UnavailableError(
      'EXPERIMENT_FAILED',
      `experiment '${this.id}' worker failed (${reason}); it is restarted from its last checkpoint (step ${step}), retry the call`,
    );
  }

  /** True while a worker thread is up (running, or being checkpointed for an idle eviction). */
  get workerRunning(): boolean {
    return this.worker !== undefined || this.evicting !== undefined;
  }

  private cancelIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** (Re)starts the idle timer of a running worker that no call holds. */
  private armIdle(): void {
    this.cancelIdle();
    if (this.idle.seconds <= 0 || this.closed || !this.worker || this.leases > 0) return;
    this.idleTimer = setTimeout(() => this.evictIfIdle(), this.idle.seconds * 1000);
    this.idleTimer.unref();
  }

  /** True when the worker runs and nothing holds it: no call, training job or request in flight. */
  get workerIdle(): boolean {
    const w = this.worker;
    return w !== undefined && !this.closed && !this.evicting && !this.starting && this.leases === 0 && this.trainingJobs === 0 && w.inFlight === 0;
  }

  /**
   * Checkpoints and stops the worker now if it is idle (to make room for another experiment's);
   * resolves true once it is stopped, false when it was not idle.
   */
  async evictNow(): Promise<boolean> {
    if (!this.workerIdle) return false;
    this.cancelIdle();
    this.evictIfIdle();
    if (this.evicting) await this.evicting;
    return !this.workerRunning;
  }

  private evictIfIdle(): void {
    this.idleTimer = undefined;
    const worker = this.worker;
    if (!worker || this.closed || this.evicting || this.starting) return;
    // a training job, a lease or any request still waiting for its result keeps the worker
    if (this.leases > 0 || this.trainingJobs > 0 || worker.inFlight > 0) {
      this.armIdle();
      return;
    }
    this.worker = undefined;
    const step = this.progress.step;
    this.evicting = (async () => {
      try {
        // the graceful-shutdown path: checkpoint and state.json on disk, then the thread ends
        await worker.shutdown();
        await this.flush();
        this.workerMemory = undefined;
        this.idle.onEvicted();
        this.logger.info({ experiment: this.id, step, idleSeconds: this.idle.seconds }, 'idle experiment worker checkpointed and stopped');
      } catch (err) {
        await worker.terminate().catch(() => undefined);
        this.workerMemory = undefined;
        this.logger.error({ err, experiment: this.id }, 'idle experiment worker could not checkpoint; stopped, resumes from its last checkpoint');
      } finally {
        this.evicting = undefined;
        this.idle.releaseSlot?.(this);
      }
    })();
  }

  private onLatencyTable(table: Record<string, number>): void {
    if (this.deleted || this.space.hasLatencyTable) return;
    try {
      this.space.useLatencyTable(table);
    } catch (err) {
      this.logger.error({ err, experiment: this.id }, 'the worker measured a latency table this space refuses');
      return;
    }
    this.measuredTable = table;
    this.writes
      .run(() => (this.deleted ? Promise.resolve() : this.store.writeLatencyTable(this.id, table)))
      .catch((err: unknown) => this.logger.error({ err, experiment: this.id }, 'cannot write latency-table.json'));
  }

  private onSnapshot(s: WorkerSnapshot): void {
    if (this.deleted) return;
    const changed = s.step !== this.latest.step;
    this.latest = { ...this.latest, step: s.step, checkpointStep: s.checkpointStep, lastLosses: s.lastLosses, phase: s.phase, backend: s.backend };
    this.workerMemory = s.memory;
    this.workerDevice = s.device;
    try {
      // built here once the table arrived, from this snapshot's state
      if (this.replicaInst) this.replicaInst.load(s.strategyState);
      else if (!this.latencyPending) this.buildReplica().load(s.strategyState);
      this.dropDrawnAhead();
    } catch (err) {
      // the replica keeps serving from its previous state; the worker's own instance is unaffected
      this.logger.error({ err, experiment: this.id }, 'serving replica could not load the strategy state');
    }
    if (changed) this.touch();
  }

  private onCheckpoint(s: WorkerSnapshot): void {
    this.onSnapshot(s);
    const progress: StoredProgress = {
      step: s.step,
      checkpointStep: s.checkpointStep,
      lastLosses: s.lastLosses,
      phase: s.phase,
      strategyState: s.strategyState,
      backend: s.backend,
      metricSequence: s.metricSequence,
      updateTime: new Date().toISOString(),
    };
    this.writes
      .run(() => (this.deleted ? Promise.resolve() : this.store.writeProgress(this.id, progress)))
      .catch((err: unknown) => this.logger.error({ err, experiment: this.id }, 'cannot write state.json'));
  }

  private touch(): void {
    this.lastUpdate = new Date().toISOString();
  }

  /** Waits for pending writes (state files and the append logs). */
  async flush(): Promise<void> {
    await this.writes.run(() => Promise.resolve());
    await this.store.drainLogs(this.id);
  }

  /** Checkpoints and stops the worker (graceful shutdown). */
  shutdown(): Promise<void> {
    return this.close((worker) => worker.shutdown());
  }

  /** Stops the worker at once (deletion). */
  terminate(): Promise<void> {
    this.deleted = true;
    return this.close((worker) => worker.terminate());
  }

  /** Refuses new work, waits for an eviction or start in progress, then stops the worker with `stop`. */
  private async close(stop: (worker: NonNullable<typeof this.worker>) => Promise<void>): Promise<void> {
    this.closed = true;
    this.cancelIdle();
    if (this.evicting) await this.evicting;
    const starting = this.starting;
    if (starting) await starting.catch(() => undefined);
    const worker = this.worker;
    this.worker = undefined;
    try {
      if (worker) await stop(worker);
    } finally {
      this.idle.releaseSlot?.(this);
    }
    await this.flush();
  }
}

/**
 * The view of a stored experiment that could not be loaded (damaged spec.json or state.json, a
 * strategy no longer registered, ...): state FAILED with `reason`, listed and deletable but serving
 * nothing else. The spec is what could be read of spec.json, else empty.
 */
export function unloadableView(id: string, reason: string, record: ExperimentRecord | undefined, time: string): ExperimentView {
  const spec: ExperimentRecord['spec'] = record?.spec ?? {
    displayName: '',
    space: { preset: '' },
    strategy: { id: '', config: {} },
    training: {
      dataset: {},
      batchSize: 0,
      totalSteps: 0,
      optimizer: { kind: 'sgd', learningRate: 0 },
      labelSmoothing: 0,
      seed: 0,
      checkpointInterval: 0,
    },
  };
  return {
    id,
    spec,
    state: 'failed',
    step: 0,
    checkpointStep: 0,
    lastLosses: {},
    metricCount: 0,
    phase: '',
    error: `experiment cannot be loaded: ${reason}`,
    createTime: record?.createTime ?? time,
    updateTime: time,
    backend: '',
    device: '',
  };
}

/**
 * A load failure's reason for clients: the StoredDataError or SupernetdError message, any other
 * error as its class name only; server paths (the data directory) are replaced by '<data-dir>'.
 */
export function loadFailureReason(err: unknown, dataRoot: string): string {
  const message = err instanceof StoredDataError || err instanceof SupernetdError ? err.message : `${(err as Error)?.name ?? 'Error'} while loading`;
  return message.split(dataRoot).join('<data-dir>').slice(0, 500);
}
