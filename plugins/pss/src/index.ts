// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export { strategy, PssStrategy, targetGrids } from './pss-strategy.ts';
export type { PssTableRow } from './pss-strategy.ts';
export { parsePssConfig } from './pss-config.ts';
export type { PssConfig, TargetRange } from './pss-config.ts';
export { roundMetric, roundHalfEven } from './round-metric.ts';
export { ConditionalSampler, gridTargets, targetOf } from './conditional-sampler.ts';
export type { TargetGrid } from './conditional-sampler.ts';
export { PssPools, softmaxIndex } from './pools.ts';
export { expSchedule } from './schedule.ts';
export { drawStructure } from './structure-space.ts';
