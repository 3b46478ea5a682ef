import type { Arch } from '@supernetd/sdk';
import { resolveSpace, spaceDefinition } from '@supernetd/engine/space';
import type { LayerDef, SpaceDefinition } from '@supernetd/engine/space';

/** A search-space preset plus overrides, as sent in `SearchSpace`. */
export interface SpaceRef {
  preset: string;
  overrides?: Record<string, unknown>;
}

/**
 * The FLOPs of the space's cheapest and most expensive subnet. Widths and resolution come from
 * `minArch`/`maxArch`; op choices are chosen per layer (layer costs add up, so the per-layer
 * cheapest op gives the cheapest net), because op 0 is not always the cheapest one.
 */
export function spaceFlopsRange(ref: SpaceRef): { minFlops: number; maxFlops: number } {
  const space = resolveSpace(ref);
  const pick = (base: Arch, better: (a: number, b: number) => boolean): Arch => {
    const arch: Arch = structuredClone(base);
    for (const layer of space.layers) {
      const n = layer.ops?.length ?? 0;
      let best = arch.op?.[layer.id] ?? 0;
      let bestCost = space.cost(arch).flops;
      for (let i = 0; i < n; i++) {
        const trial: Arch = { ...arch, op: { ...arch.op, [layer.id]: i } };
        const c = space.cost(trial).flops;
        if (better(c, bestCost)) {
          best = i;
          bestCost = c;
        }
      }
      if (n > 0) arch.op = { ...arch.op, [layer.id]: best };
    }
    return arch;
  };
  const minArch = pick(space.minArch(), (a, b) => a < b);
  const maxArch = pick(space.maxArch(), (a, b) => a > b);
  return { minFlops: space.cost(minArch).flops, maxFlops: space.cost(maxArch).flops };
}

/** `value` rounded to `digits` significant digits. */
export function roundSignificant(value: number, digits = 3): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/**
 * `n` FLOPs targets evenly spaced strictly inside [min, max] (min + (max - min) * k / (n + 1)),
 * rounded to 3 significant digits. The end points are left out: at the min the only fitting
 * subnet is the min net, and the max needs no search.
 */
export function defaultBudgets(minFlops: number, maxFlops: number, n = 3): number[] {
  if (!(maxFlops > minFlops)) return [roundSignificant(maxFlops)];
  return Array.from({ length: n }, (_, i) => roundSignificant(minFlops + ((maxFlops - minFlops) * (i + 1)) / (n + 1)));
}

/**
 * A whole space definition (for preset `custom`) whose only subnet is `arch`: every width choice
 * has the single candidate `arch.width[id]`, the one resolution `arch.resolution`, and each op-choice
 * layer keeps only the chosen op. Any strategy on this space trains exactly `arch`, from scratch,
 * through the same engine: the "trained alone" baseline. Channel indices (CafeNet) are dropped: a
 * network trained from scratch does not depend on which channels of a wider one it would use.
 */
export function singleArchDefinition(ref: SpaceRef, arch: Arch): SpaceDefinition {
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
