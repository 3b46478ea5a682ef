import { create } from '@bufbuild/protobuf';
import { ConstraintKind, ConstraintSchema, ExperimentSpecSchema } from '@supernetd/api';
import type { Constraint, ExperimentSpec } from '@supernetd/api';

/**
 * A small experiment that trains quickly on a 2-core machine: the `mbv2-small` space on a few
 * hundred fashion-mnist images in batches of 16, checkpointing every `checkpointInterval` steps.
 */
export function smallSpec(opts: { name: string; strategy?: string; checkpointInterval?: number; totalSteps?: number }): ExperimentSpec {
  return create(ExperimentSpecSchema, {
    displayName: opts.name,
    searchSpace: { preset: 'mbv2-small' },
    strategy: { id: opts.strategy ?? 'uniform' },
    training: {
      dataset: { name: 'fashion-mnist', maxTrainExamples: 512, maxTestExamples: 128 },
      batchSize: 16,
      totalSteps: BigInt(opts.totalSteps ?? 1000),
      checkpointInterval: opts.checkpointInterval ?? 5,
      seed: 7,
    },
  });
}

/** A FLOPs budget loose enough that every strategy finds subnets for the small space. */
export function looseFlopsConstraint(): Constraint {
  return create(ConstraintSchema, { kind: ConstraintKind.FLOPS, target: 1e12 });
}
