import { costOf } from '@supernetd/sdk';
import type { Arch, CostKind, SearchSpaceView } from '@supernetd/sdk';

/**
 * DNA's cost lookup table built from the space's analytic counter:
 * `perOp[layer][op]` is an op-choice layer's cost with that op, `fixed` the rest of the network
 * (stem, fixed layers, head, pool, classifier). Costs are additive, so a subnet costs
 * fixed + sum of its layers' entries.
 */
export interface OpCostTable {
  kind: CostKind;
  fixed: number;
  perOp: Record<string, number[]>;
}

/** Number of ops of each op-choice layer. */
export function opCounts(space: SearchSpaceView): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of space.opLayerIds) out[id] = space.layers.find((l) => l.id === id)?.ops?.length ?? 1;
  return out;
}

/** Builds the table for one cost kind from `space.layerCosts`. */
export function opCostTable(space: SearchSpaceView, kind: CostKind): OpCostTable {
  const base = space.maxArch();
  const counts = opCounts(space);
  const baseCosts = space.layerCosts(base);
  let total = 0;
  for (const c of Object.values(baseCosts)) total += costOf(c, kind);
  const perOp: Record<string, number[]> = {};
  let opPart = 0;
  for (const id of space.opLayerIds) {
    const row: number[] = [];
    for (let o = 0; o < (counts[id] as number); o++) {
      const arch: Arch = { ...base, op: { ...(base.op ?? {}), [id]: o } };
      row.push(costOf(space.layerCosts(arch)[id] ?? { flops: 0, params: 0, latency: 0 }, kind));
    }
    perOp[id] = row;
    opPart += row[base.op?.[id] ?? 0] as number;
  }
  return { kind, fixed: total - opPart, perOp };
}
