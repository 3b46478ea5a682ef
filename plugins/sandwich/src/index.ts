// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export { strategy, SandwichStrategy, parseSandwichConfig } from './sandwich-strategy.ts';
export type { SandwichConfig } from './sandwich-strategy.ts';
