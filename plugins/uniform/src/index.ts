// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export { strategy, UniformStrategy, parseUniformConfig } from './uniform-strategy.ts';
export type { UniformConfig } from './uniform-strategy.ts';
