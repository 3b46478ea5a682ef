import { ConfigReader, LossParts, ReportedDeployStrategy, randomArch, readReportedDeployConfig } from '@supernetd/sdk';
import type {
  Arch,
  Batch,
  ReportedDeployConfig,
  SearchSpaceView,
  StepContext,
  StepLog,
  StrategyFactory,
  StrategyInit,
  SupernetEngine,
} from '@supernetd/sdk';

/** Config of the `sandwich` strategy: the sampling, leaderboard and evolutionary-search settings plus the training rule. */
export interface SandwichConfig extends ReportedDeployConfig {
  /** Random subnets between the max and the min net per step (BigNAS: 2). */
  randomSubnets: number;
  /** Train the random and min subnets on the max net's stop-gradient logits (KL); false: CE on labels. */
  inplaceDistillation: boolean;
  /** Label smoothing of the max net's cross-entropy (default 0). */
  labelSmoothing: number;
}

/**
 * The sandwich rule with in-place distillation (US-Nets, BigNAS): each step trains the max net on
 * labels, `randomSubnets` uniform subnets and the min net on the max net's soft labels, in one step.
 * Sampling, metric bookkeeping, state and SPOS's evolutionary search under a budget (`search`)
 * come from ReportedDeployStrategy.
 */
export class SandwichStrategy extends ReportedDeployStrategy {
  override readonly id = 'sandwich';

  constructor(
    space: SearchSpaceView,
    private readonly cfg: SandwichConfig,
    seed: number,
  ) {
    super(space, cfg, seed, 'sandwich-train');
  }

  protected override trainOne(engine: SupernetEngine, batch: Batch, _ctx: StepContext): StepLog {
    const max = this.space.maxArch();
    const min = this.space.minArch();
    const randoms: Arch[] = [];
    for (let i = 0; i < this.cfg.randomSubnets; i++) randoms.push(randomArch(this.space, this.rng));
    const net = engine.supernet;
    const parts = new LossParts(engine.tf);
    try {
      const { loss } = engine.step(() => {
        const tf = engine.tf;
        const zMax = net.forward(max, batch.x, { training: true });
        let total = parts.add('max', engine.ce(zMax, batch.y, this.cfg.labelSmoothing));
        const child = (arch: Arch) => {
          const z = net.forward(arch, batch.x, { training: true });
          return this.cfg.inplaceDistillation ? engine.kl(z, zMax) : engine.ce(z, batch.y);
        };
        for (const a of randoms) total = tf.add(total, parts.add('random', child(a)));
        total = tf.add(total, parts.add('min', child(min)));
        return total;
      });
      const losses = parts.read();
      if (losses['random'] !== undefined) losses['random'] /= randoms.length;
      return { losses: { ...losses, total: loss }, archs: [max, ...randoms, min] };
    } finally {
      parts.dispose();
    }
  }
}

/** Parses the `sandwich` config; InvalidConfigError names the bad key. */
export function parseSandwichConfig(raw: unknown): SandwichConfig {
  const r = new ConfigReader('sandwich', raw);
  const cfg: SandwichConfig = {
    randomSubnets: r.number('randomSubnets', 2, { min: 0, max: 16, integer: true }),
    inplaceDistillation: r.boolean('inplaceDistillation', true),
    labelSmoothing: r.number('labelSmoothing', 0, { min: 0, max: 1 }),
    ...readReportedDeployConfig(r),
  };
  r.done();
  return cfg;
}

/** The `sandwich` strategy (US-Nets / BigNAS baseline). */
export const strategy: StrategyFactory<SandwichConfig> = {
  id: 'sandwich',
  description: 'Sandwich rule: max net (CE) + n uniform subnets + min net with in-place distillation from the max net',
  parseConfig: parseSandwichConfig,
  configSchema: ConfigReader.schemaOf(parseSandwichConfig),
  create: (init: StrategyInit<SandwichConfig>) => new SandwichStrategy(init.space, init.config, init.seed),
};
