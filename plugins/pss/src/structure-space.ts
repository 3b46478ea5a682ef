import { makeDivisible } from '@supernetd/sdk';
import type { Arch, Rng, SearchSpaceView, WidthChoice } from '@supernetd/sdk';

/** The candidate nearest to `v` (ties to the smaller). */
export function nearest(values: readonly number[], v: number): number {
  let best = values[0] as number;
  for (const x of values) if (Math.abs(x - v) < Math.abs(best - v)) best = x;
  return best;
}

/** PSS-Net's width draw: m ~ U(minMult, maxMult) rounded to 3 decimals, make_divisible(base * m). */
export function drawWidth(w: WidthChoice, rng: Rng): number {
  const m = Math.round(rng.uniform(w.minMult, w.maxMult) * 1000) / 1000;
  const c = makeDivisible(w.base * m, w.divisor);
  return w.candidates.includes(c) ? c : nearest(w.candidates, c);
}

/**
 * One subnet of PSS-Net's structure space: resolution = make_divisible(U(lo, hi))
 * onto the space's resolution grid (the nearest listed resolution, as make_divisible does on an
 * evenly spaced grid), one multiplier per width choice, uniform op per op-choice layer.
 */
export function drawStructure(space: SearchSpaceView, rng: Rng): Arch {
  const rs = space.resolutions;
  const resolution = nearest(rs, rng.uniform(rs[0] as number, rs[rs.length - 1] as number));
  const width: Record<string, number> = {};
  for (const w of space.widthChoices) width[w.id] = drawWidth(w, rng);
  const arch: Arch = { resolution, width };
  if (space.opLayerIds.length > 0) {
    arch.op = {};
    for (const id of space.opLayerIds) {
      const n = space.layers.find((l) => l.id === id)?.ops?.length ?? 1;
      arch.op[id] = rng.int(n);
    }
  }
  return arch;
}
