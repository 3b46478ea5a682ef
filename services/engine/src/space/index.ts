/**
 * Search spaces and the cost model, in plain JavaScript (no TensorFlow.js): the server imports this
 * subpath (`@supernetd/engine/space`) on its RPC thread.
 */
export type { SpaceDefinition, WidthDef, WidthRef, LayerDef, BlockDef, Activation } from './definition.ts';
export { listPresets, DNA_SMALL_OPS } from './presets.ts';
export { latencySource, resolveSpace, spaceDefinition } from './resolve-space.ts';
export { ResolvedSpace, convFlops, convOutSize, layerCost, latencyKey, TAIL_BLOCK } from './resolved-space.ts';
export type { LatencyTable, LayerShape, ResolvedLayer, ResolvedOp, WidthSlot } from './resolved-space.ts';
