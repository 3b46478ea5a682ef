import { ConfigReader, Rng, costOf, fits, randomArch, sampleFitting, singlePathCeStep, unsatisfiable } from '@supernetd/sdk';
import type {
  Arch,
  Batch,
  Constraint,
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

/** Config of the `example-greedy` strategy. */
export interface GreedyConfig {
  /** Label smoothing of the training cross-entropy. */
  labelSmoothing: number;
  /** Draws before a constrained train/eval sample is walked down to fit. */
  sampleTries: number;
}

/**
 * A deliberately small third-party strategy. Training: one uniformly random subnet per step (CE).
 * Deploy: "largest that fits" - start from the max net and take, one at a time, the single-step
 * reduction (one width candidate or resolution step down) that gives up the least cost, until the
 * subnet fits the budget.
 */
export class GreedyStrategy implements SearchStrategy {
  readonly id = 'example-greedy';
  private readonly rng: Rng;

  constructor(
    private readonly space: SearchSpaceView,
    private readonly cfg: GreedyConfig,
    seed: number,
  ) {
    this.rng = new Rng(seed).fork('example-greedy');
  }

  trainStep(engine: SupernetEngine, batch: Batch, _ctx: StepContext): StepLog {
    return singlePathCeStep(engine, batch, randomArch(this.space, this.rng), this.cfg.labelSmoothing);
  }

  /** The largest subnet (by the greedy walk) that fits `c`. Plain JavaScript. */
  largestFitting(c: Constraint): Arch {
    let a = this.space.maxArch();
    const cost = (x: Arch) => costOf(this.space.cost(x), c.kind);
    while (!fits(this.space.cost(a), c)) {
      const steps: Arch[] = [];
      const ri = this.space.resolutions.indexOf(a.resolution);
      if (ri > 0) steps.push({ ...a, resolution: this.space.resolutions[ri - 1] as number });
      for (const w of this.space.widthChoices) {
        const wi = w.candidates.indexOf(a.width[w.id] as number);
        if (wi > 0) steps.push({ ...a, width: { ...a.width, [w.id]: w.candidates[wi - 1] as number } });
      }
      if (steps.length === 0) throw unsatisfiable(this.space, c);
      a = steps.reduce((best, s) => (cost(s) > cost(best) ? s : best));
    }
    return a;
  }

  sample(constraint: Constraint | undefined, purpose: SamplePurpose, rng: Rng): Proposal {
    if (purpose === 'deploy') {
      if (!constraint) return { arch: this.space.maxArch(), source: 'greedy' };
      if (this.space.opLayerIds.length === 0) return { arch: this.largestFitting(constraint), source: 'greedy' };
    }
    return { arch: sampleFitting(this.space, constraint, rng, () => randomArch(this.space, rng), this.cfg.sampleTries), source: 'space' };
  }

  state(): { rng: number[] } {
    return { rng: this.rng.state() };
  }

  load(state: unknown): void {
    this.rng.setState((state as { rng: number[] }).rng);
  }
}

/** Parses the config; InvalidConfigError names the bad key. */
export function parseGreedyConfig(raw: unknown): GreedyConfig {
  const r = new ConfigReader('example-greedy', raw);
  const cfg: GreedyConfig = {
    labelSmoothing: r.number('labelSmoothing', 0, { min: 0, max: 1 }),
    sampleTries: r.number('sampleTries', 100, { min: 1, integer: true }),
  };
  r.done();
  return cfg;
}

/** The strategy this package registers (the server imports `strategy` or `strategies`). */
export const strategy: StrategyFactory<GreedyConfig> = {
  id: 'example-greedy',
  description: 'Example plug-in: uniform single-path training, greedy largest-that-fits deployment',
  parseConfig: parseGreedyConfig,
  create: (init: StrategyInit<GreedyConfig>) => new GreedyStrategy(init.space, init.config, init.seed),
};
