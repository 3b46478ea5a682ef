import { create } from '@bufbuild/protobuf';
import { ConstraintKind, ConstraintSchema } from './proto.ts';
import type { Constraint } from './proto.ts';

// `tolerance` has explicit presence: undefined leaves the strategy's default, 0 asks for no slack.

/** A FLOPs (multiply-accumulate) budget, with an optional relative slack in [0, 1). */
export function flops(target: number, tolerance?: number): Constraint {
  return create(ConstraintSchema, { kind: ConstraintKind.FLOPS, target, tolerance });
}

/** A parameter-count budget, with an optional relative slack in [0, 1). */
export function params(target: number, tolerance?: number): Constraint {
  return create(ConstraintSchema, { kind: ConstraintKind.PARAMS, target, tolerance });
}

/** A latency budget in milliseconds, with an optional relative slack in [0, 1). */
export function latencyMs(target: number, tolerance?: number): Constraint {
  return create(ConstraintSchema, { kind: ConstraintKind.LATENCY, target, tolerance });
}
