import { ConfigReader, InvalidArgumentError, InvalidConfigError, LossParts, Rng, constraintKey, fits, heldOutBatches, randomArch, sampleFitting, unboundedSearch, unsatisfiable } from '@supernetd/sdk';
import type {
  Arch,
  Batch,
  Constraint,
  CostKind,
  OptimizerConfig,
  Proposal,
  SamplePurpose,
  SearchControl,
  SearchSpaceView,
  SearchStrategy,
  StepContext,
  StepLog,
  StrategyFactory,
  StrategyInit,
  SupernetEngine,
} from '@supernetd/sdk';
import type * as tfc from '@tensorflow/tfjs-core';
import { branchAndBound, branchAndBoundAsync } from './block-search.ts';
import type { BlockCandidate, SearchResult } from './block-search.ts';
import { DEFAULT_TEACHER_FRACTION, parseDnaConfig } from './dna-config.ts';
import type { DnaConfig } from './dna-config.ts';
import { opCostTable, opCounts } from './op-costs.ts';
import type { OpCostTable } from './op-costs.ts';
import { AuxTeacher, LayersModelTeacher } from './teacher.ts';
import type { Teacher, TeacherFeatures } from './teacher.ts';
import { deriveTeacherDefinition } from './teacher-definition.ts';

/** One candidate's rating on validation batches; `loss` is the normalised L1 `cl_loss = mean|y - t| / std(t)`. */
export interface CandidateRating {
  enc: number[];
  loss: number;
  mse: number;
  rel: number;
}

/** Ratings of every candidate of one block, in `blockEncodings` order. */
export interface BlockRating {
  block: number;
  /** Index of the last training step before the block was rated (-1: before any training). */
  step: number;
  candidates: CandidateRating[];
}

/** The teacher's held-out accuracy, measured at the end of the teacher phase. */
export interface TeacherEvaluation {
  /** Index of the training step after which it was measured. */
  step: number;
  accuracy: number;
  loss: number;
  examples: number;
}

interface DnaState {
  rng: number[];
  /** Phase whose optimiser is installed in the engine (the engine checkpoints it). */
  installedPhase: string | null;
  ratings: (BlockRating | null)[];
  searched: Record<string, Proposal>;
  /** Index of the last step trained (-1 before training). */
  lastStep: number;
  /** Per block: the last step that changed the block's weights or the teacher (-1: none). */
  changedAt: number[];
  /** Per searched constraint: `lastStep` when its search ran; the result stands until training resumes. */
  searchedAt: Record<string, number>;
  /** The teacher's held-out accuracy; null before the teacher phase ends (and with a teacherModel). */
  teacher: TeacherEvaluation | null;
}

/** A phase of the DNA schedule. */
export type DnaPhase = { kind: 'teacher' } | { kind: 'block'; block: number };

/** Where a DNA subnet came from; DNA retrains the chosen subnet from scratch. */
export const DNA_SOURCE = 'branch-and-bound;weights=retrain';

/** Teacher features computed in their own tidy scope; the caller disposes them (not `x`). */
function featuresKept(tf: typeof tfc, teacher: Teacher, x: tfc.Tensor4D, block: number): TeacherFeatures {
  const [last, guide] = tf.tidy(() => {
    const f = teacher.features(x, block);
    return [f.last, f.guide];
  });
  return { last: last as tfc.Tensor4D, guide: guide as tfc.Tensor4D };
}

/** Every op encoding of the given layers (their op counts), first layer slowest. */
export function encodings(counts: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of counts) out = out.flatMap((e) => Array.from({ length: n }, (_, o) => [...e, o]));
  return out;
}

/**
 * DNA: block-wise distillation from a teacher, exhaustive rating of every candidate of each block,
 * and exact branch-and-bound search under a budget. Phases: `teacher` (CE on the teacher preset,
 * by default half the run, with its own cosine schedule; skipped with a teacherModel), then
 * `block-0` .. `block-(B-1)`, each with a fresh Adam on that block's variables only. The teacher
 * is frozen once its phase ends.
 */
export class DnaStrategy implements SearchStrategy {
  readonly id = 'dna';
  readonly teacherSteps: number;
  readonly stepsPerBlock: number;
  readonly blockLearningRates: number[];
  private readonly rng: Rng;
  private readonly blockOpLayers: string[][];
  private readonly blockEncs: number[][][];
  private installedPhase: string | null = null;
  private ratings: (BlockRating | null)[];
  private searched: Record<string, Proposal> = {};
  private searchedAt: Record<string, number> = {};
  private lastStep = -1;
  private changedAt: number[];
  private teacherEval: TeacherEvaluation | null = null;
  private readonly costTables = new Map<CostKind, OpCostTable>();
  private teacherP: Promise<Teacher> | undefined;
  private teacherOf: SupernetEngine | undefined;

  constructor(
    private readonly space: SearchSpaceView,
    private readonly cfg: DnaConfig,
    seed: number,
    totalSteps: number,
  ) {
    const B = space.blocks.length;
    if (space.opLayerIds.length === 0) throw new InvalidConfigError('dna', `space '${space.name}' has no op-choice layers to search`);
    if (cfg.teacherTaps && cfg.teacherTaps.length !== B) {
      throw new InvalidConfigError('dna', `teacherTaps: needs one layer per block (${B}), got ${cfg.teacherTaps.length}`);
    }
    if (cfg.blockLearningRates && cfg.blockLearningRates.length !== B) {
      throw new InvalidConfigError('dna', `blockLearningRates: needs one rate per block (${B}), got ${cfg.blockLearningRates.length}`);
    }
    this.teacherSteps = cfg.teacherModel ? 0 : (cfg.teacherSteps ?? Math.round(totalSteps * (cfg.teacherFraction ?? DEFAULT_TEACHER_FRACTION)));
    this.stepsPerBlock = cfg.stepsPerBlock ?? Math.max(1, Math.floor((totalSteps - this.teacherSteps) / B));
    this.blockLearningRates = cfg.blockLearningRates ?? space.blocks.map((_, i) => (i === 0 || i === B - 1 ? 0.002 : 0.005));
    this.rng = new Rng(seed).fork('dna-train');
    const counts = opCounts(space);
    const opSet = new Set(space.opLayerIds);
    this.blockOpLayers = space.blocks.map((b) => b.layerIds.filter((id) => opSet.has(id)));
    this.blockEncs = this.blockOpLayers.map((ids) => encodings(ids.map((id) => counts[id] as number)));
    this.ratings = space.blocks.map(() => null);
    this.changedAt = space.blocks.map(() => -1);
  }

  /** Phase of a step: `teacher` for the first teacherSteps, then stepsPerBlock per block; the last block continues. */
  phaseAt(step: number): DnaPhase {
    if (step < this.teacherSteps) return { kind: 'teacher' };
    const i = Math.floor((step - this.teacherSteps) / this.stepsPerBlock);
    return { kind: 'block', block: Math.min(i, this.space.blocks.length - 1) };
  }

  phase(ctx: StepContext): string {
    const p = this.phaseAt(ctx.step);
    return p.kind === 'teacher' ? 'teacher' : `block-${p.block}`;
  }

  /** Op encodings of block i, in rating order. */
  blockEncodings(i: number): number[][] {
    return this.blockEncs[i] as number[][];
  }

  /** The ratings stored so far (null for blocks not rated yet). */
  blockRatings(): (BlockRating | null)[] {
    return this.ratings;
  }

  /** The teacher's held-out accuracy at the end of its phase; null before (and with a teacherModel). */
  teacherEvaluation(): TeacherEvaluation | null {
    return this.teacherEval;
  }

  /** Whether block i's rating still describes its weights and the teacher (no training of either since). */
  private ratingFresh(i: number): boolean {
    const r = this.ratings[i];
    return !!r && r.step >= (this.changedAt[i] ?? -1);
  }

  /** The student arch with op 0 everywhere except block i, which takes `enc`. */
  archWith(i: number, enc: readonly number[]): Arch {
    const arch = this.space.maxArch();
    const op = { ...(arch.op ?? {}) };
    this.blockOpLayers[i]?.forEach((id, j) => (op[id] = enc[j] as number));
    return { ...arch, op };
  }

  private teacher(engine: SupernetEngine): Promise<Teacher> {
    if (!this.teacherP || this.teacherOf !== engine) {
      this.teacherOf = engine;
      this.teacherP = this.cfg.teacherModel
        ? LayersModelTeacher.load(engine.tf, this.cfg.teacherModel, this.cfg.teacherTaps ?? [])
        : Promise.resolve(this.auxTeacher(engine));
    }
    return this.teacherP;
  }

  /**
   * The engine-held teacher: teacherDefinition, else teacherPreset, else the preset
   * `<space name>-teacher`, else (no such preset) one derived from the student's definition.
   * A teacher restored from a checkpoint is returned as it was created.
   */
  private auxTeacher(engine: SupernetEngine): AuxTeacher {
    const explicit = this.cfg.teacherDefinition ?? this.cfg.teacherPreset;
    if (explicit !== undefined) return new AuxTeacher(engine, explicit, this.cfg.teacherTrainMode);
    try {
      return new AuxTeacher(engine, `${this.space.name}-teacher`, this.cfg.teacherTrainMode);
    } catch (e) {
      if (!(e instanceof InvalidArgumentError && /unknown search space preset/.test(e.message))) throw e;
      return new AuxTeacher(engine, deriveTeacherDefinition(this.space), this.cfg.teacherTrainMode);
    }
  }

  private install(engine: SupernetEngine, phase: string, make: () => OptimizerConfig): void {
    if (this.installedPhase === phase) return;
    engine.setOptimizer(make());
    this.installedPhase = phase;
  }

  async trainStep(engine: SupernetEngine, batch: Batch, ctx: StepContext): Promise<StepLog> {
    const ph = this.phaseAt(ctx.step);
    const teacher = await this.teacher(engine);
    const log = ph.kind === 'teacher' ? this.teacherStep(engine, teacher as AuxTeacher, batch, ctx) : await this.blockStep(engine, teacher, ph.block, batch, ctx);
    this.lastStep = ctx.step;
    return log;
  }

  /** One CE step of the teacher alone; at the phase's last step, its held-out accuracy is measured. */
  private teacherStep(engine: SupernetEngine, aux: AuxTeacher, batch: Batch, ctx: StepContext): StepLog {
    const parts = new LossParts(engine.tf);
    try {
      this.install(engine, 'teacher', () => ({
        kind: 'adam',
        learningRate: this.cfg.teacherLearningRate,
        schedule: 'cosine',
        totalSteps: Math.max(1, this.teacherSteps),
        warmupSteps: Math.min(this.cfg.teacherWarmupSteps, Math.max(0, this.teacherSteps - 1)),
        weightDecay: this.cfg.weightDecay,
      }));
      const { loss } = engine.step(() => parts.add('teacher_ce', engine.ce(aux.net.forward(aux.arch, batch.x, { training: true }), batch.y)), {
        variables: aux.net.variableNames(),
      });
      // Every block's guide changed: its rating (if any) no longer holds.
      this.changedAt = this.changedAt.map(() => ctx.step);
      const losses: Record<string, number> = { ...parts.read(), total: loss };
      if (ctx.step === this.teacherSteps - 1) this.recordTeacher(engine, aux, ctx.step, losses);
      return { losses, archs: [] };
    } finally {
      parts.dispose();
    }
  }

  /** Measures the teacher on `teacherValImages` held-out images; stores it and adds it to `losses`. */
  private recordTeacher(engine: SupernetEngine, aux: AuxTeacher, step: number, losses: Record<string, number>): void {
    const val = heldOutBatches(engine, this.cfg.teacherValImages);
    try {
      const r = engine.evaluate(aux.net, aux.arch, val);
      this.teacherEval = { step, accuracy: r.accuracy, loss: r.loss, examples: r.examples };
      losses['teacher_val_accuracy'] = r.accuracy;
      losses['teacher_val_loss'] = r.loss;
    } finally {
      for (const b of val) {
        b.x.dispose();
        b.y.dispose();
      }
    }
  }

  /** One distillation step of block i; the block's last step rates every candidate of it. */
  private async blockStep(engine: SupernetEngine, teacher: Teacher, i: number, batch: Batch, ctx: StepContext): Promise<StepLog> {
    const tf = engine.tf;
    const parts = new LossParts(tf);
    try {
      this.install(engine, `block-${i}`, () => ({
        kind: 'adam',
        learningRate: this.blockLearningRates[i] as number,
        schedule: 'step',
        stepSize: this.cfg.lrDecaySteps ?? Math.max(1, ctx.stepsPerEpoch),
        gamma: this.cfg.lrDecay,
        totalSteps: this.stepsPerBlock,
        weightDecay: this.cfg.weightDecay,
      }));
      const enc = this.blockOpLayers[i]?.map((id) => this.rng.int(this.opCount(id))) ?? [];
      const arch = this.archWith(i, enc);
      const feats = featuresKept(tf, teacher, batch.x, i);
      let losses: Record<string, number>;
      try {
        const net = engine.supernet;
        const { loss } = engine.step(
          () => parts.add('mse', engine.mse(net.forward(arch, feats.last, { training: true, fromBlock: i, toBlock: i }), feats.guide)),
          { variables: net.variableNames([i]) },
        );
        losses = { ...parts.read(), total: loss };
      } finally {
        feats.guide.dispose();
        if (feats.last !== batch.x) feats.last.dispose();
      }
      this.changedAt[i] = ctx.step;
      // An untrained preset teacher (teacherSteps 0) is measured once too, so that runs show it.
      if (!this.teacherEval && teacher instanceof AuxTeacher) this.recordTeacher(engine, teacher, ctx.step - 1, losses);
      // The last block's phase runs to the end of the run, so it is rated on its final weights.
      const B = this.space.blocks.length;
      const phaseEnd = this.teacherSteps + (i + 1) * this.stepsPerBlock;
      const rateAt = (i === B - 1 ? Math.max(phaseEnd, ctx.totalSteps) : phaseEnd) - 1;
      if (ctx.step === rateAt) {
        this.ratings[i] = await this.rateBlock(engine, teacher, i, ctx.step, unboundedSearch, () => undefined);
        losses['rated_block'] = i;
      }
      return { losses, archs: [arch] };
    } finally {
      parts.dispose();
    }
  }

  private opCount(layerId: string): number {
    return this.space.layers.find((l) => l.id === layerId)?.ops?.length ?? 1;
  }

  /**
   * Rates every candidate of block i: BN correction ('lastBatch' on one training batch fed through
   * the teacher), then on `ratingBatches` validation batches the MSE, the normalised L1
   * cl_loss = mean|y - t| / std(t) and MSE / var(t) against the teacher's feature, averaged.
   * Teacher features are computed once per block. Awaits `control.yield()` before each candidate
   * and calls `rated()` after it; a rejection propagates after every tensor made here is disposed.
   */
  private async rateBlock(
    engine: SupernetEngine,
    teacher: Teacher,
    i: number,
    step: number,
    control: SearchControl,
    rated: () => void,
  ): Promise<BlockRating> {
    const tf = engine.tf;
    const net = engine.supernet;
    const reset: Batch[] = [];
    const val: Batch[] = [];
    const feats: TeacherFeatures[] = [];
    const resetFeats: TeacherFeatures[] = [];
    try {
      reset.push(...engine.trainBatches(1));
      val.push(...engine.validationBatches(this.cfg.ratingBatches));
      for (const b of val) feats.push(featuresKept(tf, teacher, b.x, i));
      for (const b of reset) resetFeats.push(featuresKept(tf, teacher, b.x, i));
      // BN correction of block i alone, on the teacher's feature map entering it.
      const resetBatches: Batch[] = reset.map((b, j) => ({ x: (resetFeats[j] as TeacherFeatures).last, y: b.y }));
      const candidates: CandidateRating[] = [];
      for (const enc of this.blockEncodings(i)) {
        await control.yield();
        const arch = this.archWith(i, enc);
        engine.recalibrateBN(net, arch, resetBatches, 'lastBatch', { fromBlock: i, toBlock: i });
        let mse = 0;
        let cl = 0;
        let rel = 0;
        for (const f of feats) {
          const [m, c, r] = tf.tidy(() => {
            const y = net.forward(arch, f.last, { training: false, fromBlock: i, toBlock: i });
            const d = tf.sub(y, f.guide);
            const mseT = tf.mean(tf.square(d));
            const { variance } = tf.moments(f.guide);
            const l1 = tf.div(tf.mean(tf.abs(d)), tf.sqrt(variance));
            return tf.stack([mseT, l1, tf.div(mseT, variance)]).dataSync() as Float32Array;
          });
          mse += m as number;
          cl += c as number;
          rel += r as number;
        }
        const n = Math.max(1, feats.length);
        candidates.push({ enc, loss: cl / n, mse: mse / n, rel: rel / n });
        rated();
      }
      return { block: i, step, candidates };
    } finally {
      for (const f of [...feats, ...resetFeats]) {
        f.guide.dispose();
        if (i > 0) f.last.dispose();
      }
      for (const b of [...val, ...reset]) {
        b.x.dispose();
        b.y.dispose();
      }
    }
  }

  private costTable(kind: CostKind): OpCostTable {
    let t = this.costTables.get(kind);
    if (!t) {
      t = opCostTable(this.space, kind);
      this.costTables.set(kind, t);
    }
    return t;
  }

  /** Each block's candidates with their rated loss (0 when not rated yet) and cost of `kind`. */
  private candidateLists(kind: CostKind): { lists: BlockCandidate[][]; fixed: number } {
    const table = this.costTable(kind);
    const lists = this.blockEncs.map((encs, i) => {
      const rating = this.ratings[i];
      return encs.map((enc, e) => ({
        enc,
        loss: rating?.candidates[e]?.loss ?? 0,
        cost: enc.reduce((s, o, j) => s + (table.perOp[this.blockOpLayers[i]?.[j] as string]?.[o] ?? 0), 0),
      }));
    });
    return { lists, fixed: table.fixed };
  }

  /** The subnet of a branch-and-bound result, if it fits the constraint by the space's own counter. */
  private resultArch(lists: BlockCandidate[][], res: SearchResult | undefined, constraint: Constraint | undefined): { arch: Arch; loss: number } | undefined {
    if (!res) return undefined;
    const op: Record<string, number> = {};
    res.choice.forEach((ci, i) => {
      const enc = (lists[i] as BlockCandidate[])[ci]?.enc ?? [];
      this.blockOpLayers[i]?.forEach((id, j) => (op[id] = enc[j] as number));
    });
    const arch: Arch = { ...this.space.maxArch(), op };
    if (constraint && !fits(this.space.cost(arch), constraint)) return undefined;
    return { arch, loss: res.loss };
  }

  /** Branch and bound over the stored ratings (unrated blocks count every candidate as loss 0). Pure JS. */
  bestUnder(constraint: Constraint | undefined): { arch: Arch; loss: number } | undefined {
    const { lists, fixed } = this.candidateLists(constraint?.kind ?? 'flops');
    return this.resultArch(lists, branchAndBound(lists, fixed, constraint ? constraint.target : Infinity), constraint);
  }

  /**
   * Rates the blocks whose rating is missing or older than their last training (pausing on
   * `control.yield()` before each candidate), then runs the branch-and-bound search, pausing every
   * few thousand combinations. The answer is remembered per constraint: asked again with no
   * training since, it is returned at once. Ratings finished before a cancellation are kept.
   */
  async search(engine: SupernetEngine, constraint: Constraint, control: SearchControl = unboundedSearch): Promise<Proposal> {
    const key = constraintKey(constraint);
    const remembered = this.searched[key];
    if (remembered && this.searchedAt[key] === this.lastStep && this.ratings.every((_, i) => this.ratingFresh(i))) return remembered;
    const teacher = await this.teacher(engine);
    const stale = this.ratings.map((_, i) => i).filter((i) => !this.ratingFresh(i));
    // Progress counts the candidates to rate plus one for the branch and bound.
    const total = stale.reduce((n, i) => n + this.blockEncodings(i).length, 0) + 1;
    let done = 0;
    control.progress(0, total, stale.length > 0 ? `to rate: ${total - 1} candidates of blocks ${stale.join(', ')}` : 'branch and bound');
    for (const i of stale) {
      this.ratings[i] = await this.rateBlock(engine, teacher, i, this.lastStep, control, () => control.progress(++done, total, `rating block ${i}`));
    }
    const { lists, fixed } = this.candidateLists(constraint.kind);
    const res = await branchAndBoundAsync(lists, fixed, constraint.target, async (visited) => {
      await control.yield();
      control.progress(done, total, `branch and bound: ${visited} combinations looked at`);
    });
    control.progress(total, total, 'done');
    const best = this.resultArch(lists, res, constraint);
    if (!best) throw unsatisfiable(this.space, constraint);
    const answer: Proposal = { arch: best.arch, source: `search:${DNA_SOURCE}`, score: -best.loss };
    this.searched[key] = answer;
    this.searchedAt[key] = this.lastStep;
    return answer;
  }

  /**
   * DNA's rating of any subnet: minus the sum over blocks of the rated loss (cl_loss) of the arch's
   * chosen candidate in that block, the quantity branch and bound minimises; undefined while some
   * block is unrated. Plain JS (reads the stored ratings; the RPC-thread replica answers it).
   */
  score(arch: Arch): number | undefined {
    let loss = 0;
    for (let i = 0; i < this.blockEncs.length; i++) {
      const rating = this.ratings[i];
      if (!rating) return undefined;
      const enc = (this.blockOpLayers[i] as string[]).map((id) => arch.op?.[id] ?? 0);
      const c = rating.candidates.find((r) => r.enc.length === enc.length && r.enc.every((o, j) => o === enc[j]));
      if (!c) return undefined;
      loss += c.loss;
    }
    return -loss;
  }

  /** train/eval: uniform random ops that fit; deploy: the search result, else branch and bound over the ratings so far. */
  sample(constraint: Constraint | undefined, purpose: SamplePurpose, rng: Rng): Proposal {
    if (purpose === 'deploy') {
      const remembered = constraint ? this.searched[constraintKey(constraint)] : undefined;
      if (remembered) return remembered;
      const best = this.bestUnder(constraint);
      if (!best) throw unsatisfiable(this.space, constraint as Constraint);
      return { arch: best.arch, source: `ratings:${DNA_SOURCE}`, score: -best.loss };
    }
    const arch = sampleFitting(this.space, constraint, rng, () => randomArch(this.space, rng), this.cfg.sampleTries);
    return { arch, source: 'space' };
  }

  state(): DnaState {
    return {
      rng: this.rng.state(),
      installedPhase: this.installedPhase,
      ratings: this.ratings,
      searched: this.searched,
      lastStep: this.lastStep,
      changedAt: this.changedAt,
      searchedAt: this.searchedAt,
      teacher: this.teacherEval,
    };
  }

  load(state: unknown): void {
    const s = structuredClone(state) as Partial<DnaState> & Pick<DnaState, 'rng' | 'installedPhase' | 'ratings' | 'searched'>;
    this.rng.setState(s.rng);
    this.installedPhase = s.installedPhase;
    this.ratings = s.ratings;
    this.searched = s.searched;
    // States saved before these fields existed: their ratings and searches count as current.
    this.lastStep = s.lastStep ?? -1;
    this.changedAt = s.changedAt ?? this.space.blocks.map(() => -1);
    this.searchedAt = s.searchedAt ?? {};
    this.teacherEval = s.teacher ?? null;
  }
}

/** The `dna` strategy. */
export const strategy: StrategyFactory<DnaConfig> = {
  id: 'dna',
  description: 'DNA block-wise distillation: teacher phase, per-block phases, exhaustive candidate rating, branch-and-bound search',
  parseConfig: parseDnaConfig,
  configSchema: ConfigReader.schemaOf(parseDnaConfig),
  create: (init: StrategyInit<DnaConfig>) => new DnaStrategy(init.space, init.config, init.seed, init.totalSteps),
};
