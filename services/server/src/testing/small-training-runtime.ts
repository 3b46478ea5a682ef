import { createEngineRuntime } from '@supernetd/engine';
import type { EngineRuntime, SpaceSpec } from '@supernetd/engine';
import type { OptimizerConfig } from '@supernetd/sdk';

/** What `smallTrainingRuntime` lets a test change; everything else is fixed. */
export interface SmallTrainingRuntimeOptions {
  /** Training examples taken from fashion-mnist (default 256). */
  maxTrainExamples?: number;
  /** Test examples taken from fashion-mnist (default 64). */
  maxTestExamples?: number;
  /** Planned run length (default 12). */
  totalSteps?: number;
  /** Training seed (default 1). */
  seed?: number;
  /** The optimiser (default SGD, learning rate 0.05, momentum 0.9). */
  optimizer?: OptimizerConfig;
}

/**
 * A real engine runtime for strategy tests: `space` trained on a small fashion-mnist slice in
 * batches of 16, by default with SGD (learning rate 0.05, momentum 0.9), and no label smoothing. Equal calls give
 * equal runtimes (same weights and batches), as the sdk's conformance kit requires of
 * `makeRuntime`. Rejects as createEngineRuntime does (bad space, unreadable dataset).
 */
export function smallTrainingRuntime(space: SpaceSpec, opts: SmallTrainingRuntimeOptions = {}): Promise<EngineRuntime> {
  return createEngineRuntime({
    space,
    training: {
      dataset: { name: 'fashion-mnist', maxTrainExamples: opts.maxTrainExamples ?? 256, maxTestExamples: opts.maxTestExamples ?? 64 },
      batchSize: 16,
      totalSteps: opts.totalSteps ?? 12,
      optimizer: opts.optimizer ?? { kind: 'sgd', learningRate: 0.05, momentum: 0.9 },
      labelSmoothing: 0,
      seed: opts.seed ?? 1,
    },
  });
}
