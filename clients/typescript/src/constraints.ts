import { create } from '@bufbuild/protobuf';
import { ConstraintKind, ConstraintSchema } from './proto.ts';
import type { Constraint } from './proto.ts';

/** A FLOPs (multiply-accumulate) budget. */
export function flops(target: number): Constraint {
  return create(ConstraintSchema, { kind: ConstraintKind.FLOPS, target });
}

/** A parameter-count budget. */
export function params(target: number): Constraint {
  return create(ConstraintSchema, { kind: ConstraintKind.PARAMS, target });
}

/** A latency budget in milliseconds. */
export function latencyMs(target: number): Constraint {
  return create(ConstraintSchema, { kind: ConstraintKind.LATENCY, target });
}
