import { ConfigReader, LossParts, Rng, constraintKey, costOf, fits, heldOutBatches, metricScore, sampleFitting, unboundedSearch, unsatisfiable, InvalidConfigError } from '@supernetd/sdk';
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
  SearchControl,
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

/** One row of PSS-Net's export table: the validated best subnet of one pool. */
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

/**
 * Builds each kind's target grid: the configured one, or start/stop = cost of the min/max net and
 * step = targetFraction of that range. Throws InvalidConfigError for a kind the
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
 * PSS-Net: prioritised subnet sampling from per-(kind, target) pools and an
 * AttentiveNAS-style conditional structure sampler, max + sampled + min training with in-place
 * distillation; `search` validates the top-k of the largest-target pool that fits the budget.
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
  private lastSource: string | undefined;

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

  /** Where the last training step's sampled subnet came from (`space` or `pool:kind:target`); for inspection. */
  get lastTrainingSource(): string | undefined {
    return this.lastSource;
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
    this.lastSource = draw.source;
    const net = engine.supernet;
    const tf = engine.tf;
    // Score on this batch with the pre-update weights, no gradient, as PSS-Net does.
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

  /** Per-epoch check: BN recalibration then validation of the max and min nets. */
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
   * PSS-Net's final selection, bounded to what the constraint needs: the pools of
   * `constraint.kind` (of every kind when it has no grid) are walked from the largest target down to
   * the first one holding entries that fit, and only that pool's top `validTopK` fitting entries are
   * validated: cumulative BN recalibration on one set of training batches, then top-1 on
   * `validationImages` held-out images. The most accurate becomes the pool's export-table row and
   * the answer. With no fitting pool entry (no training yet) one structure-space subnet under the
   * budget is measured instead. Between candidates it awaits `control.yield()` (a CancelledError
   * propagates; batches are disposed either way) and reports `control.progress`. The result is
   * remembered for `sample(constraint, 'deploy')` and returned again without measuring while no
   * training step has happened since.
   */
  async search(engine: SupernetEngine, constraint: Constraint, control: SearchControl = unboundedSearch): Promise<Proposal> {
    const min = this.space.minArch();
    if (!fits(this.space.cost(min), constraint)) throw unsatisfiable(this.space, constraint);
    const cached = this.searched[constraintKey(constraint)];
    if (cached && cached.trainedSteps === this.trainedSteps) return cached.proposal;
    const fitsC = (a: Arch) => fits(this.space.cost(a), constraint);
    const chosen = this.largestFittingPool(constraint);
    const candidates = chosen ? chosen.entries : [{ arch: this.sampleStructure(constraint, new Rng(0).fork('pss-search')), score: NaN }];
    const note = chosen ? `pool ${chosen.kind}:${chosen.target}` : 'structure space';
    let recal: Batch[] = [];
    let val: Batch[] = [];
    try {
      await control.yield();
      recal = engine.trainBatches(this.cfg.recalibrationBatches);
      val = this.cfg.validationBatches !== undefined
        ? engine.validationBatches(this.cfg.validationBatches)
        : heldOutBatches(engine, this.cfg.validationImages);
      let best: { arch: Arch; accuracy: number; score: number } | undefined;
      for (const [i, e] of candidates.entries()) {
        await control.yield();
        if (recal.length > 0) engine.recalibrateBN(engine.supernet, e.arch, recal, 'cumulative');
        const accuracy = engine.evaluate(engine.supernet, e.arch, val).accuracy;
        if (!best || accuracy > best.accuracy) best = { arch: e.arch, accuracy, score: e.score };
        control.progress(i + 1, candidates.length, note);
      }
      if (!best || !fitsC(best.arch)) throw unsatisfiable(this.space, constraint);
      let answer: Proposal;
      if (chosen) {
        const row: PssTableRow = { kind: chosen.kind, target: chosen.target, arch: best.arch, cost: this.space.cost(best.arch), accuracy: best.accuracy, score: best.score };
        this.recordRow(row);
        answer = { arch: row.arch, source: `search:pool:${row.kind}:${row.target}`, score: row.accuracy };
      } else {
        answer = { arch: best.arch, source: 'search:space', score: best.accuracy };
      }
      this.searched[constraintKey(constraint)] = { proposal: answer, trainedSteps: this.trainedSteps };
      return answer;
    } finally {
      for (const b of [...recal, ...val]) {
        b.x.dispose();
        b.y.dispose();
      }
    }
  }

  /**
   * The pool with the largest target that holds entries fitting `c`, with its top `validTopK`
   * fitting entries. Without a grid for `c.kind`, each kind's largest such pool is a candidate and
   * the one whose entries come closest to the budget wins.
   */
  private largestFittingPool(c: Constraint): { kind: CostKind; target: number; entries: ScoredArch[] } | undefined {
    const fitsC = (a: Arch) => fits(this.space.cost(a), c);
    const kinds = this.grid(c.kind) ? [c.kind] : this.pools.kinds();
    const found: { kind: CostKind; target: number; entries: ScoredArch[]; reach: number }[] = [];
    for (const kind of kinds) {
      for (const target of this.pools.targets(kind).sort((a, b) => b - a)) {
        const entries = (this.pools.pool(kind, target)?.ranked() ?? []).filter((e) => fitsC(e.arch)).slice(0, this.cfg.validTopK);
        if (entries.length === 0) continue;
        found.push({ kind, target, entries, reach: Math.max(...entries.map((e) => costOf(this.space.cost(e.arch), c.kind))) });
        break;
      }
    }
    const best = found.reduce<(typeof found)[number] | undefined>((a, b) => (!a || b.reach > a.reach ? b : a), undefined);
    return best && { kind: best.kind, target: best.target, entries: best.entries };
  }

  /** Puts `row` into the export table, replacing the row of its pool. */
  private recordRow(row: PssTableRow): void {
    this.table = this.table.filter((r) => !(r.kind === row.kind && r.target === row.target));
    this.table.push(row);
    this.table.sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.target - b.target));
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
  configSchema: ConfigReader.schemaOf(parsePssConfig),
  // latency pools, or a latency target grid, need the space's latency table
  latencyConfigKey: (cfg: PssConfig) => {
    const i = cfg.costKinds.indexOf('latency');
    if (i >= 0) return `costKinds[${i}]`;
    return cfg.targets.latency ? 'targets.latency' : undefined;
  },
  create: (init: StrategyInit<PssConfig>) => new PssStrategy(init.space, init.config, init.seed, init.totalSteps),
};
