import type { Arch } from '@supernetd/sdk';
import type { SpaceSpec } from '../runtime-types.ts';
import type { LayerDef, SpaceDefinition } from './definition.ts';
import { resolveSpace, spaceDefinition } from './resolve-space.ts';

/**
 * A whole space definition (for preset `custom`) whose only subnet is `arch`: every width choice
 * has the single candidate `arch.width[id]`, the one resolution `arch.resolution`, and each op-choice
 * layer keeps only the chosen op (so it is op 0 there). Any strategy on this space trains exactly
 * `arch` through the same engine: the server's retraining (ExperimentSpec.retrain) and the search
 * CLI's "trained alone" baseline. Layer and width ids are kept, so the derived supernet's layers
 * match the source's one to one (inherited weights are sliced per layer id). Channel indices
 * (CafeNet) are dropped: the derived supernet holds exactly the selected channels, in order.
 * Latency settings are not carried over. Throws when `arch` lacks a width or picks a missing op.
 */
export function singleArchDefinition(ref: SpaceSpec, arch: Arch): SpaceDefinition {
  const def = spaceDefinition(ref);
  def.name = `${def.name}-alone`;
  def.resolutions = [arch.resolution];
  def.widths = def.widths.map((w) => {
    const chosen = arch.width[w.id];
    if (chosen === undefined) throw new Error(`architecture has no width for '${w.id}'`);
    return { id: w.id, base: chosen, candidates: [chosen] };
  });
  const fix = (layer: LayerDef): LayerDef => {
    if (layer.type !== 'mbconv' || !layer.ops) return layer;
    const op = layer.ops[arch.op?.[layer.id] ?? 0];
    if (!op) throw new Error(`architecture picks a missing op for layer '${layer.id}'`);
    return { ...layer, ops: [op] };
  };
  def.blocks = def.blocks.map((b) => ({ ...b, layers: b.layers.map(fix) }));
  def.tail = def.tail.map(fix);
  resolveSpace({ preset: 'custom', overrides: { definition: def } });
  return def;
}

/** The derived space's name for `arch`: the same widths and resolution, no channel indices, no ops. */
export function singleArchOf(arch: Arch): Arch {
  return { resolution: arch.resolution, width: { ...arch.width } };
}
