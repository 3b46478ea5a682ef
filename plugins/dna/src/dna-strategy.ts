import { InvalidConfigError, LossParts, Rng, fits, randomArch, sampleFitting, unsatisfiable } from '@supernetd/sdk';
import type {
  Arch,
  Batch,
  Constraint,
  CostKind,
  OptimizerConfig,
  Proposal,
  SamplePurpose,
  SearchSpaceView,
  SearchStrategy,
  StepContext,
  StepLog,
  StrategyFactory,
  StrategyInit,
  SupernetEngine,
} from '@supernetd/sdk';
import type * as tfc from '@tensorflow/tfjs-core';
import { branchAndBound } from './block-search.ts';
import type { BlockCandidate } from './block-search.ts';
import { parseDnaConfig } from './dna-config.ts';
import type { DnaConfig } from './dna-config.ts';
import { opCostTable, opCounts } from './op-costs.ts';
import type { OpCostTable } from './op-costs.ts';
import { AuxTeacher, LayersModelTeacher } from './teacher.ts';
import type { Teacher, TeacherFeatures } from './teacher.ts';

/** One candidate's rating on validation batches (algorithms.md 6.5); `loss` is the normalised L1 cl_loss. */
export interface CandidateRating {
  enc: number[];
  loss: number;
  mse: number;
  rel: number;
}

/** Ratings of every candidate of one block, in `blockEncodings` order. */
export interface BlockRating {
  block: number;
  /** Training step after which the block was rated. */
  step: number;
  candidates: CandidateRating[];
}

interface DnaState {
  rng: number[];
  /** Phase whose optimiser is installed in the engine (the engine checkpoints it). */
  installedPhase: string | null;
  ratings: (BlockRating | null)[];
  searched: Record<string, Proposal>;
}

/** A phase of the DNA schedule. */
export type DnaPhase = { kind: 'teacher' } | { kind: 'block'; block: number };

/** Where a DNA subnet came from; DNA retrains it from scratch (algorithms.md 6.7). */
export const DNA_SOURCE = 'branch-and-bound;weights=retrain';

const constraintKey = (c: Constraint) => `${c.kind}:${c.target}`;

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
 * DNA (algorithms.md 6): block-wise distillation from a teacher, exhaustive rating of every
 * candidate of each block, and exact branch-and-bound search under a budget. Phases: `teacher`
 * (CE on the teacher preset, skipped with a teacherModel), then `block-0` .. `block-(B-1)`, each
 * with a fresh Adam on that block's variables only.
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
    this.teacherSteps = cfg.teacherModel ? 0 : (cfg.teacherSteps ?? Math.floor(totalSteps / (B + 1)));
    this.stepsPerBlock = cfg.stepsPerBlock ?? Math.max(1, Math.floor((totalSteps - this.teacherSteps) / B));
    this.blockLearningRates = cfg.blockLearningRates ?? space.blocks.map((_, i) => (i === 0 || i === B - 1 ? 0.002 : 0.005));
    this.rng = new Rng(seed).fork('dna-train');
    const counts = opCounts(space);
    const opSet = new Set(space.opLayerIds);
    this.blockOpLayers = space.blocks.map((b) => b.layerIds.filter((id) => opSet.has(id)));
    this.blockEncs = this.blockOpLayers.map((ids) => encodings(ids.map((id) => counts[id] as number)));
    this.ratings = space.blocks.map(() => null);
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
        : Promise.resolve(new AuxTeacher(engine, this.cfg.teacherPreset ?? `${this.space.name}-teacher`, this.cfg.teacherTrainMode));
    }
    return this.teacherP;
  }

  private install(engine: SupernetEngine, phase: string, make: () => OptimizerConfig): void {
    if (this.installedPhase === phase) return;
    engine.setOptimizer(make());
    this.installedPhase = phase;
  }

  async trainStep(engine: SupernetEngine, batch: Batch, ctx: StepContext): Promise<StepLog> {
    const tf = engine.tf;
    const ph = this.phaseAt(ctx.step);
    const teacher = await this.teacher(engine);
    const parts = new LossParts(tf);
    try {
      if (ph.kind === 'teacher') {
        const aux = teacher as AuxTeacher;
        this.install(engine, 'teacher', () => ({
          kind: 'adam',
          learningRate: this.cfg.teacherLearningRate,
          schedule: 'cosine',
          totalSteps: Math.max(1, this.teacherSteps),
          weightDecay: this.cfg.weightDecay,
        }));
        const { loss } = engine.step(() => parts.add('teacher_ce', engine.ce(aux.net.forward(aux.arch, batch.x, { training: true }), batch.y)), {
          variables: aux.net.variableNames(),
        });
        return { losses: { ...parts.read(), total: loss }, archs: [] };
      }
      const i = ph.block;
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
      try {
        const net = engine.supernet;
        const { loss } = engine.step(
          () => parts.add('mse', engine.mse(net.forward(arch, feats.last, { training: true, fromBlock: i, toBlock: i }), feats.guide)),
          { variables: net.variableNames([i]) },
        );
        const losses: Record<string, number> = { ...parts.read(), total: loss };
        const phaseEnd = this.teacherSteps + (i + 1) * this.stepsPerBlock;
        if (ctx.step === phaseEnd - 1) {
          this.ratings[i] = this.rateBlock(engine, teacher, i, ctx.step);
          losses['rated_block'] = i;
        }
        return { losses, archs: [arch] };
      } finally {
        feats.guide.dispose();
        if (feats.last !== batch.x) feats.last.dispose();
      }
    } finally {
      parts.dispose();
    }
  }

  private opCount(layerId: string): number {
    return this.space.layers.find((l) => l.id === layerId)?.ops?.length ?? 1;
  }

  /**
   * Rates every candidate of block i (algorithms.md 6.5): BN correction ('lastBatch' on one
   * training batch fed through the teacher), then on `ratingBatches` validation batches the MSE,
   * the normalised L1 cl_loss = mean|y - t| / std(t) and MSE / var(t) against the teacher's
   * feature, averaged. Teacher features are computed once per block.
   */
  private rateBlock(engine: SupernetEngine, teacher: Teacher, i: number, step: number): BlockRating {
    const tf = engine.tf;
    const net = engine.supernet;
    const reset = engine.trainBatches(1);
    const val = engine.validationBatches(this.cfg.ratingBatches);
    const feats = val.map((b) => featuresKept(tf, teacher, b.x, i));
    const resetFeats = reset.map((b) => featuresKept(tf, teacher, b.x, i));
    // An engine without block-range BN recalibration gets the whole-network correction on the images.
    const ranged = engine.recalibrateBN.length >= 5;
    const resetBatches: Batch[] = ranged
      ? reset.map((b, j) => ({ x: (resetFeats[j] as TeacherFeatures).last, y: b.y }))
      : reset;
    try {
      const candidates = this.blockEncodings(i).map((enc): CandidateRating => {
        const arch = this.archWith(i, enc);
        if (ranged) engine.recalibrateBN(net, arch, resetBatches, 'lastBatch', { fromBlock: i, toBlock: i });
        else engine.recalibrateBN(net, arch, resetBatches, 'lastBatch');
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
        return { enc, loss: cl / n, mse: mse / n, rel: rel / n };
      });
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

  /** Branch and bound over the stored ratings (unrated blocks count every candidate as loss 0). Pure JS. */
  bestUnder(constraint: Constraint | undefined): { arch: Arch; loss: number } | undefined {
    const table = this.costTable(constraint?.kind ?? 'flops');
    const lists: BlockCandidate[][] = this.blockEncs.map((encs, i) => {
      const rating = this.ratings[i];
      return encs.map((enc, e) => ({
        enc,
        loss: rating?.candidates[e]?.loss ?? 0,
        cost: enc.reduce((s, o, j) => s + (table.perOp[this.blockOpLayers[i]?.[j] as string]?.[o] ?? 0), 0),
      }));
    });
    const res = branchAndBound(lists, table.fixed, constraint ? constraint.target : Infinity);
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

  /** Rates blocks not rated yet, then runs the branch-and-bound search; remembered for deploy sampling. */
  async search(engine: SupernetEngine, constraint: Constraint): Promise<Proposal> {
    const teacher = await this.teacher(engine);
    this.ratings.forEach((r, i) => {
      if (!r) this.ratings[i] = this.rateBlock(engine, teacher, i, -1);
    });
    const best = this.bestUnder(constraint);
    if (!best) throw unsatisfiable(this.space, constraint);
    const answer: Proposal = { arch: best.arch, source: `search:${DNA_SOURCE}`, score: -best.loss };
    this.searched[constraintKey(constraint)] = answer;
    return answer;
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
    return { rng: this.rng.state(), installedPhase: this.installedPhase, ratings: this.ratings, searched: this.searched };
  }

  load(state: unknown): void {
    const s = structuredClone(state) as DnaState;
    this.rng.setState(s.rng);
    this.installedPhase = s.installedPhase;
    this.ratings = s.ratings;
    this.searched = s.searched;
  }
}

/** The `dna` strategy. */
export const strategy: StrategyFactory<DnaConfig> = {
  id: 'dna',
  description: 'DNA block-wise distillation: teacher phase, per-block phases, exhaustive candidate rating, branch-and-bound search',
  parseConfig: parseDnaConfig,
  create: (init: StrategyInit<DnaConfig>) => new DnaStrategy(init.space, init.config, init.seed, init.totalSteps),
};
