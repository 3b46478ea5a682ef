package dev.supernetd.client;

import dev.supernetd.v1.Constraint;
import dev.supernetd.v1.ConstraintKind;

/** Resource budgets for SampleSubnet, Evaluate and ExportSubnet. */
public final class Constraints {
  private Constraints() {}

  /** A FLOPs (multiply-accumulate) budget. */
  public static Constraint flops(double target) {
    return of(ConstraintKind.CONSTRAINT_KIND_FLOPS, target);
  }

  /** A parameter-count budget. */
  public static Constraint params(double target) {
    return of(ConstraintKind.CONSTRAINT_KIND_PARAMS, target);
  }

  /** A latency budget in milliseconds. */
  public static Constraint latencyMs(double target) {
    return of(ConstraintKind.CONSTRAINT_KIND_LATENCY, target);
  }

  private static Constraint of(ConstraintKind kind, double target) {
    return Constraint.newBuilder().setKind(kind).setTarget(target).build();
  }
}
