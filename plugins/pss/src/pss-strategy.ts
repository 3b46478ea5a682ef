import { LossParts, Rng, archKey, costOf, fits, metricScore, sampleFitting, unsatisfiable, InvalidConfigError } from '@supernetd/sdk';
import type {
  Arch,
  Batch,
  Constraint,
  Cost,
  CostKind,
  MetricReport,
  Proposal,
  SamplePurpose,
  ScoredArch,
  SearchSpaceView,
  SearchStrategy,
  StepContext,
  StepLog,
  StrategyFactory,
  StrategyInit,
  SupernetEngine,
} from '@supernetd/sdk';
import { ConditionalSampler, targetOf } from './conditional-sampler.ts';
import type { TargetGrid } from './conditional-sampler.ts';
import { parsePssConfig } from './pss-config.ts';
import type { PssConfig } from './pss-config.ts';
import { PssPools } from './pools.ts';
import type { PssDraw } from './pools.ts';
import { expSchedule, progressOf } from './schedule.ts';
import type { ScheduleProgress } from './schedule.ts';
import { drawStructure } from './structure-space.ts';

/** One row of PSS-Net's export table: the validated best subnet of one pool (algorithms.md 4.8). */
export interface PssTableRow {
  kind: CostKind;
  target: number;
  arch: Arch;
  cost: Cost;
  /** Validation top-1 after BN recalibration. */
  accuracy: number;
  /** The pool score (EMA of -CE or reported metric) it was ranked by. */
  score: number;
}

interface PssState {
  rng: number[];
  /** Seed of the gen map behind the conditional sampler (and so of the pool targets). */
  genMapSeed: number;
  progress: ScheduleProgress;
  pools: Record<string, Record<string, ScoredArch[]>>;
  table: PssTableRow[];
  /** Search results by constraint, with the number of training steps they saw. */
  searched: Record<string, { proposal: Proposal; trainedSteps: number }>;
  trainedSteps: number;
  validation: { step: number; max: number; min: number } | null;
}

/** Key of a constraint in the remembered search results. */
function constraintKey(c: Constraint): string {
  return `${c.kind}:${c.target}`;
}

/**
 * Builds each kind's target grid: the configured one, or start/stop = cost of the min/max net and
 * step = targetFraction of that range (algorithms.md 11). Throws InvalidConfigError for a kind the
 * space cannot measure (latency without a table).
 */
export function targetGrids(space: SearchSpaceView, cfg: PssConfig): TargetGrid[] {
  return cfg.costKinds.map((kind) => {
    const explicit = cfg.targets[kind];
    let start: number;
    let stop: number;
    let step: number;
    if (explicit) ({ start, stop, step } = explicit);
    else {
      start = Math.floor(costOf(space.cost(space.minArch()), kind));
      stop = Math.ceil(costOf(space.cost(space.maxArch()), kind));
      step = Math.max(1, Math.round((stop - start) * cfg.targetFraction));
      if (!(stop > start + 2 * step)) {
        throw new InvalidConfigError('pss', `costKinds: space '${space.name}' has no usable ${kind} range (${start}..${stop})`);
      }
    }
    return { kind, start, stop, step, offset: start % step };
  });
}

/**
 * PSS-Net (algorithms.md 4): prioritised subnet sampling from per-(kind, target) pools and an
 * AttentiveNAS-style conditional structure sampler, max + sampled + min training with in-place
 * distillation, top-k validation of every pool in `search`.
 */
export class PssStrategy implements SearchStrategy {
  readonly id = 'pss';
  private readonly rng: Rng;
  private readonly grids: TargetGrid[];
  private sampler: ConditionalSampler;
  private genMapSeed: number;
  private poolsBuilt: PssPools | undefined;
  private pendingPools: Record<string, Record<string, ScoredArch[]>> | undefined;
  private progress: ScheduleProgress;
  private table: PssTableRow[] = [];
  private searched: PssState['searched'] = {};
  private trainedSteps = 0;
  private validation: PssState['validation'] = null;

  constructor(
    private readonly space: SearchSpaceView,
    private readonly cfg: PssConfig,
    seed: number,
    totalSteps: number,
  ) {
    this.rng = new Rng(seed).fork('pss-train');
    this.grids = targetGrids(space, cfg);
    this.genMapSeed = seed;
    this.sampler = new ConditionalSampler(space, this.grids, cfg.genMapSize, seed);
    this.progress = { step: 0, totalSteps, stepsPerEpoch: totalSteps };
  }

  /** The pools; built on first use, since their targets come from the conditional sampler. */
  get pools(): PssPools {
    if (!this.poolsBuilt) {
      const targets = new Map(this.grids.map((g) => [g.kind, this.sampler.targets(g.kind)]));
      this.poolsBuilt = new PssPools(this.cfg.poolSize, this.cfg.metricLambda, targets);
      if (this.pendingPools) this.poolsBuilt.restore(this.pendingPools);
      this.pendingPools = undefined;
    }
    return this.poolsBuilt;
  }

  /** The conditional structure sampler (for inspection and tests). */
  get conditionalSampler(): ConditionalSampler {
    return this.sampler;
  }

  /** Probability of drawing from the structure space now (p_e). */
  structureProbability(progress: ScheduleProgress = this.progress): number {
    return expSchedule(this.cfg.pRange, progress, this.cfg.scheduleUnit);
  }

  /** Pool softmax temperature now (T_e). */
  temperature(progress: ScheduleProgress = this.progress): number {
    return expSchedule(this.cfg.temperatureRange, progress, this.cfg.scheduleUnit);
  }

  private grid(kind: CostKind): TargetGrid | undefined {
    return this.grids.find((g) => g.kind === kind);
  }

  /** PSS-Net's step (2): kind, target, then structure space or pool. */
  private drawForTraining(rng: Rng, allowed?: (k: CostKind, t: number) => boolean, kinds?: CostKind[]): PssDraw | undefined {
    const pick = this.pools.pickTarget(rng, kinds, allowed);
    if (!pick) return undefined;
    const p = this.structureProbability();
    const t = this.temperature();
    return this.pools.draw(pick.kind, pick.target, p, t, rng, this.sampler, this.cfg.rejectionTries);
  }

  async trainStep(engine: SupernetEngine, batch: Batch, ctx: StepContext): Promise<StepLog> {
    this.progress = progressOf(ctx);
    this.trainedSteps++;
    const max = this.space.maxArch();
    const min = this.space.minArch();
    const draw = this.drawForTraining(this.rng) ?? {
      arch: drawStructure(this.space, this.rng),
      kind: this.grids[0]?.kind ?? 'flops',
      target: NaN,
      source: 'space',
    };
    const net = engine.supernet;
    const tf = engine.tf;
    // Score on this batch with the pre-update weights, no gradient (algorithms.md 4.6).
    const ce = tf.tidy(() => engine.ce(net.forward(draw.arch, batch.x, { training: true }), batch.y).dataSync()[0] as number);
    this.pools.update(draw.kind, draw.target, draw.arch, -ce);
    const parts = new LossParts(tf);
    let losses: Record<string, number>;
    try {
      const { loss } = engine.step(() => {
        const zMax = net.forward(max, batch.x, { training: true });
        let total = parts.add('max', engine.ce(zMax, batch.y, this.cfg.labelSmoothing));
        total = tf.add(total, parts.add('sampled', engine.kl(net.forward(draw.arch, batch.x, { training: true }), zMax)));
        total = tf.add(total, parts.add('min', engine.kl(net.forward(min, batch.x, { training: true }), zMax)));
        return total;
      });
      losses = { ...parts.read(), total: loss, sampled_score_ce: ce };
    } finally {
      parts.dispose();
    }
    const endOfEpoch = ctx.stepsPerEpoch > 0 && (ctx.step + 1) % ctx.stepsPerEpoch === 0;
    if (endOfEpoch && this.cfg.epochValidationBatches > 0) {
      const v = this.validateMaxMin(engine);
      this.validation = { step: ctx.step, ...v };
      losses['val_max_accuracy'] = v.max;
      losses['val_min_accuracy'] = v.min;
    }
    return { losses, archs: [max, draw.arch, min] };
  }

  /** Per-epoch check (algorithms.md 4.8): BN recalibration then validation of the max and min nets. */
  private validateMaxMin(engine: SupernetEngine): { max: number; min: number } {
    const recal = engine.trainBatches(this.cfg.recalibrationBatches);
    const val = engine.validationBatches(this.cfg.epochValidationBatches);
    try {
      const acc = (arch: Arch) => {
        if (recal.length > 0) engine.recalibrateBN(engine.supernet, arch, recal, 'cumulative');
        return engine.evaluate(engine.supernet, arch, val).accuracy;
      };
      return { max: acc(this.space.maxArch()), min: acc(this.space.minArch()) };
    } finally {
      for (const b of [...recal, ...val]) {
        b.x.dispose();
        b.y.dispose();
      }
    }
  }

  /**
   * Final selection (algorithms.md 4.8) for the pools of `constraint.kind` that can hold a fitting
   * subnet: the top `validTopK` fitting entries of each are validated after cumulative BN
   * recalibration on the same training batches; each pool's best goes into the export table; the
   * answer is the row with the largest target. Remembered for `sample(constraint, 'deploy')`, and
   * returned again without measuring while no training step has happened since.
   */
  async search(engine: SupernetEngine, constraint: Constraint): Promise<Proposal> {
    const min = this.space.minArch();
    if (!fits(this.space.cost(min), constraint)) throw unsatisfiable(this.space, constraint);
    const grid = this.grid(constraint.kind);
    const cached = this.searched[constraintKey(constraint)];
    if (cached && cached.trainedSteps === this.trainedSteps) return cached.proposal;
    const fitsC = (a: Arch) => fits(this.space.cost(a), constraint);
    const poolKinds = grid ? [constraint.kind] : this.pools.kinds();
    const recal = engine.trainBatches(this.cfg.recalibrationBatches);
    const val = engine.validationBatches(this.cfg.validationBatches);
    const measured = new Map<string, number>();
    const accuracy = (arch: Arch): number => {
      const key = archKey(arch);
      const known = measured.get(key);
      if (known !== undefined) return known;
      if (recal.length > 0) engine.recalibrateBN(engine.supernet, arch, recal, 'cumulative');
      const acc = engine.evaluate(engine.supernet, arch, val).accuracy;
      measured.set(key, acc);
      return acc;
    };
    const rows: PssTableRow[] = [];
    try {
      for (const kind of poolKinds) {
        for (const target of this.pools.targets(kind)) {
          const pool = this.pools.pool(kind, target);
          const top = (pool?.ranked() ?? []).filter((e) => fitsC(e.arch)).slice(0, this.cfg.validTopK);
          let best: PssTableRow | undefined;
          for (const e of top) {
            const acc = accuracy(e.arch);
            if (!best || acc > best.accuracy) {
              best = { kind, target, arch: e.arch, cost: this.space.cost(e.arch), accuracy: acc, score: e.score };
            }
          }
          if (best) rows.push(best);
        }
      }
      let answer: Proposal;
      if (rows.length > 0) {
        const chosen = grid
          ? rows.reduce((a, b) => (b.target > a.target || (b.target === a.target && b.accuracy > a.accuracy) ? b : a))
          : rows.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
        answer = { arch: chosen.arch, source: `search:pool:${chosen.kind}:${chosen.target}`, score: chosen.accuracy };
      } else {
        // Empty pools (no training yet): the structure space under the budget, measured the same way.
        const arch = this.sampleStructure(constraint, new Rng(0).fork('pss-search'));
        answer = { arch, source: 'search:space', score: accuracy(arch) };
      }
      for (const row of rows) {
        this.table = this.table.filter((r) => !(r.kind === row.kind && r.target === row.target && archKey(r.arch) !== archKey(row.arch) && r.accuracy <= row.accuracy));
        if (!this.table.some((r) => r.kind === row.kind && r.target === row.target)) this.table.push(row);
      }
      this.table.sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.target - b.target));
      this.searched[constraintKey(constraint)] = { proposal: answer, trainedSteps: this.trainedSteps };
      return answer;
    } finally {
      for (const b of [...recal, ...val]) {
        b.x.dispose();
        b.y.dispose();
      }
    }
  }

  /** The export table: per pool, its validated best subnet (filled by `search`). */
  exportTable(): PssTableRow[] {
    return this.table.map((r) => ({ ...r }));
  }

  /** A structure-space subnet for the largest target that fits, else any fitting structure. */
  private sampleStructure(c: Constraint, rng: Rng): Arch {
    return sampleFitting(this.space, c, rng, () => drawStructure(this.space, rng), this.cfg.sampleTries);
  }

  /**
   * train/eval: the current policy (kind by #pools, target uniformly among those not above the
   * budget, structure space with p_e else pool softmax at T_e), redrawn until it fits. deploy: the
   * search result for this constraint, else the export-table row with the largest fitting target,
   * else the best-scored fitting entry of the largest-target pool that has one.
   */
  sample(constraint: Constraint | undefined, purpose: SamplePurpose, rng: Rng): Proposal {
    if (constraint && !fits(this.space.cost(this.space.minArch()), constraint)) throw unsatisfiable(this.space, constraint);
    if (purpose === 'deploy') {
      const deployed = this.deployChoice(constraint);
      if (deployed) return deployed;
    }
    const fitsC = (a: Arch) => !constraint || fits(this.space.cost(a), constraint);
    const kinds = constraint && this.grid(constraint.kind) ? [constraint.kind] : undefined;
    const allowed = constraint && kinds ? (_k: CostKind, t: number) => t <= constraint.target : undefined;
    for (let i = 0; i < this.cfg.sampleTries; i++) {
      const d = this.drawForTraining(rng, allowed, kinds);
      if (!d) break;
      if (fitsC(d.arch)) {
        const score = this.pools.pool(d.kind, d.target)?.get(d.arch);
        return { arch: d.arch, source: d.source, ...(score !== undefined ? { score } : {}) };
      }
    }
    return { arch: constraint ? this.sampleStructure(constraint, rng) : drawStructure(this.space, rng), source: 'space' };
  }

  private deployChoice(c: Constraint | undefined): Proposal | undefined {
    if (c) {
      const remembered = this.searched[constraintKey(c)];
      if (remembered) return remembered.proposal;
    }
    const fitsC = (a: Arch) => !c || fits(this.space.cost(a), c);
    const kind = c?.kind ?? this.grids[0]?.kind ?? 'flops';
    const rows = this.table.filter((r) => r.kind === kind && fitsC(r.arch)).sort((a, b) => b.target - a.target);
    if (rows[0]) return { arch: rows[0].arch, source: `pool:${rows[0].kind}:${rows[0].target}`, score: rows[0].accuracy };
    const targets = this.pools.targets(kind).sort((a, b) => b - a);
    for (const t of targets) {
      const best = this.pools.pool(kind, t)?.best(fitsC);
      if (best) return { arch: best.arch, source: `pool:${kind}:${t}`, score: best.score };
    }
    return undefined;
  }

  /** A reported metric (accuracy, else -loss) updates the subnet's pool of every kind. */
  onMetric(report: MetricReport): void {
    const score = metricScore(report.values);
    if (score === undefined) return;
    const cost = this.space.cost(report.arch);
    for (const g of this.grids) this.pools.update(g.kind, targetOf(g, costOf(cost, g.kind)), report.arch, score);
  }

  phase(): string {
    return 'train';
  }

  state(): PssState {
    return {
      rng: this.rng.state(),
      genMapSeed: this.genMapSeed,
      progress: { ...this.progress },
      pools: this.poolsBuilt ? this.poolsBuilt.toJSON() : (this.pendingPools ?? {}),
      table: this.table,
      searched: this.searched,
      trainedSteps: this.trainedSteps,
      validation: this.validation,
    };
  }

  load(state: unknown): void {
    const s = structuredClone(state) as PssState;
    this.rng.setState(s.rng);
    if (s.genMapSeed !== this.genMapSeed) {
      this.genMapSeed = s.genMapSeed;
      this.sampler = new ConditionalSampler(this.space, this.grids, this.cfg.genMapSize, s.genMapSeed);
      this.poolsBuilt = undefined;
    }
    this.progress = s.progress;
    this.table = s.table;
    this.searched = s.searched;
    this.trainedSteps = s.trainedSteps;
    this.validation = s.validation;
    if (this.poolsBuilt) this.poolsBuilt.restore(s.pools);
    else this.pendingPools = s.pools;
  }
}

/** The `pss` strategy (PSS-Net). */
export const strategy: StrategyFactory<PssConfig> = {
  id: 'pss',
  description: 'PSS-Net prioritized subnet sampling: per-budget pools, conditional sampler, max+sampled+min in-place distillation',
  parseConfig: parsePssConfig,
  create: (init: StrategyInit<PssConfig>) => new PssStrategy(init.space, init.config, init.seed, init.totalSteps),
};
