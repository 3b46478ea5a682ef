export * from './arch.ts';
export * from './space.ts';
export * from './engine.ts';
export * from './strategy.ts';
export * from './errors.ts';
export * from './rng.ts';
