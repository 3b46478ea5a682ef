import { InvalidArgumentError } from '@supernetd/sdk';
import type { OptimizerConfig } from '@supernetd/sdk';

/** Checks an optimiser configuration; InvalidArgumentError names the bad field. */
export function validateOptimizerConfig(cfg: OptimizerConfig): void {
  const bad = (field: string, msg: string): never => {
    throw new InvalidArgumentError(`optimizer.${field}: ${msg}`);
  };
  if (cfg.kind !== 'sgd' && cfg.kind !== 'adam') bad('kind', `must be sgd or adam, got ${String(cfg.kind)}`);
  if (!(cfg.learningRate >= 0 && Number.isFinite(cfg.learningRate))) bad('learningRate', 'must be a finite number >= 0');
  if (cfg.momentum !== undefined && !(cfg.momentum >= 0 && cfg.momentum < 1)) bad('momentum', 'must be in [0, 1)');
  if (cfg.weightDecay !== undefined && !(cfg.weightDecay >= 0)) bad('weightDecay', 'must be >= 0');
  const sched = cfg.schedule ?? 'constant';
  if (!['cosine', 'step', 'constant'].includes(sched)) bad('schedule', `must be cosine, step or constant, got ${sched}`);
  if (cfg.warmupSteps !== undefined && !(Number.isInteger(cfg.warmupSteps) && cfg.warmupSteps >= 0)) bad('warmupSteps', 'must be an integer >= 0');
  if (sched === 'step' && !(Number.isInteger(cfg.stepSize) && (cfg.stepSize as number) > 0)) bad('stepSize', 'must be a positive integer for the step schedule');
  if (cfg.gamma !== undefined && !(cfg.gamma > 0)) bad('gamma', 'must be > 0');
  if (cfg.totalSteps !== undefined && !(Number.isInteger(cfg.totalSteps) && cfg.totalSteps > 0)) bad('totalSteps', 'must be a positive integer');
}

/**
 * Learning rate of step `step` (0-based): linear warm-up over `warmupSteps` to the base rate, then
 * cosine annealing to 0 at `totalSteps` (per iteration, as PSS-Net), step decay by `gamma` every
 * `stepSize` steps, or constant.
 */
export function learningRateAt(cfg: OptimizerConfig, step: number, totalSteps: number): number {
  const base = cfg.learningRate;
  const warm = cfg.warmupSteps ?? 0;
  if (step < warm) return (base * (step + 1)) / warm;
  const t = step - warm;
  switch (cfg.schedule ?? 'constant') {
    case 'cosine': {
      const span = Math.max(1, (cfg.totalSteps ?? totalSteps) - warm);
      return 0.5 * base * (1 + Math.cos(Math.PI * Math.min(1, t / span)));
    }
    case 'step':
      return base * (cfg.gamma ?? 0.1) ** Math.floor(t / (cfg.stepSize ?? 1));
    default:
      return base;
  }
}
