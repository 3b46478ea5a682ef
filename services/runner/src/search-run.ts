import { join, resolve } from 'node:path';
import {
  ConstraintKind,
  DatasetFormat,
  ExperimentState,
  ExportFormat,
  SamplePurpose,
} from '@supernetd/client';
import type { Experiment, Subnet, SupernetdClient, TrainResponse } from '@supernetd/client';
import type { SpaceSpec } from '@supernetd/sdk';
import { ProgressBar, RateEstimator } from './progress-bar.ts';
import type { ProgressSink } from './progress-bar.ts';
import { loadRun, writeRunReport } from './report.ts';
import { RUN_FILES, RunDir, budgetDirName } from './run-dir.ts';
import type { BudgetResult, MetricLine, ProbeRecord, ProgressRecord, RunManifest, RunSummary } from './run-dir.ts';
import { searchClient, trainWithProgress } from './search-client.ts';
import { UsageError, stepsForEpochs } from './search-args.ts';
import type { SearchOptions } from './search-args.ts';
import { defaultBudgets } from './space-costs.ts';

/** A server the run talks to: started in-process, or a handle on `--server`. */
export interface ServerHandle {
  address: string;
  stop(): Promise<void>;
}

/** Starts a loopback server keeping its data in `dataDir` (in-process mode). */
export type StartServer = (dataDir: string) => Promise<ServerHandle>;

/**
 * What a search takes from the `supernetd` command that runs it, so that this package imports
 * neither the server nor the engine: the in-process server, and the space's cost model.
 */
export interface SearchHost {
  /** Used when `--server` is not given. */
  startServer: StartServer;
  /** The FLOPs of the space's cheapest and most expensive subnet (the default budgets lie between). */
  spaceFlopsRange(space: SpaceSpec): { minFlops: number; maxFlops: number };
}

/** Where a run writes and what can stop it. */
export interface SearchIo {
  /** Progress bar and messages. */
  stderr: ProgressSink;
  /** The final summary lines. */
  stdout: { write(chunk: string): unknown };
  /** Aborting stops training cleanly (Ctrl-C): the server checkpoints, `--resume` continues. */
  signal?: AbortSignal;
  /** Called once with the first progress event of the Train stream (tests use it to interrupt). */
  onTrainEvent?: (e: TrainResponse) => void;
}

/** Exit code of a run stopped by the user (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** Training examples of the built-in Fashion-MNIST train split. */
const FASHION_MNIST_TRAIN = 60000;

function trainingSteps(o: SearchOptions): number {
  if (o.steps !== undefined) return o.steps;
  const epochs = o.epochs ?? 1;
  let n = o.maxTrainExamples;
  if (o.dataset.kind === 'builtin' && o.dataset.name === 'fashion-mnist') n = n > 0 ? Math.min(n, FASHION_MNIST_TRAIN) : FASHION_MNIST_TRAIN;
  if (n <= 0) throw new UsageError('--epochs needs the number of training examples: with a PATH dataset give --steps or --max-train');
  return stepsForEpochs(epochs, n, o.batchSize);
}

function datasetLabel(o: SearchOptions): string {
  return o.dataset.kind === 'builtin' ? o.dataset.name : `${o.dataset.path} (${o.dataset.format})`;
}

function datasetRef(o: SearchOptions): Record<string, unknown> {
  const common = { maxTrainExamples: o.maxTrainExamples, maxTestExamples: o.maxTestExamples };
  if (o.dataset.kind === 'builtin') return { name: o.dataset.name, ...common };
  const format = { idx: DatasetFormat.IDX, cifar10: DatasetFormat.CIFAR10, npy: DatasetFormat.NPY }[o.dataset.format];
  // the in-process server takes local paths (its datasetRoot is '/'); a remote one its own
  return { path: o.server === undefined ? resolve(o.dataset.path) : o.dataset.path, format, ...common };
}

function numbers(m: { [k: string]: number }): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v)]));
}

function subnetArchitecture(s: Subnet | undefined): BudgetResult['architecture'] {
  const a = s?.architecture;
  const out: BudgetResult['architecture'] = { resolution: a?.resolution ?? 0, widths: { ...(a?.widths ?? {}) } };
  if (a && Object.keys(a.channelIndices).length > 0) {
    out.channelIndices = Object.fromEntries(Object.entries(a.channelIndices).map(([k, v]) => [k, [...v.indices]]));
  }
  if (a && Object.keys(a.ops).length > 0) out.ops = { ...a.ops };
  return out;
}

/**
 * One whole search: create (or, with `--resume`, re-attach to) the experiment, Train with a
 * progress bar until the target step, then per budget ExportSubnet by constraint into
 * `budget-<target>/` and Evaluate the exported architecture on the test split, then ListMetrics,
 * summary.json and report.md. Returns the process exit code (0, or EXIT_INTERRUPTED when the signal
 * stopped training). Throws UsageError for a run directory that does not fit the request, and
 * SupernetdError when the server refuses a call.
 */
export async function runSearch(options: SearchOptions, io: SearchIo, host: SearchHost): Promise<number> {
  const run = await planRun(options, io, host);
  const server: ServerHandle = run.opts.server
    ? { address: run.opts.server, stop: async () => {} }
    : await host.startServer(run.dir.path(RUN_FILES.serverData));
  const api = searchClient(server.address, run.opts.token);
  try {
    const { experiment, manifest } = await openExperiment(api, run);
    const trained = await trainToTarget(api, run, experiment, manifest, io);
    if (trained.interrupted) return EXIT_INTERRUPTED;
    const final = await api.getExperiment(experiment.id);
    await manifest.save({ status: 'evaluating' });
    const results = await evaluateBudgets(api, run, final.id);
    await reportResults(api, run, final.id, results);
    await writeResults(api, run, final, manifest, results, trained.seconds, io);
    return 0;
  } catch (err) {
    run.bar.finish();
    throw err;
  } finally {
    api.close();
    await server.stop();
  }
}

/** What the phases of one run share, settled before the server is reached. */
interface SearchRun {
  dir: RunDir;
  /** The options given, or with `--resume` those the run started with (`--server` excepted). */
  opts: SearchOptions;
  /** The run's manifest as found, when resuming. */
  existing: RunManifest | undefined;
  targetStep: number;
  spaceCost: { minFlops: number; maxFlops: number };
  /** FLOPs targets, one exported subnet each. */
  budgets: number[];
  bar: ProgressBar;
}

/** The run's manifest.json as last written. */
class ManifestFile {
  private readonly dir: RunDir;
  private manifest: RunManifest;

  constructor(dir: RunDir, manifest: RunManifest) {
    this.dir = dir;
    this.manifest = manifest;
  }

  get current(): RunManifest {
    return this.manifest;
  }

  /** Merges `patch`, stamps `updatedAt` and rewrites the file. */
  async save(patch: Partial<RunManifest>): Promise<void> {
    this.manifest = { ...this.manifest, ...patch, updatedAt: new Date().toISOString() };
    await this.dir.writeJson(RUN_FILES.manifest, this.manifest);
  }
}

/** Phase 1: the run directory checked against `--resume`, the options, target step and budgets. */
async function planRun(options: SearchOptions, io: SearchIo, host: SearchHost): Promise<SearchRun> {
  const dir = new RunDir(options.out);
  await dir.ensure();
  const existing = await dir.readJson<RunManifest>(RUN_FILES.manifest);
  if (options.resume && !existing) throw new UsageError(`--resume: '${dir.root}' holds no ${RUN_FILES.manifest}; nothing to resume`);
  if (!options.resume && existing) {
    throw new UsageError(`'${dir.root}' already holds a run (experiment ${existing.experimentId}): pass --resume to continue it, or another --out`);
  }
  const opts: SearchOptions = existing ? { ...existing.options, resume: true } : options;
  if (existing && options.server !== undefined) opts.server = options.server;
  const targetStep = existing?.targetStep ?? trainingSteps(opts);
  const spaceRef = { preset: opts.space, ...(opts.spaceOverrides ? { overrides: opts.spaceOverrides } : {}) };
  const spaceCost = host.spaceFlopsRange(spaceRef);
  const budgets = opts.budgets ?? defaultBudgets(spaceCost.minFlops, spaceCost.maxFlops);
  const bar = new ProgressBar(io.stderr, Math.max(opts.progressInterval, Math.round(targetStep / 20)));
  return { dir, opts, existing, targetStep, spaceCost, budgets, bar };
}

/** Phase 2: the resumed run's experiment, or a new one with its first manifest; never a FAILED one. */
async function openExperiment(api: SupernetdClient, run: SearchRun): Promise<{ experiment: Experiment; manifest: ManifestFile }> {
  let manifest: RunManifest;
  let experiment: Experiment;
  if (run.existing) {
    manifest = run.existing;
    experiment = await api.getExperiment(run.existing.experimentId);
    run.bar.log(`resuming experiment ${experiment.id} at step ${experiment.step}/${run.targetStep}`);
  } else {
    ({ experiment, manifest } = await createExperiment(api, run));
  }
  if (experiment.state === ExperimentState.FAILED) throw new Error(`experiment ${experiment.id} failed on the server: ${experiment.error}`);
  return { experiment, manifest: new ManifestFile(run.dir, manifest) };
}

async function createExperiment(api: SupernetdClient, run: SearchRun): Promise<{ experiment: Experiment; manifest: RunManifest }> {
  const { opts, targetStep } = run;
  const experiment = await api.createExperiment({
    spec: {
      displayName: `supernetd search ${opts.strategy}`,
      searchSpace: { preset: opts.space, ...(opts.spaceOverrides ? { overrides: opts.spaceOverrides as never } : {}) },
      strategy: { id: opts.strategy, ...(opts.strategyConfig ? { config: opts.strategyConfig as never } : {}) },
      training: {
        dataset: datasetRef(opts),
        batchSize: opts.batchSize,
        totalSteps: BigInt(targetStep),
        seed: opts.seed,
      },
    },
  });
  const now = new Date().toISOString();
  const manifest: RunManifest = {
    version: 1,
    experimentId: experiment.id,
    server: opts.server ?? 'in-process',
    targetStep,
    options: opts,
    status: 'training',
    createdAt: now,
    updatedAt: now,
    trainSeconds: 0,
  };
  await run.dir.writeJson(RUN_FILES.manifest, manifest);
  run.bar.log(`experiment ${experiment.id}: ${opts.strategy} on ${datasetLabel(opts)}, ${targetStep} steps, budgets ${run.budgets.join(', ')} FLOPs`);
  return { experiment, manifest };
}

/**
 * Phase 3: Train from the experiment's step to the target, probing the budgets along the way and
 * once more at the end; `seconds` is this call's training time. Interrupted when the signal
 * cancelled training: the manifest says so and the bar how to resume.
 */
async function trainToTarget(
  api: SupernetdClient,
  run: SearchRun,
  experiment: Experiment,
  manifest: ManifestFile,
  io: SearchIo,
): Promise<{ seconds: number; interrupted: boolean }> {
  const { dir, opts, targetStep, budgets, bar } = run;
  const remaining = targetStep - Number(experiment.step);
  if (remaining <= 0) return { seconds: 0, interrupted: false };
  await manifest.save({ status: 'training' });
  const started = performance.now();
  const progress = followTraining(api, run, experiment.id, Number(experiment.step), started, io);
  const outcome = await trainWithProgress(
    api,
    { experimentId: experiment.id, steps: remaining, progressInterval: opts.progressInterval },
    progress.onEvent,
    io.signal,
  );
  await progress.settled();
  bar.finish();
  const seconds = (performance.now() - started) / 1000;
  await manifest.save({ trainSeconds: manifest.current.trainSeconds + seconds });
  if (outcome === 'cancelled') {
    const now = await api.getExperiment(experiment.id).catch(() => experiment);
    await manifest.save({ status: 'interrupted' });
    // The worker finishes its current step after the cancel, so the step may still move on.
    bar.log(
      `interrupted at step ${now.step}/${targetStep}; the server checkpoints where training stopped. ` +
        `Continue with: supernetd search --out ${dir.root} --resume`,
    );
    return { seconds, interrupted: true };
  }
  await probe(api, experiment.id, targetStep, budgets, dir);
  return { seconds, interrupted: false };
}

/**
 * The Train stream's event handler: it moves the bar, appends each event to progress.jsonl, and
 * probes the budgets now and every tenth of the run. `settled` waits for those writes and probes.
 */
function followTraining(
  api: SupernetdClient,
  run: SearchRun,
  experimentId: string,
  fromStep: number,
  started: number,
  io: SearchIo,
): { onEvent: (e: TrainResponse) => void; settled: () => Promise<void> } {
  const { dir, opts, targetStep, budgets, bar } = run;
  const rate = new RateEstimator();
  const probeEvery = Math.max(opts.progressInterval, Math.round(targetStep / 10));
  let nextProbe = fromStep + probeEvery;
  let pending: Promise<void> = probe(api, experimentId, fromStep, budgets, dir);
  let firstEvent = true;
  const queue: ProgressRecord[] = [];
  let writing: Promise<void> = Promise.resolve();
  const onEvent = (e: TrainResponse): void => {
    if (firstEvent) {
      firstEvent = false;
      io.onTrainEvent?.(e);
    }
    const step = Number(e.step);
    const target = Number(e.targetStep);
    const local = rate.observe(performance.now(), step, target);
    const sps = e.examplesPerSecond > 0 ? e.examplesPerSecond / opts.batchSize : local.stepsPerSecond;
    const eta = e.etaSeconds > 0 || e.done ? e.etaSeconds : local.etaSeconds;
    bar.update({
      step,
      targetStep: target,
      losses: numbers(e.losses),
      ...(sps === undefined ? {} : { stepsPerSecond: sps }),
      ...(eta === undefined ? {} : { etaSeconds: eta }),
      phase: e.phase,
    });
    queue.push({
      step,
      targetStep: target,
      losses: numbers(e.losses),
      learningRate: e.learningRate,
      examplesPerSecond: e.examplesPerSecond,
      phase: e.phase,
      checkpointStep: Number(e.checkpointStep),
      elapsedSeconds: (performance.now() - started) / 1000,
      time: new Date().toISOString(),
    });
    const batch = queue.splice(0);
    writing = writing.then(() => dir.appendJsonl(RUN_FILES.progress, batch));
    if (step >= nextProbe && !e.done) {
      nextProbe = step + probeEvery;
      pending = pending.then(() => probe(api, experimentId, step, budgets, dir));
    }
  };
  const settled = async (): Promise<void> => {
    await writing;
    await pending;
  };
  return { onEvent, settled };
}

/** Phase 4: per budget, the subnet ExportSubnet picks, written to its directory and evaluated. */
async function evaluateBudgets(api: SupernetdClient, run: SearchRun, experimentId: string): Promise<BudgetResult[]> {
  const results: BudgetResult[] = [];
  for (const target of run.budgets) {
    const r = await exportAndEvaluate(api, run, experimentId, target);
    results.push(r);
    run.bar.log(`budget ${target}: ${r.subnetId} ${r.cost.flops.toFixed(0)} FLOPs, test accuracy ${(r.accuracy * 100).toFixed(2)}% (${r.examples} examples)`);
  }
  return results;
}

async function exportAndEvaluate(api: SupernetdClient, run: SearchRun, experimentId: string, target: number): Promise<BudgetResult> {
  const constraint = { kind: ConstraintKind.FLOPS, target };
  const exported = await api.exportSubnet({
    experimentId,
    target: { case: 'constraint', value: constraint },
    format: ExportFormat.TFJS_LAYERS,
  });
  const exportDir = budgetDirName(target);
  await exported.writeTo(run.dir.path(exportDir));
  const subnet = exported.header.subnet;
  if (!subnet?.architecture) throw new Error(`ExportSubnet for ${target} FLOPs returned no architecture`);
  const ev = await api.evaluate({
    experimentId,
    target: { case: 'architecture', value: subnet.architecture },
    maxExamples: run.opts.maxTestExamples,
  });
  return {
    kind: 'flops',
    target,
    subnetId: subnet.id,
    source: subnet.source,
    score: subnet.score,
    architecture: subnetArchitecture(subnet),
    cost: { flops: subnet.cost?.flops ?? 0, params: subnet.cost?.params ?? 0, latencyMs: subnet.cost?.latencyMs ?? 0 },
    accuracy: ev.accuracy,
    loss: ev.loss,
    examples: ev.examples,
    exportDir,
    files: exported.header.files.map((f) => ({ path: f.path, size: Number(f.size), sha256: f.sha256 })),
  };
}

/**
 * Feeds the measurements back, as an AutoML client would; a refused report is logged, not fatal.
 * Only after every export: a strategy may deploy the best reported subnet that fits (uniform
 * does), which would otherwise hand the first budget's subnet to every larger budget.
 */
async function reportResults(api: SupernetdClient, run: SearchRun, experimentId: string, results: readonly BudgetResult[]): Promise<void> {
  for (const r of results) {
    await api
      .reportMetric({ experimentId, subnetId: r.subnetId, metrics: { accuracy: r.accuracy, loss: r.loss }, clientId: 'supernetd-search' })
      .catch((err: unknown) => run.bar.log(`ReportMetric for ${r.subnetId} failed (kept going): ${(err as Error).message}`));
  }
}

/** Phase 5: metrics.jsonl from ListMetrics, summary.json, report.md, the manifest's 'done', the summary lines. */
async function writeResults(
  api: SupernetdClient,
  run: SearchRun,
  experiment: Experiment,
  manifest: ManifestFile,
  results: BudgetResult[],
  trainSeconds: number,
  io: SearchIo,
): Promise<void> {
  const { dir, opts } = run;
  const metrics: MetricLine[] = (await api.listMetrics({ experimentId: experiment.id })).map((r) => ({
    sequence: Number(r.sequence),
    subnetId: r.subnetId,
    values: numbers(r.values),
    clientId: r.clientId,
    time: r.time ? new Date(Number(r.time.seconds) * 1000 + Math.floor(r.time.nanos / 1e6)).toISOString() : '',
  }));
  await dir.writeAtomic(RUN_FILES.metrics, metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));

  const summary: RunSummary = {
    version: 1,
    strategy: opts.strategy,
    space: opts.space,
    dataset: datasetLabel(opts),
    experimentId: experiment.id,
    backend: experiment.backend,
    seed: opts.seed,
    batchSize: opts.batchSize,
    targetStep: run.targetStep,
    stepsDone: Number(experiment.step),
    quick: opts.quick,
    trainSeconds,
    totalTrainSeconds: manifest.current.trainSeconds,
    finalLosses: numbers(experiment.lastLosses),
    spaceCost: run.spaceCost,
    budgets: results,
    notes: [],
    finishedAt: new Date().toISOString(),
  };
  await dir.writeJson(RUN_FILES.summary, summary);
  await writeRunReport(await loadRun(dir.root));
  await manifest.save({ status: 'done' });
  io.stdout.write(`run directory: ${dir.root}\nreport: ${join(dir.root, RUN_FILES.report)}\n`);
  for (const r of results) {
    io.stdout.write(`  ${budgetDirName(r.target)}: ${(r.cost.flops / 1e6).toFixed(2)} MFLOPs, test accuracy ${(r.accuracy * 100).toFixed(2)}%\n`);
  }
}

/**
 * Records each budget's current deploy choice and its score (PSS: the priority of the pool's best
 * subnet). Sampling is served from the strategy's latest state, concurrently with training.
 * A budget nothing fits yet is skipped.
 */
async function probe(api: SupernetdClient, experimentId: string, step: number, budgets: readonly number[], dir: RunDir): Promise<void> {
  const records: ProbeRecord[] = [];
  for (const budget of budgets) {
    try {
      const [s] = await api.sampleSubnet({
        experimentId,
        constraint: { kind: ConstraintKind.FLOPS, target: budget },
        count: 1,
        purpose: SamplePurpose.DEPLOY,
        clientId: 'supernetd-search',
      });
      if (s) {
        records.push({ step, budget, subnetId: s.id, source: s.source, score: s.score, flops: s.cost?.flops ?? 0, time: new Date().toISOString() });
      }
    } catch {
      // A budget the strategy cannot serve yet (or a busy server) leaves a gap in the plot, nothing more.
    }
  }
  await dir.appendJsonl(RUN_FILES.probes, records);
}
