import { fits } from './arch.ts';
import type { Constraint } from './arch.ts';
import type { ConfigReader } from './config-reader.ts';
import type { Batch, SupernetEngine } from './engine.ts';
import { Rng } from './rng.ts';
import { randomArch, sampleFitting } from './sampling.ts';
import { ScoreBoard, metricScore } from './scoring.ts';
import type { ScoredArch } from './scoring.ts';
import type { SearchSpaceView } from './space.ts';
import type { MetricReport, Proposal, SamplePurpose, SearchStrategy, StepContext, StepLog } from './strategy.ts';

/** Sampling and leaderboard settings of a ReportedDeployStrategy. */
export interface ReportedDeployConfig {
  /** Draws before a constrained sample walks a draw down to fit (default 100). */
  sampleTries: number;
  /** Reported subnets remembered for deploy sampling (default 50). */
  leaderboardSize: number;
  /** EMA factor for repeated reports of one subnet (default 0.9). */
  metricLambda: number;
}

/** The JSON state of a ReportedDeployStrategy: its training RNG stream and its leaderboard. */
export interface ReportedDeployState {
  rng: number[];
  leaderboard: ScoredArch[];
}

/**
 * Reads `sampleTries`, `leaderboardSize` and `metricLambda` with their defaults; InvalidConfigError
 * (raised by the reader) names the bad key.
 */
export function readReportedDeployConfig(r: ConfigReader): ReportedDeployConfig {
  return {
    sampleTries: r.number('sampleTries', 100, { min: 1, integer: true }),
    leaderboardSize: r.number('leaderboardSize', 50, { min: 1, integer: true }),
    metricLambda: r.number('metricLambda', 0.9, { min: 0, max: 1 }),
  };
}

/**
 * Base of strategies without a post-training search: training draws from a stream of its own
 * (`new Rng(seed).fork(stream)`, for the subclass's `trainStep`); train/eval samples are uniformly
 * random subnets that fit; reported metrics (`metricScore`) go on a ScoreBoard, and deploy samples
 * return the best reported subnet that fits (source `reported`), else a random one (`space`).
 * Subclasses supply `id` and `trainStep`.
 */
export abstract class ReportedDeployStrategy implements SearchStrategy {
  abstract readonly id: string;
  /** The training stream; `sample` never draws from it. */
  protected readonly rng: Rng;
  private readonly board: ScoreBoard;
  private readonly sampleTries: number;

  constructor(
    protected readonly space: SearchSpaceView,
    cfg: ReportedDeployConfig,
    seed: number,
    stream: string,
  ) {
    this.rng = new Rng(seed).fork(stream);
    this.board = new ScoreBoard(cfg.leaderboardSize, cfg.metricLambda);
    this.sampleTries = cfg.sampleTries;
  }

  abstract trainStep(engine: SupernetEngine, batch: Batch, ctx: StepContext): StepLog | Promise<StepLog>;

  /** train/eval: a uniformly random subnet that fits; deploy: the best reported subnet that fits, else random. */
  sample(constraint: Constraint | undefined, purpose: SamplePurpose, rng: Rng): Proposal {
    if (purpose === 'deploy') {
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
    return { rng: this.rng.state(), leaderboard: this.board.toJSON() };
  }

  load(state: unknown): void {
    const s = state as ReportedDeployState;
    this.rng.setState(s.rng);
    this.board.restore(s.leaderboard);
  }
}
