// A third-party supernetd strategy: depends on @supernetd/sdk only. See docs/adding-a-strategy.md.
export { strategy, GreedyStrategy, parseGreedyConfig } from './greedy-strategy.ts';
export type { GreedyConfig } from './greedy-strategy.ts';
