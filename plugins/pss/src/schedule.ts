import type { StepContext } from '@supernetd/sdk';

/** Where a run stands in PSS-Net's per-epoch p and temperature schedules: epoch e of E. */
export interface ScheduleProgress {
  step: number;
  totalSteps: number;
  stepsPerEpoch: number;
}

/**
 * `from * (to / from)^f`. Unit 'step' (the strategy's default): f = step / totalSteps, the fraction
 * of the planned run done, so the decay happens at any run length. Unit 'epoch' (PSS-Net, updated
 * once per epoch): f = e / E with e = floor(step / stepsPerEpoch), E = ceil(total / stepsPerEpoch).
 */
export function expSchedule(range: readonly [number, number], p: ScheduleProgress, unit: 'epoch' | 'step'): number {
  const [from, to] = range;
  let frac: number;
  if (unit === 'step') {
    frac = p.totalSteps > 0 ? Math.min(p.step, p.totalSteps) / p.totalSteps : 0;
  } else {
    const spe = Math.max(1, p.stepsPerEpoch);
    const epochs = Math.max(1, Math.ceil(p.totalSteps / spe));
    frac = Math.min(Math.floor(p.step / spe), epochs) / epochs;
  }
  return from * Math.pow(to / from, frac);
}

/** ScheduleProgress of a step context. */
export function progressOf(ctx: StepContext): ScheduleProgress {
  return { step: ctx.step, totalSteps: ctx.totalSteps, stepsPerEpoch: ctx.stepsPerEpoch };
}
