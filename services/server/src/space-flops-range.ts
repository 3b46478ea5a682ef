import type { Arch, SpaceSpec } from '@supernetd/sdk';
import { resolveSpace } from '@supernetd/engine/space';

/**
 * The FLOPs of the space's cheapest and most expensive subnet. Widths and resolution come from
 * `minArch`/`maxArch`; op choices are chosen per layer (layer costs add up, so the per-layer
 * cheapest op gives the cheapest net), because op 0 is not always the cheapest one.
 */
export function spaceFlopsRange(ref: SpaceSpec): { minFlops: number; maxFlops: number } {
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
