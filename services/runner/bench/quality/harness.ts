// The search-quality benchmarks' shared part: one small problem, one in-process server, supernet
// runs at equal compute, standalone training, and a JSON cache so each benchmark runs in parts.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConstraintKind } from '@supernetd/api';
import type { Arch, SpaceSpec } from '@supernetd/sdk';
import { Rng, writeFileAtomic } from '@supernetd/sdk';
import { resolveSpace } from '@supernetd/engine/space';
import { spaceFlopsRange, startServer } from '@supernetd/server';
import type { SupernetdClient } from '@supernetd/client';
import { searchClient, trainWithProgress } from '../../src/search-client.ts';
import { defaultBudgets } from '../../src/space-costs.ts';
import { trainAlone } from '../../src/train-alone.ts';

/**
 * The benchmark's width space: a MobileNetV1-style net for 28x28 Fashion-MNIST, five searchable
 * widths (four candidates each) and three input resolutions, 3,072 subnets from 19k to 449k
 * multiply-adds. Small enough to train each supernet for about ten epochs on two CPU cores, and
 * wide enough that trained-alone accuracy grows with FLOPs.
 */
export const WIDTH_SPACE_DEFINITION = {
  name: 'bench-width',
  inputShape: [28, 28, 1],
  numClasses: 10,
  resolutions: [16, 20, 24],
  widths: [
    { id: 'w0', base: 16, candidates: [4, 8, 12, 16] },
    { id: 'w1', base: 32, candidates: [8, 16, 24, 32] },
    { id: 'w2', base: 64, candidates: [16, 32, 48, 64] },
    { id: 'w3', base: 64, candidates: [16, 32, 48, 64] },
    { id: 'w4', base: 128, candidates: [32, 64, 96, 128] },
  ],
  blocks: [
    {
      id: 'b0',
      layers: [
        { type: 'conv', id: 'stem', out: 'w0', kernel: 3, stride: 2 },
        { type: 'dwconv', id: 'l1.dw', kernel: 3 },
        { type: 'conv', id: 'l1.pw', out: 'w1', kernel: 1 },
      ],
    },
    {
      id: 'b1',
      layers: [
        { type: 'dwconv', id: 'l2.dw', kernel: 3, stride: 2 },
        { type: 'conv', id: 'l2.pw', out: 'w2', kernel: 1 },
        { type: 'dwconv', id: 'l3.dw', kernel: 3 },
        { type: 'conv', id: 'l3.pw', out: 'w3', kernel: 1 },
      ],
    },
    {
      id: 'b2',
      layers: [
        { type: 'dwconv', id: 'l4.dw', kernel: 3, stride: 2 },
        { type: 'conv', id: 'l4.pw', out: 'w4', kernel: 1 },
      ],
    },
  ],
  tail: [
    { type: 'pool', id: 'pool' },
    { type: 'linear', id: 'classifier' },
  ],
};

/** One MBConv layer with DNA-style candidate ops (independent weights per op). */
const opLayer = (id: string, out: number, stride = 1) => ({ type: 'mbconv', id, out, stride, ops: OPS });
const OPS = [
  { name: 'MB1_3', expand: 1, kernel: 3 },
  { name: 'MB3_3', expand: 3, kernel: 3 },
  { name: 'MB6_3', expand: 6, kernel: 3 },
  { name: 'MB6_5', expand: 6, kernel: 5 },
];

/**
 * The benchmark's op space, for DNA and its uniform baseline: stem conv 3x3 stride 2 then three
 * blocks of two narrow MBConv layers (8, 16, 24 channels), each layer choosing one of four ops
 * (expansion 1, 3 or 6; kernel 3, or 5 with expansion 6), at one resolution (16): 4,096 subnets.
 * The channels are few so that the ops' capacity decides accuracy. DNA distils each block from a teacher with the same
 * block outputs.
 */
export const OPS_SPACE_DEFINITION = {
  name: 'bench-ops',
  inputShape: [28, 28, 1],
  numClasses: 10,
  resolutions: [16],
  widths: [],
  blocks: [
    { id: 'b0', layers: [{ type: 'conv', id: 'stem', out: 4, kernel: 3, stride: 2 }, opLayer('b0.0', 8), opLayer('b0.1', 8)] },
    { id: 'b1', layers: [opLayer('b1.0', 16, 2), opLayer('b1.1', 16)] },
    { id: 'b2', layers: [opLayer('b2.0', 24, 2), opLayer('b2.1', 24)] },
  ],
  tail: [
    { type: 'conv', id: 'head', out: 32, kernel: 1 },
    { type: 'pool', id: 'pool' },
    { type: 'linear', id: 'classifier' },
  ],
};

/** Which of the two benchmark spaces. */
export type SpaceKind = 'width' | 'ops';

export function spaceDefinition(kind: SpaceKind): Record<string, unknown> {
  return kind === 'ops' ? OPS_SPACE_DEFINITION : WIDTH_SPACE_DEFINITION;
}

export function spaceRef(kind: SpaceKind): SpaceSpec {
  return { preset: 'custom', overrides: { definition: spaceDefinition(kind) } };
}

/**
 * Forward/backward passes of one training step (batch `batchSize` each), per strategy with its
 * default config: the compute unit every method gets the same number of. Forward-only passes
 * (PSS's pool scoring, CafeNet's placement min) are not counted; they are listed separately.
 */
export const PASSES_PER_STEP: Record<string, { backward: number; forwardOnly: number }> = {
  uniform: { backward: 1, forwardOnly: 0 },
  sandwich: { backward: 4, forwardOnly: 0 },
  pss: { backward: 3, forwardOnly: 1 },
  cafenet: { backward: 3, forwardOnly: 4 },
  'cafenet-leftmost': { backward: 3, forwardOnly: 4 },
  'uniform-ops': { backward: 1, forwardOnly: 0 },
  // Teacher phase: the teacher's pass; block phases: one block's pass plus the teacher's forward.
  dna: { backward: 1, forwardOnly: 1 },
};

/** One method of the comparison: a strategy id and the config that differs from its defaults. */
export interface Method {
  name: string;
  strategy: string;
  config: Record<string, unknown>;
  /** The op space (DNA and its baseline); absent: the width space. */
  space?: 'ops';
}

export const spaceOf = (m: Method): SpaceKind => m.space ?? 'width';

export const METHODS: Record<string, Method> = {
  uniform: { name: 'uniform', strategy: 'uniform', config: {} },
  sandwich: { name: 'sandwich', strategy: 'sandwich', config: {} },
  pss: { name: 'pss', strategy: 'pss', config: {} },
  cafenet: { name: 'cafenet', strategy: 'cafenet', config: { placement: 'free' } },
  'cafenet-leftmost': { name: 'cafenet-leftmost', strategy: 'cafenet', config: { placement: 'leftmost' } },
  'uniform-ops': { name: 'uniform-ops', strategy: 'uniform', config: {}, space: 'ops' },
  dna: { name: 'dna', strategy: 'dna', config: {}, space: 'ops' },
};

export interface BenchSettings {
  /** Forward/backward passes every supernet gets. */
  passes: number;
  batchSize: number;
  seeds: number[];
  /** Steps each architecture trains alone (single path, one pass per step). */
  aloneSteps: number;
  /** The op space's budget: its subnets cost about twice the width space's, so it gets fewer passes. */
  opsPasses: number;
  opsAloneSteps: number;
  /** Architectures of the ranking benchmark. */
  rankingArchs: number;
  /** Test examples per evaluation (0: the whole 10,000-image test split). */
  maxTest: number;
  /** Training examples cap (0: all). */
  maxTrain: number;
  /** Experiments trained at once (one worker thread each). */
  parallel: number;
}

export const DEFAULT_SETTINGS: BenchSettings = {
  passes: 4800,
  batchSize: 128,
  seeds: [0, 1, 2],
  aloneSteps: 1600,
  opsPasses: 3000,
  opsAloneSteps: 1000,
  rankingArchs: 12,
  maxTest: 0,
  maxTrain: 0,
  parallel: 2,
};

export const QUICK_SETTINGS: BenchSettings = {
  passes: 48,
  batchSize: 32,
  seeds: [0, 1],
  aloneSteps: 16,
  opsPasses: 24,
  opsAloneSteps: 8,
  rankingArchs: 4,
  maxTest: 256,
  maxTrain: 1024,
  parallel: 2,
};

/** The FLOPs budgets: three points strictly inside the space's range. */
export function budgets(kind: SpaceKind = 'width'): number[] {
  const r = spaceFlopsRange(spaceRef(kind));
  return defaultBudgets(r.minFlops, r.maxFlops);
}

/** A subnet as the benchmark records it. */
export interface MeasuredSubnet {
  arch: Arch;
  flops: number;
  params: number;
  accuracy: number;
  source: string;
}

/** What one supernet run gave. */
export interface SupernetRun {
  method: string;
  seed: number;
  steps: number;
  passes: number;
  forwardOnlyPasses: number;
  trainSeconds: number;
  /** Deploy choice per budget (Evaluate by FLOPs constraint: the strategy's own search), test accuracy. */
  deploy: Record<string, MeasuredSubnet & { searchSeconds: number }>;
  /** Inherited test accuracy (after BN recalibration) of each ranking architecture, by archKey. */
  ranking: Record<string, number>;
  /** The strategy's own score of each ranking architecture (DNA's rating), when it gives one. */
  scores?: Record<string, number>;
  /** Deploy choices retrained alone from scratch (op space), test accuracy per budget. */
  retrained?: Record<string, number>;
  /** Last step's losses, plus values logged once at a phase end (DNA's `teacher_val_accuracy`). */
  finalLosses: Record<string, number>;
}

/** One architecture trained alone. */
export interface AloneRun {
  arch: Arch;
  flops: number;
  params: number;
  accuracy: number;
  steps: number;
  seed: number;
  trainSeconds: number;
}

interface CacheFile {
  settings: Record<string, unknown>;
  supernets: Record<string, SupernetRun>;
  alone: Record<string, AloneRun>;
  rankingArchs?: Arch[];
}

/** Results on disk, keyed by everything that decides them, written after every finished job. */
export class ResultCache {
  private data: CacheFile;
  /** Modification time of the file as last read or written; unchanged means nothing to merge. */
  private seenMtime = -1;
  constructor(private readonly file: string) {
    this.data = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CacheFile) : { settings: {}, supernets: {}, alone: {} };
  }
  /** Results, including those another benchmark process has written since. */
  get supernets(): Record<string, SupernetRun> {
    this.refresh();
    return this.data.supernets;
  }
  get alone(): Record<string, AloneRun> {
    this.refresh();
    return this.data.alone;
  }
  private refresh(): void {
    if (!existsSync(this.file)) return;
    const mtime = statSync(this.file).mtimeMs;
    if (mtime === this.seenMtime) return;
    this.seenMtime = mtime;
    const disk = JSON.parse(readFileSync(this.file, 'utf8')) as CacheFile;
    this.data.supernets = { ...disk.supernets, ...this.data.supernets };
    this.data.alone = { ...disk.alone, ...this.data.alone };
  }
  get rankingArchs(): Arch[] | undefined {
    return this.data.rankingArchs;
  }
  setRankingArchs(a: Arch[] | undefined): Promise<void> {
    if (a) this.data.rankingArchs = a;
    else delete this.data.rankingArchs;
    return this.save();
  }
  putSupernet(key: string, r: SupernetRun): Promise<void> {
    this.data.supernets[key] = r;
    return this.save();
  }
  putAlone(key: string, r: AloneRun): Promise<void> {
    this.data.alone[key] = r;
    return this.save();
  }
  /** The writes of this process, one after the other (the benchmark's jobs finish side by side). */
  private saving: Promise<void> = Promise.resolve();
  /**
   * Writes the cache atomically and durably (writeFileAtomic), first merging what another benchmark
   * process wrote meanwhile (ranking and search may run side by side).
   */
  private save(): Promise<void> {
    const write = async () => {
      this.refresh();
      mkdirSync(dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, `${JSON.stringify(this.data, null, 1)}\n`);
      this.seenMtime = statSync(this.file).mtimeMs;
    };
    const done = this.saving.then(write);
    this.saving = done.catch(() => undefined);
    return done;
  }
}

/**
 * A readable, file-name-safe label of an arch (resolution, widths, op digits), used in cache keys
 * and claim files; the sdk's `archKey` is canonical JSON, with quotes and braces.
 */
export function archLabel(a: Arch): string {
  const w = Object.keys(a.width)
    .sort()
    .map((k) => `${k}=${a.width[k]}`)
    .join(',');
  const ops = a.op
    ? `:${Object.keys(a.op)
        .sort()
        .map((k) => a.op![k])
        .join('')}`
    : '';
  return `r${a.resolution}:${w}${ops}`;
}

function hash(v: unknown): string {
  return createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 12);
}

/** Cache key of a supernet run: method, seed and every setting that changes its result. */
export function supernetKey(method: Method, seed: number, s: BenchSettings): string {
  const p = spaceOf(method) === 'ops' ? { p: s.opsPasses, n: s.opsAloneSteps } : { p: s.passes };
  return `${method.name}-s${seed}-${hash({ m: method, ...p, b: s.batchSize, t: s.maxTrain, e: s.maxTest, space: spaceDefinition(spaceOf(method)) })}`;
}

export function aloneKey(arch: Arch, seed: number, s: BenchSettings, kind: SpaceKind = 'width'): string {
  return `alone-${archLabel(arch)}-s${seed}-${hash({ n: kind === 'ops' ? s.opsAloneSteps : s.aloneSteps, b: s.batchSize, t: s.maxTrain, e: s.maxTest, space: spaceDefinition(kind) })}`;
}

/**
 * `n` architectures spanning the FLOPs range: 4,000 uniform random subnets (fixed seed) sorted by
 * FLOPs, taken at evenly spaced quantiles from the cheapest to the most expensive, duplicates skipped.
 */
export function pickRankingArchs(n: number, kind: SpaceKind = 'width'): Arch[] {
  const space = resolveSpace(spaceRef(kind));
  const rng = new Rng(20261201);
  const pool: { arch: Arch; flops: number }[] = [];
  for (let i = 0; i < 4000; i++) {
    const width: Record<string, number> = {};
    for (const w of space.widthChoices) width[w.id] = rng.choice(w.candidates);
    const arch: Arch = { resolution: rng.choice(space.resolutions), width };
    if (space.opLayerIds.length > 0) arch.op = Object.fromEntries(space.opLayerIds.map((id) => [id, rng.int(OPS.length)]));
    pool.push({ arch, flops: space.cost(arch).flops });
  }
  if (kind === 'width') {
    pool.push({ arch: space.minArch(), flops: space.cost(space.minArch()).flops }, { arch: space.maxArch(), flops: space.cost(space.maxArch()).flops });
  }
  pool.sort((a, b) => a.flops - b.flops);
  const out: Arch[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < n; k++) {
    let i = Math.round((k * (pool.length - 1)) / Math.max(1, n - 1));
    while (seen.has(archLabel((pool[i] as { arch: Arch }).arch)) && i < pool.length - 1) i++;
    const a = (pool[i] as { arch: Arch }).arch;
    seen.add(archLabel(a));
    out.push(a);
  }
  return out;
}

/** The benchmark's server and client, with the data kept under `dir`. */
export class BenchServer {
  private constructor(
    readonly api: SupernetdClient,
    private readonly stopServer: () => Promise<void>,
  ) {}

  static async start(dir: string): Promise<BenchServer> {
    mkdirSync(dir, { recursive: true });
    // one data dir per process: a server resumes every experiment it finds, including another's
    const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, `server-${process.pid}`), logLevel: 'error', backend: 'wasm' });
    return new BenchServer(searchClient(server.address), () => server.stop());
  }

  async stop(): Promise<void> {
    this.api.close();
    await this.stopServer();
  }
}

function dataset(s: BenchSettings): Record<string, unknown> {
  return { name: 'fashion-mnist', maxTrainExamples: s.maxTrain, maxTestExamples: s.maxTest };
}

/** Logs one line with the time of day. */
export function log(msg: string): void {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/**
 * Trains one supernet with `s.passes` forward/backward passes, then asks the strategy for its
 * deploy choice at each budget (Evaluate by FLOPs constraint, after BN recalibration, on the test
 * split) and evaluates the ranking architectures inherited from it.
 */
export async function runSupernet(server: BenchServer, key: string, method: Method, seed: number, s: BenchSettings, rankingArchs: Arch[]): Promise<SupernetRun> {
  const api = server.api;
  const per = PASSES_PER_STEP[method.name];
  if (!per) throw new Error(`no pass count for method ${method.name}`);
  const kind = spaceOf(method);
  const steps = Math.max(1, Math.round((kind === 'ops' ? s.opsPasses : s.passes) / per.backward));
  await api.deleteExperiment(key).catch(() => undefined);
  await api.createExperiment({
    experimentId: key,
    spec: {
      displayName: `bench ${method.name} seed ${seed}`,
      searchSpace: { preset: 'custom', overrides: { definition: spaceDefinition(kind) as never } },
      strategy: { id: method.strategy, config: method.config as never },
      training: { dataset: dataset(s) as never, batchSize: s.batchSize, totalSteps: BigInt(steps), seed, checkpointInterval: 500 },
    },
  });
  const started = performance.now();
  let lastLog = started;
  const phaseLog: Record<string, number> = {};
  await trainWithProgress(api, { experimentId: key, steps, progressInterval: 50 }, (e) => {
    // values a strategy logs once, at the end of a phase (DNA: the teacher's held-out accuracy)
    for (const [k, val] of Object.entries(e.losses)) if (k.startsWith('teacher_val')) phaseLog[k] = Number(val);
    const now = performance.now();
    if (now - lastLog > 60_000) {
      lastLog = now;
      log(`  ${method.name} seed ${seed}: step ${e.step}/${e.targetStep}`);
    }
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const deploy: SupernetRun['deploy'] = {};
  for (const budget of budgets(kind)) {
    const t0 = performance.now();
    const ev = await api.evaluate({
      experimentId: key,
      target: { case: 'constraint', value: { kind: ConstraintKind.FLOPS, target: budget } },
      maxExamples: s.maxTest,
    });
    const sub = ev.subnet;
    deploy[String(budget)] = {
      arch: {
        resolution: sub?.architecture?.resolution ?? 0,
        width: { ...(sub?.architecture?.widths ?? {}) },
        ...(Object.keys(sub?.architecture?.ops ?? {}).length > 0 ? { op: { ...sub?.architecture?.ops } } : {}),
      },
      flops: Number(sub?.cost?.flops ?? 0),
      params: Number(sub?.cost?.params ?? 0),
      accuracy: ev.accuracy,
      source: sub?.source ?? '',
      searchSeconds: (performance.now() - t0) / 1000,
    };
  }
  const ranking: Record<string, number> = {};
  const scores: Record<string, number> = {};
  // CafeNet's subnets carry their own channel placement: leftmost architectures say nothing about it.
  if (method.strategy !== 'cafenet') {
    for (const arch of rankingArchs) {
      const ev = await api.evaluate({
        experimentId: key,
        target: { case: 'architecture', value: { resolution: arch.resolution, widths: { ...arch.width }, ops: { ...(arch.op ?? {}) } } },
        maxExamples: s.maxTest,
      });
      ranking[archLabel(arch)] = ev.accuracy;
      const score = ev.subnet?.score;
      if (typeof score === 'number' && score !== 0 && Number.isFinite(score)) scores[archLabel(arch)] = score;
    }
  }
  // On the op space the searched architectures are retrained alone (DNA's student weights are
  // block-wise distilled, not meant to be deployed), through the service's retraining.
  const retrained: Record<string, number> = {};
  if (kind === 'ops') {
    for (const [budget, d] of Object.entries(deploy)) {
      const r = await trainAlone(api, d.arch, {
        sourceExperimentId: key,
        steps: s.opsAloneSteps,
        batchSize: s.batchSize,
        seed,
        dataset: dataset(s),
        maxTestExamples: s.maxTest,
        progressInterval: 100,
        deleteAfter: true,
      });
      retrained[budget] = r.accuracy;
    }
  }
  const exp = await api.getExperiment(key);
  const finalLosses = Object.fromEntries(Object.entries(exp.lastLosses).map(([k, v]) => [k, Number(v)]));
  await api.deleteExperiment(key);
  return {
    method: method.name,
    seed,
    steps,
    passes: steps * per.backward,
    forwardOnlyPasses: steps * per.forwardOnly,
    trainSeconds,
    deploy,
    ranking,
    ...(Object.keys(scores).length > 0 ? { scores } : {}),
    ...(kind === 'ops' ? { retrained } : {}),
    finalLosses: { ...finalLosses, ...phaseLog },
  };
}

/** Trains `arch` alone from scratch (one pass per step) and evaluates it on the test split. */
export async function runAlone(server: BenchServer, arch: Arch, seed: number, s: BenchSettings, kind: SpaceKind = 'width'): Promise<AloneRun> {
  const steps = kind === 'ops' ? s.opsAloneSteps : s.aloneSteps;
  const r = await trainAlone(server.api, arch, {
    space: spaceRef(kind),
    steps,
    batchSize: s.batchSize,
    seed,
    dataset: dataset(s),
    maxTestExamples: s.maxTest,
    progressInterval: 100,
    deleteAfter: true,
  });
  return { arch, flops: r.flops, params: r.params, accuracy: r.accuracy, steps, seed, trainSeconds: r.trainSeconds };
}

/**
 * Claims `key` for this process (a file holding its pid under `dir`), so that several benchmark
 * processes can share one cache without running a job twice. A claim whose process is gone is
 * taken over. Returns false when a live process holds it.
 */
export function claim(dir: string, key: string): boolean {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${key}.claim`);
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    const pid = Number(readFileSync(file, 'utf8'));
    if (pid === process.pid) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      writeFileSync(file, String(process.pid));
      return true;
    }
  }
}

/** Runs `jobs` with at most `n` at once; each job's failure is logged and rethrown at the end. */
export async function pool(n: number, jobs: (() => Promise<void>)[]): Promise<void> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as () => Promise<void>;
      try {
        await job();
      } catch (err) {
        errors.push(err);
        log(`job failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
  if (errors.length > 0) throw errors[0];
}
