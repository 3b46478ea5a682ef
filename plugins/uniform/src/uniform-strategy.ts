import { ConfigReader, ReportedDeployStrategy, randomArch, readReportedDeployConfig, singlePathCeStep } from '@supernetd/sdk';
import type {
  Batch,
  ReportedDeployConfig,
  SearchSpaceView,
  StepContext,
  StepLog,
  StrategyFactory,
  StrategyInit,
  SupernetEngine,
} from '@supernetd/sdk';

/** Config of the `uniform` strategy: the sampling, leaderboard and evolutionary-search settings plus the training loss. */
export interface UniformConfig extends ReportedDeployConfig {
  /** Label smoothing of the training cross-entropy (default 0). */
  labelSmoothing: number;
}

/**
 * SPOS single-path uniform sampling: one uniformly random subnet per step, trained with CE.
 * Sampling, metric bookkeeping, state and SPOS's evolutionary search under a budget (`search`)
 * come from ReportedDeployStrategy.
 */
export class UniformStrategy extends ReportedDeployStrategy {
  override readonly id = 'uniform';

  constructor(
    space: SearchSpaceView,
    private readonly cfg: UniformConfig,
    seed: number,
  ) {
    super(space, cfg, seed, 'uniform-train');
  }

  protected override trainOne(engine: SupernetEngine, batch: Batch, _ctx: StepContext): StepLog {
    return singlePathCeStep(engine, batch, randomArch(this.space, this.rng), this.cfg.labelSmoothing);
  }
}

/** Parses the `uniform` config; InvalidConfigError names the bad key. */
export function parseUniformConfig(raw: unknown): UniformConfig {
  const r = new ConfigReader('uniform', raw);
  const cfg: UniformConfig = {
    ...readReportedDeployConfig(r),
    labelSmoothing: r.number('labelSmoothing', 0, { min: 0, max: 1 }),
  };
  r.done();
  return cfg;
}

/** The `uniform` strategy (SPOS baseline). */
export const strategy: StrategyFactory<UniformConfig> = {
  id: 'uniform',
  description: 'Single-path uniform sampling (SPOS): one uniformly random subnet per step, cross-entropy; evolutionary search under a budget',
  parseConfig: parseUniformConfig,
  configSchema: ConfigReader.schemaOf(parseUniformConfig),
  create: (init: StrategyInit<UniformConfig>) => new UniformStrategy(init.space, init.config, init.seed),
};
