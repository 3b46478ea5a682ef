// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
export * from './arch.ts';
export * from './space.ts';
export * from './engine.ts';
export * from './strategy.ts';
export * from './errors.ts';
export * from './rng.ts';
export * from './config-reader.ts';
export * from './sampling.ts';
export * from './scoring.ts';
export * from './loss-parts.ts';
export * from './reported-deploy-strategy.ts';
export * from './single-path-step.ts';
export * from './evolution-search.ts';
export * from './atomic-file.ts';
