import { ConfigReader, LossParts, Rng, ScoreBoard, metricScore, randomArch, sampleFitting, fits } from '@supernetd/sdk';
import type {
  Batch,
  Constraint,
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

/** Config of the `uniform` strategy. */
export interface UniformConfig {
  /** Draws before a constrained sample walks a draw down to fit (default 100). */
  sampleTries: number;
  /** Reported subnets remembered for deploy sampling (default 50). */
  leaderboardSize: number;
  /** EMA factor for repeated reports of one subnet (default 0.9). */
  metricLambda: number;
  /** Label smoothing of the training cross-entropy (default 0). */
  labelSmoothing: number;
}

interface UniformState {
  rng: number[];
  leaderboard: ScoredArch[];
}

/** SPOS single-path uniform sampling: one uniformly random subnet per step, trained with CE. */
export class UniformStrategy implements SearchStrategy {
  readonly id = 'uniform';
  private readonly rng: Rng;
  private readonly board: ScoreBoard;

  constructor(
    private readonly space: SearchSpaceView,
    private readonly cfg: UniformConfig,
    seed: number,
  ) {
    this.rng = new Rng(seed).fork('uniform-train');
    this.board = new ScoreBoard(cfg.leaderboardSize, cfg.metricLambda);
  }

  trainStep(engine: SupernetEngine, batch: Batch, _ctx: StepContext): StepLog {
    const arch = randomArch(this.space, this.rng);
    const parts = new LossParts(engine.tf);
    try {
      const { loss } = engine.step(() =>
        parts.add('ce', engine.ce(engine.supernet.forward(arch, batch.x, { training: true }), batch.y, this.cfg.labelSmoothing)),
      );
      return { losses: { ...parts.read(), total: loss }, archs: [arch] };
    } finally {
      parts.dispose();
    }
  }

  /** train/eval: a uniformly random subnet that fits; deploy: the best reported subnet that fits, else random. */
  sample(constraint: Constraint | undefined, purpose: SamplePurpose, rng: Rng): Proposal {
    if (purpose === 'deploy') {
      const best = this.board.best((a) => !constraint || fits(this.space.cost(a), constraint));
      if (best) return { arch: best.arch, source: 'reported', score: best.score };
    }
    const arch = sampleFitting(this.space, constraint, rng, () => randomArch(this.space, rng), this.cfg.sampleTries);
    return { arch, source: 'space' };
  }

  onMetric(report: MetricReport): void {
    const score = metricScore(report.values);
    if (score !== undefined) this.board.update(report.arch, score);
  }

  state(): UniformState {
    return { rng: this.rng.state(), leaderboard: this.board.toJSON() };
  }

  load(state: unknown): void {
    const s = state as UniformState;
    this.rng.setState(s.rng);
    this.board.restore(s.leaderboard);
  }
}

/** Parses the `uniform` config; InvalidConfigError names the bad key. */
export function parseUniformConfig(raw: unknown): UniformConfig {
  const r = new ConfigReader('uniform', raw);
  const cfg: UniformConfig = {
    sampleTries: r.number('sampleTries', 100, { min: 1, integer: true }),
    leaderboardSize: r.number('leaderboardSize', 50, { min: 1, integer: true }),
    metricLambda: r.number('metricLambda', 0.9, { min: 0, max: 1 }),
    labelSmoothing: r.number('labelSmoothing', 0, { min: 0, max: 1 }),
  };
  r.done();
  return cfg;
}

/** The `uniform` strategy (SPOS baseline). */
export const strategy: StrategyFactory<UniformConfig> = {
  id: 'uniform',
  description: 'Single-path uniform sampling (SPOS): one uniformly random subnet per step, cross-entropy',
  parseConfig: parseUniformConfig,
  create: (init: StrategyInit<UniformConfig>) => new UniformStrategy(init.space, init.config, init.seed),
};
