import type { Arch } from './arch.ts';
import type { Batch, SupernetEngine } from './engine.ts';
import { LossParts } from './loss-parts.ts';
import type { StepLog } from './strategy.ts';

/**
 * One single-path training step (SPOS): `arch` forward in training mode, cross-entropy on the
 * batch labels with `labelSmoothing`, one `engine.step`. Reports the losses `ce` and `total` and
 * `arch` as the one subnet that ran.
 */
export function singlePathCeStep(engine: SupernetEngine, batch: Batch, arch: Arch, labelSmoothing: number): StepLog {
  const parts = new LossParts(engine.tf);
  try {
    const { loss } = engine.step(() =>
      parts.add('ce', engine.ce(engine.supernet.forward(arch, batch.x, { training: true }), batch.y, labelSmoothing)),
    );
    return { losses: { ...parts.read(), total: loss }, archs: [arch] };
  } finally {
    parts.dispose();
  }
}
