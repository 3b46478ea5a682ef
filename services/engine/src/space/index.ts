/**
 * Search spaces and the cost model, in plain JavaScript (no TensorFlow.js), and the names of the
 * built-in datasets: the server imports this subpath (`@supernetd/engine/space`) on its RPC thread.
 */
export type { SpaceDefinition, WidthDef, WidthRef, LayerDef, BlockDef, Activation } from './definition.ts';
export { listPresets, DNA_SMALL_OPS } from './presets.ts';
export { latencySource, resolveSpace, spaceDefinition } from './resolve-space.ts';
export { singleArchDefinition, singleArchOf } from './single-arch.ts';
export { ResolvedSpace, convFlops, convOutSize, layerCost, latencyKey, TAIL_BLOCK } from './resolved-space.ts';
export type { LatencyTable, LayerShape, ResolvedLayer, ResolvedOp, WidthSlot } from './resolved-space.ts';
export { SPACE_HARD_LIMITS } from './resolved-space.ts';
export { DEFAULT_SPACE_LIMITS, checkSpaceLimits, inlineBatchLimits, spaceFootprint } from './space-limits.ts';
export type { InlineBatchLimits, SpaceFootprint, SpaceLimits } from './space-limits.ts';
export { BUILTIN_DATASETS } from '../data/load-dataset.ts';
