import type { BenchCase } from './run.ts';

/** Cases (b)-(d): the engine's own supernet. */
export function engineCases(): BenchCase[] {
  return [];
}
