import { ConfigReader, LossParts, Rng, archKey, constraintKey, fits, heldOutBatches, metricScore, unboundedSearch, unsatisfiable } from '@supernetd/sdk';
import type {
  Arch,
  Batch,
  Constraint,
  MetricReport,
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
import { flopsSensitiveBins } from './bins.ts';
import type { ChoiceBins } from './bins.ts';
import { parseCafeNetConfig } from './cafenet-config.ts';
import type { CafeNetConfig } from './cafenet-config.ts';
import { PlacementMemory } from './placement-memory.ts';
import type { MemoryEntry } from './placement-memory.ts';
import { fromArch, leftmostPlacement, randomPlacement, samplePlacements, toArch, widthKey } from './placement.ts';
import type { BinWidth, Placement } from './placement.ts';

interface CafeNetState {
  rng: number[];
  memory: MemoryEntry[];
  /** Search results by constraint, with the number of training steps they saw. */
  searched: Record<string, { proposal: Proposal; trainedSteps: number }>;
  trainedSteps: number;
}

/** A measured width with its best placement and that placement's accuracy. */
interface Scored {
  width: BinWidth;
  placement: Placement;
  accuracy: number;
}

/** Batches a search fetched; `releaseAll` disposes those not released yet (the search's finally). */
class SearchBatches {
  private readonly owned: Batch[] = [];

  take(bs: Batch[]): Batch[] {
    this.owned.push(...bs);
    return bs;
  }

  release(bs: readonly Batch[]): void {
    for (const b of bs) {
      b.x.dispose();
      b.y.dispose();
      this.owned.splice(this.owned.indexOf(b), 1);
    }
  }

  releaseAll(): void {
    this.release([...this.owned]);
  }
}

/** One evolutionary search: its random stream, progress, batches and the widths scored so far. */
interface SearchRun {
  engine: SupernetEngine;
  constraint: Constraint;
  control: SearchControl;
  rng: Rng;
  batches: SearchBatches;
  /** Recalibration batches, fetched at the first measurement (a search cancelled before it draws none). */
  recal: Batch[] | undefined;
  /** The fitness batches, fetched at first use. */
  val: Batch[] | undefined;
  /** Each measured width's best placement and accuracy, by `widthKey`. */
  scored: Map<string, Scored>;
  /** Candidate slots done, of `total`, and the current stage for progress notes. */
  done: number;
  total: number;
  note: string;
}

/** Counts one candidate slot of the search's progress. */
function advance(run: SearchRun): void {
  run.control.progress(++run.done, run.total, run.note);
}

/** The fitness of a scored width. */
function fitness(run: SearchRun, w: BinWidth): number {
  return (run.scored.get(widthKey(w)) as Scored).accuracy;
}

/** Distinct scored widths, fittest first. */
function ranked(run: SearchRun, ws: Iterable<BinWidth>): BinWidth[] {
  return [...new Map([...ws].map((w) => [widthKey(w), w])).values()].sort((a, b) => fitness(run, b) - fitness(run, a));
}

/** Where a searched subnet came from; a width found by CafeNet is retrained from scratch. */
export const CAFENET_SEARCH_SOURCE = 'search:evolution;weights=retrain';

/**
 * CafeNet: locally free weight sharing. A width is a bin count per width choice; its channels are
 * the base bins plus free bins placed within the local zone. Training: min-min over K placements
 * (the no-grad losses pick the placement that gets the gradient), optionally with the sandwich
 * rule. Search: evolution over bin counts under the budget, each candidate scored by its best
 * placement on validation batches after BN recalibration, the best few validated again on more
 * held-out images. With `placement: 'leftmost'` every placement is the leftmost one (the fixed
 * sharing pattern) while the steps, forwards and search stay the same, for comparisons at equal
 * compute.
 */
export class CafeNetStrategy implements SearchStrategy {
  readonly id = 'cafenet';
  /** FLOPs-sensitive bins of every width choice. */
  readonly bins: ChoiceBins[];
  private readonly rng: Rng;
  private readonly memory: PlacementMemory;
  private searched: CafeNetState['searched'] = {};
  private trainedSteps = 0;
  private readonly resolutions: readonly number[];
  /** `placement: 'leftmost'`: every subnet keeps its leftmost channels. */
  private readonly leftmost: boolean;

  constructor(
    private readonly space: SearchSpaceView,
    private readonly cfg: CafeNetConfig,
    private readonly seed: number,
  ) {
    this.leftmost = cfg.placement === 'leftmost';
    this.bins = flopsSensitiveBins(space, cfg.binsPerLayer);
    this.rng = new Rng(seed).fork('cafenet-train');
    this.memory = new PlacementMemory(cfg.memoryWidths, cfg.memoryPlacements, cfg.memoryLambda);
    const rs = space.resolutions;
    this.resolutions = cfg.resolutions === 'all' ? rs : [rs[rs.length - 1] as number];
  }

  /** Uniform bin count per choice and uniform resolution. */
  randomWidth(rng: Rng): BinWidth {
    const bins: Record<string, number> = {};
    for (const b of this.bins) bins[b.id] = b.minBins + rng.int(b.starts.length - b.minBins + 1);
    return { resolution: rng.choice(this.resolutions), bins };
  }

  /** Every choice at its fewest bins, smallest resolution. */
  minWidth(): BinWidth {
    return { resolution: this.resolutions[0] as number, bins: Object.fromEntries(this.bins.map((b) => [b.id, b.minBins])) };
  }

  maxWidth(): BinWidth {
    return {
      resolution: this.resolutions[this.resolutions.length - 1] as number,
      bins: Object.fromEntries(this.bins.map((b) => [b.id, b.starts.length])),
    };
  }

  /** Subnet of a width and placement; in `leftmost` mode always the leftmost placement's. */
  arch(w: BinWidth, p: Placement): Arch {
    return toArch(this.bins, w, this.leftmost ? leftmostPlacement(this.bins, w, this.cfg.offset) : p, this.cfg.offset);
  }

  /** The largest cost any placement of `w` can have: the leftmost placement keeps the most channels. */
  private widthFits(w: BinWidth, c: Constraint | undefined): boolean {
    return !c || fits(this.space.cost(this.arch(w, leftmostPlacement(this.bins, w, this.cfg.offset))), c);
  }

  /** A random width every placement of which fits `c`: rejection, then one-bin-at-a-time shrinking. */
  private fittingWidth(c: Constraint | undefined, rng: Rng): BinWidth {
    if (c && !this.widthFits(this.minWidth(), c)) throw unsatisfiable(this.space, c);
    let w = this.randomWidth(rng);
    for (let i = 1; i < this.cfg.sampleTries && !this.widthFits(w, c); i++) w = this.randomWidth(rng);
    while (!this.widthFits(w, c)) {
      const moves: (() => void)[] = [];
      const ri = this.resolutions.indexOf(w.resolution);
      if (ri > 0) moves.push(() => (w = { ...w, resolution: this.resolutions[ri - 1] as number }));
      for (const b of this.bins) {
        const n = w.bins[b.id] as number;
        if (n > b.minBins) moves.push(() => (w = { ...w, bins: { ...w.bins, [b.id]: n - 1 } }));
      }
      rng.choice(moves)();
    }
    return w;
  }

  trainStep(engine: SupernetEngine, batch: Batch, _ctx: StepContext): StepLog {
    const tf = engine.tf;
    const net = engine.supernet;
    const r = this.cfg.offset;
    this.trainedSteps++;
    const width = this.randomWidth(this.rng);
    const drawn = samplePlacements(this.bins, width, r, this.cfg.placements, this.rng);
    // Leftmost mode runs as many no-grad forwards as the free mode would (same draws, same count),
    // all on the leftmost placement, so both modes cost the same per step.
    const cands = this.leftmost ? drawn.map(() => leftmostPlacement(this.bins, width, r)) : drawn;
    // Inner min: no-grad losses of the K placements on this batch.
    const ces = cands.map((p) =>
      tf.tidy(() => engine.ce(net.forward(this.arch(width, p), batch.x, { training: true }), batch.y).dataSync()[0] as number),
    );
    let best = 0;
    ces.forEach((l, i) => {
      if (l < (ces[best] as number)) best = i;
    });
    const remembered = new Set<string>();
    cands.forEach((p, i) => {
      const pk = JSON.stringify(p);
      if (remembered.has(pk)) return;
      remembered.add(pk);
      this.memory.update(width, p, -(ces[i] as number));
    });
    const chosen = this.arch(width, cands[best] as Placement);
    const max = this.space.maxArch();
    const minW = this.minWidth();
    const min = this.arch(minW, leftmostPlacement(this.bins, minW, r));
    const parts = new LossParts(tf);
    try {
      const { loss } = engine.step(() => {
        if (!this.cfg.useSandwich) return parts.add('sampled', engine.ce(net.forward(chosen, batch.x, { training: true }), batch.y, this.cfg.labelSmoothing));
        const zMax = net.forward(max, batch.x, { training: true });
        const child = (a: Arch) => {
          const z = net.forward(a, batch.x, { training: true });
          return this.cfg.inplaceDistillation ? engine.kl(z, zMax) : engine.ce(z, batch.y, this.cfg.labelSmoothing);
        };
        let total = parts.add('max', engine.ce(zMax, batch.y, this.cfg.labelSmoothing));
        total = tf.add(total, parts.add('sampled', child(chosen)));
        return tf.add(total, parts.add('min', child(min)));
      });
      const losses: Record<string, number> = { ...parts.read(), total: loss, placement_ce_min: ces[best] as number };
      losses['placement_ce_max'] = Math.max(...ces);
      return { losses, archs: this.cfg.useSandwich ? [max, chosen, min] : [chosen] };
    } finally {
      parts.dispose();
    }
  }

  /**
   * train: random width and placement; eval: random width with its remembered best placement (else
   * random); deploy: the search result for the constraint, else the best remembered width that fits.
   */
  sample(constraint: Constraint | undefined, purpose: SamplePurpose, rng: Rng): Proposal {
    if (constraint && !this.widthFits(this.minWidth(), constraint)) throw unsatisfiable(this.space, constraint);
    if (purpose === 'deploy') {
      const remembered = constraint ? this.searched[constraintKey(constraint)] : undefined;
      if (remembered) return remembered.proposal;
      for (const e of this.memory.ranked()) {
        const arch = this.arch(e.width, e.placement);
        if (!constraint || fits(this.space.cost(arch), constraint)) return { arch, source: 'memory', score: e.score };
      }
    }
    const w = this.fittingWidth(constraint, rng);
    const known = purpose === 'train' ? undefined : this.memory.best(w);
    if (known) return { arch: this.arch(w, known.placement), source: 'memory', score: known.score };
    return { arch: this.arch(w, randomPlacement(this.bins, w, this.cfg.offset, rng)), source: 'space' };
  }

  /**
   * A reported metric (accuracy, else -loss) goes into the placement memory when the arch is of
   * CafeNet's form (in `leftmost` mode: of the leftmost placement).
   */
  onMetric(report: MetricReport): void {
    const score = metricScore(report.values);
    const parsed = fromArch(this.bins, report.arch, this.cfg.offset);
    if (score === undefined || !parsed) return;
    const leftmost = leftmostPlacement(this.bins, parsed.width, this.cfg.offset);
    if (this.leftmost && JSON.stringify(parsed.placement) !== JSON.stringify(leftmost)) return;
    this.memory.update(parsed.width, parsed.placement, score);
  }

  /**
   * Evolutionary width search under `constraint`: a population of fitting widths, each scored by the
   * best of its placements (the remembered best plus `placementSamples` fresh ones; only the leftmost
   * one in `leftmost` mode) by accuracy on `validationBatches` held-out batches after cumulative BN
   * recalibration; `generations` rounds of top-k parents, mutations and crossovers (children over
   * the budget are redrawn). The `topK` best widths are then validated again, after BN
   * recalibration, on `finalValidationImages` held-out images, and the best of them is the answer.
   * `control.yield()` runs before every measured subnet (its CancelledError ends the search there,
   * remembering nothing); `control.progress` counts candidate slots. The answer is remembered for
   * `sample(constraint, 'deploy')` and returned again without measuring while no training step has
   * happened since.
   */
  async search(engine: SupernetEngine, constraint: Constraint, control: SearchControl = unboundedSearch): Promise<Proposal> {
    if (!this.widthFits(this.minWidth(), constraint)) throw unsatisfiable(this.space, constraint);
    const key = constraintKey(constraint);
    const cached = this.searched[key];
    if (cached && cached.trainedSteps === this.trainedSteps) return cached.proposal;
    const cfg = this.cfg;
    const finalists = cfg.finalValidationImages > 0 ? cfg.topK : 0;
    const run: SearchRun = {
      engine,
      constraint,
      control,
      // Own stream per constraint and training state: a search (finished or cancelled) leaves the
      // training stream alone, and the same search repeated gives the same answer.
      rng: new Rng(this.seed).fork(`cafenet-search:${key}:${this.trainedSteps}`),
      batches: new SearchBatches(),
      recal: undefined,
      val: undefined,
      scored: new Map(),
      done: 0,
      total: cfg.population + cfg.generations * (cfg.mutations + cfg.crossovers) + finalists,
      note: 'generation 0',
    };
    try {
      await this.evolve(run);
      const { winner, score } = await this.chooseWinner(run, finalists);
      // Skipped children and duplicate widths measure nothing; the search is complete all the same.
      if (run.done < run.total) control.progress(run.total, run.total, 'done');
      const best = run.scored.get(widthKey(winner)) as Scored;
      const answer: Proposal = { arch: this.arch(best.width, best.placement), source: CAFENET_SEARCH_SOURCE, score };
      this.searched[key] = { proposal: answer, trainedSteps: this.trainedSteps };
      return answer;
    } finally {
      run.batches.releaseAll();
    }
  }

  /** Scores an initial population of `population` fitting widths, then runs `generations` generations. */
  private async evolve(run: SearchRun): Promise<void> {
    let population: BinWidth[] = [];
    for (let i = 0; i < this.cfg.population; i++) {
      const w = this.fittingWidth(run.constraint, run.rng);
      population.push(w);
      await this.scoreWidth(run, w);
      advance(run);
    }
    for (let g = 1; g <= this.cfg.generations; g++) {
      run.note = `generation ${g}`;
      population = await this.nextGeneration(run, population);
    }
  }

  /** The `topK` parents of `population` and their scored children (mutations, then crossovers). */
  private async nextGeneration(run: SearchRun, population: readonly BinWidth[]): Promise<BinWidth[]> {
    const { rng } = run;
    const parents = ranked(run, population).slice(0, this.cfg.topK);
    const next = [...parents];
    const makers = [
      ...Array.from({ length: this.cfg.mutations }, () => () => this.mutate(rng.choice(parents), rng)),
      ...Array.from({ length: this.cfg.crossovers }, () => () => this.cross(rng.choice(parents), rng.choice(parents), rng)),
    ];
    for (const make of makers) {
      const c = this.fittingChild(make, run.constraint);
      if (c) {
        next.push(c);
        await this.scoreWidth(run, c);
      }
      advance(run);
    }
    return next;
  }

  /**
   * The best scored width. The evolution ranks on a few batches; with finalists, the answer is the
   * best of the `finalists` top widths measured again on `finalValidationImages` held-out images.
   */
  private async chooseWinner(run: SearchRun, finalists: number): Promise<{ winner: BinWidth; score: number }> {
    const widths = ranked(run, [...run.scored.values()].map((e) => e.width));
    let winner = widths[0] as BinWidth;
    if (finalists === 0) return { winner, score: fitness(run, winner) };
    run.note = 'final validation';
    if (run.val) run.batches.release(run.val);
    let heldOut: Batch[] | undefined;
    const finalBatches = () => (heldOut ??= run.batches.take(heldOutBatches(run.engine, this.cfg.finalValidationImages)));
    let score = -Infinity;
    for (const w of widths.slice(0, finalists)) {
      const e = run.scored.get(widthKey(w)) as Scored;
      const acc = await this.measure(run, this.arch(e.width, e.placement), finalBatches);
      if (acc > score) {
        winner = w;
        score = acc;
      }
      advance(run);
    }
    return { winner, score };
  }

  /** Accuracy of `arch` on `on()` after cumulative BN recalibration; yields to the control first. */
  private async measure(run: SearchRun, arch: Arch, on: () => readonly Batch[]): Promise<number> {
    await run.control.yield();
    run.recal ??= run.batches.take(run.engine.trainBatches(this.cfg.recalibrationBatches));
    const batches = on();
    if (run.recal.length > 0) run.engine.recalibrateBN(run.engine.supernet, arch, run.recal, 'cumulative');
    return run.engine.evaluate(run.engine.supernet, arch, batches).accuracy;
  }

  /** Scores `w` once: the best accuracy of its placements on the `validationBatches` fitness batches. */
  private async scoreWidth(run: SearchRun, w: BinWidth): Promise<void> {
    const wk = widthKey(w);
    if (run.scored.has(wk)) return;
    const fitnessBatches = () => (run.val ??= run.batches.take(run.engine.validationBatches(this.cfg.validationBatches)));
    const placements = this.placementsToScore(w, run.rng);
    const seen = new Set<string>();
    let best: Scored = { width: w, placement: placements[0] as Placement, accuracy: -Infinity };
    for (const p of placements) {
      const a = this.arch(w, p);
      const k = archKey(a);
      if (seen.has(k)) continue;
      seen.add(k);
      const acc = await this.measure(run, a, fitnessBatches);
      if (acc > best.accuracy) best = { width: w, placement: p, accuracy: acc };
    }
    run.scored.set(wk, best);
  }

  /** The leftmost placement in `leftmost` mode; else the remembered best and `placementSamples` random ones. */
  private placementsToScore(w: BinWidth, rng: Rng): Placement[] {
    if (this.leftmost) return [leftmostPlacement(this.bins, w, this.cfg.offset)];
    const placements: Placement[] = [];
    const remembered = this.memory.best(w);
    if (remembered) placements.push(remembered.placement);
    for (let i = 0; i < this.cfg.placementSamples || placements.length === 0; i++) {
      placements.push(randomPlacement(this.bins, w, this.cfg.offset, rng));
    }
    return placements;
  }

  /** `w` with the resolution and each bin count redrawn with probability `mutationProb`. */
  private mutate(w: BinWidth, rng: Rng): BinWidth {
    const out: BinWidth = { resolution: w.resolution, bins: { ...w.bins } };
    if (this.resolutions.length > 1 && rng.next() < this.cfg.mutationProb) out.resolution = rng.choice(this.resolutions);
    for (const b of this.bins) {
      if (rng.next() < this.cfg.mutationProb) out.bins[b.id] = b.minBins + rng.int(b.starts.length - b.minBins + 1);
    }
    return out;
  }

  /** Each of the resolution and the bin counts from `a` or `b` with even odds. */
  private cross(a: BinWidth, b: BinWidth, rng: Rng): BinWidth {
    return {
      resolution: rng.next() < 0.5 ? a.resolution : b.resolution,
      bins: Object.fromEntries(this.bins.map((x) => [x.id, (rng.next() < 0.5 ? a : b).bins[x.id] as number])),
    };
  }

  /** A child of `make` within the budget: one over it is redrawn, at most 10 times, then skipped. */
  private fittingChild(make: () => BinWidth, constraint: Constraint): BinWidth | undefined {
    for (let i = 0; i < 10; i++) {
      const w = make();
      if (this.widthFits(w, constraint)) return w;
    }
    return undefined;
  }

  phase(): string {
    return 'train';
  }

  state(): CafeNetState {
    return { rng: this.rng.state(), memory: this.memory.toJSON(), searched: this.searched, trainedSteps: this.trainedSteps };
  }

  load(state: unknown): void {
    const s = structuredClone(state) as CafeNetState;
    this.rng.setState(s.rng);
    this.memory.restore(s.memory);
    this.searched = s.searched;
    this.trainedSteps = s.trainedSteps;
  }
}

/** The `cafenet` strategy. */
export const strategy: StrategyFactory<CafeNetConfig> = {
  id: 'cafenet',
  description: 'CafeNet locally free weight sharing: FLOPs-sensitive bins, min-min over placements, evolutionary width search',
  parseConfig: parseCafeNetConfig,
  configSchema: ConfigReader.schemaOf(parseCafeNetConfig),
  create: (init: StrategyInit<CafeNetConfig>) => new CafeNetStrategy(init.space, init.config, init.seed),
};
