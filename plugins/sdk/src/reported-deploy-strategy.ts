import { constraintKey, fits } from './arch.ts';
import type { Constraint } from './arch.ts';
import type { ConfigReader } from './config-reader.ts';
import type { Batch, SupernetEngine } from './engine.ts';
import { evolutionSearch, readEvolutionSearchConfig } from './evolution-search.ts';
import type { EvolutionSearchConfig } from './evolution-search.ts';
import { Rng } from './rng.ts';
import { randomArch, sampleFitting, unsatisfiable } from './sampling.ts';
import { ScoreBoard, metricScore } from './scoring.ts';
import type { ScoredArch } from './scoring.ts';
import type { SearchSpaceView } from './space.ts';
import { unboundedSearch } from './strategy.ts';
import type { MetricReport, Proposal, SamplePurpose, SearchControl, SearchStrategy, StepContext, StepLog } from './strategy.ts';

/** Sampling, leaderboard and search settings of a ReportedDeployStrategy. */
export interface ReportedDeployConfig extends EvolutionSearchConfig {
  /** Draws before a constrained sample walks a draw down to fit (default 100). */
  sampleTries: number;
  /** Reported subnets remembered for deploy sampling (default 50). */
  leaderboardSize: number;
  /** EMA factor for repeated reports of one subnet (default 0.9). */
  metricLambda: number;
}

/**
 * The JSON state of a ReportedDeployStrategy: its training RNG stream, its leaderboard, the search
 * results by constraint with the number of training steps each saw, and the steps trained so far.
 */
export interface ReportedDeployState {
  rng: number[];
  leaderboard: ScoredArch[];
  searched?: Record<string, { proposal: Proposal; trainedSteps: number }>;
  trainedSteps?: number;
}

/**
 * Reads `sampleTries`, `leaderboardSize`, `metricLambda` and the evolution-search settings
 * (readEvolutionSearchConfig) with their defaults; InvalidConfigError (raised by the reader) names
 * the bad key.
 */
export function readReportedDeployConfig(r: ConfigReader): ReportedDeployConfig {
  return {
    sampleTries: r.number('sampleTries', 100, { min: 1, integer: true }),
    leaderboardSize: r.number('leaderboardSize', 50, { min: 1, integer: true }),
    metricLambda: r.number('metricLambda', 0.9, { min: 0, max: 1 }),
    ...readEvolutionSearchConfig(r),
  };
}

/**
 * Base of the single-path baselines: training draws from a stream of its own
 * (`new Rng(seed).fork(stream)`, for the subclass's `trainOne`); train/eval samples are uniformly
 * random subnets that fit; reported metrics (`metricScore`) go on a ScoreBoard. `search` is SPOS's
 * evolutionary search under the budget (`evolutionSearch`), remembered per constraint in `state()`
 * and returned again without measuring while no training step has happened since. Deploy samples
 * return the remembered search result for the constraint (source `search`), else the best reported
 * subnet that fits (`reported`), else a random one (`space`). Subclasses supply `id` and `trainOne`.
 */
export abstract class ReportedDeployStrategy implements SearchStrategy {
  abstract readonly id: string;
  /** The training stream; `sample` never draws from it. */
  protected readonly rng: Rng;
  private readonly board: ScoreBoard;
  private readonly sampleTries: number;
  private readonly searchConfig: EvolutionSearchConfig;
  private readonly seed: number;
  private searched: Record<string, { proposal: Proposal; trainedSteps: number }> = {};
  private trainedSteps = 0;

  constructor(
    protected readonly space: SearchSpaceView,
    cfg: ReportedDeployConfig,
    seed: number,
    stream: string,
  ) {
    this.rng = new Rng(seed).fork(stream);
    this.seed = seed;
    this.board = new ScoreBoard(cfg.leaderboardSize, cfg.metricLambda);
    this.sampleTries = cfg.sampleTries;
    this.searchConfig = cfg;
  }

  /** The subclass's training step (counted here, so that search results know when they went stale). */
  protected abstract trainOne(engine: SupernetEngine, batch: Batch, ctx: StepContext): StepLog | Promise<StepLog>;

  trainStep(engine: SupernetEngine, batch: Batch, ctx: StepContext): StepLog | Promise<StepLog> {
    this.trainedSteps++;
    return this.trainOne(engine, batch, ctx);
  }

  /**
   * SPOS's evolutionary search for the most accurate subnet under `constraint` (see
   * `evolutionSearch`). Its randomness comes from a stream of its own, derived from the seed, the
   * constraint and the steps trained, so searching never shifts training. Cancellation (a
   * CancelledError from `control.yield()`) propagates and remembers nothing.
   */
  async search(engine: SupernetEngine, constraint: Constraint, control: SearchControl = unboundedSearch): Promise<Proposal> {
    if (!fits(this.space.cost(this.space.minArch()), constraint)) throw unsatisfiable(this.space, constraint);
    const key = constraintKey(constraint);
    const cached = this.searched[key];
    if (cached && cached.trainedSteps === this.trainedSteps) return cached.proposal;
    const rng = new Rng(this.seed).fork(`search:${key}:${this.trainedSteps}`);
    const found = await evolutionSearch(engine, this.space, constraint, rng, this.searchConfig, control);
    const proposal: Proposal = { arch: found.arch, source: 'search', score: found.accuracy };
    this.searched[key] = { proposal, trainedSteps: this.trainedSteps };
    return proposal;
  }

  /**
   * train/eval: a uniformly random subnet that fits; deploy: the remembered search result for this
   * constraint, else the best reported subnet that fits, else random.
   */
  sample(constraint: Constraint | undefined, purpose: SamplePurpose, rng: Rng): Proposal {
    if (purpose === 'deploy') {
      const remembered = constraint ? this.searched[constraintKey(constraint)] : undefined;
      if (remembered) return remembered.proposal;
      const best = this.board.best((a) => !constraint || fits(this.space.cost(a), constraint));
      if (best) return { arch: best.arch, source: 'reported', score: best.score };
    }
    const arch = sampleFitting(this.space, constraint, rng, () => randomArch(this.space, rng), this.sampleTries);
    return { arch, source: 'space' };
  }

  onMetric(report: MetricReport): void {
    const score = metricScore(report.values);
    if (score !== undefined) this.board.update(report.arch, score);
  }

  state(): ReportedDeployState {
    return { rng: this.rng.state(), leaderboard: this.board.toJSON(), searched: this.searched, trainedSteps: this.trainedSteps };
  }

  /** Restores `state()`; states saved before search existed (no `searched`) load with none remembered. */
  load(state: unknown): void {
    const s = structuredClone(state) as ReportedDeployState;
    this.rng.setState(s.rng);
    this.board.restore(s.leaderboard);
    this.searched = s.searched ?? {};
    this.trainedSteps = s.trainedSteps ?? 0;
  }
}
