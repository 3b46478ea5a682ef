import type { Arch, SearchSpaceView } from '@supernetd/sdk';

/** The channel bins of one width choice: bin k holds channels [starts[k], starts[k] + sizes[k]). */
export interface ChoiceBins {
  id: string;
  /** Supernet channels of the choice. */
  max: number;
  /** Channels per full bin; the last bin holds the remainder. */
  binSize: number;
  starts: number[];
  sizes: number[];
  /** FLOPs added by one extra output channel with every other choice at max width (f_l). */
  flopsPerChannel: number;
  /** Fewest bins a subnet may keep: the space's smallest width of this choice is never undercut. */
  minBins: number;
}

function sumFlops(costs: Record<string, { flops: number }>): number {
  let s = 0;
  for (const c of Object.values(costs)) s += c.flops;
  return s;
}

/**
 * CafeNet's FLOPs-sensitive bins, sized so that one bin of any layer costs about the same FLOPs.
 * f_l is measured from `space.layerCosts` as the FLOPs difference between the max net and the max
 * net with this choice at its smallest width, per channel; eps = mean_l(f_l * max_l) / B; bin size = clamp(round(eps / f_l), 1, max_l); the
 * last bin takes the remainder.
 */
export function flopsSensitiveBins(space: SearchSpaceView, nominalBins: number): ChoiceBins[] {
  const maxArch = space.maxArch();
  const full = sumFlops(space.layerCosts(maxArch));
  const f = space.widthChoices.map((w) => {
    const lo = w.candidates[0] as number;
    if (lo >= w.max) return 0;
    const smaller: Arch = { ...maxArch, width: { ...maxArch.width, [w.id]: lo } };
    return (full - sumFlops(space.layerCosts(smaller))) / (w.max - lo);
  });
  const contributions = space.widthChoices.map((w, i) => (f[i] as number) * w.max).filter((x) => x > 0);
  const eps = contributions.length > 0 ? contributions.reduce((a, b) => a + b, 0) / contributions.length / nominalBins : 1;
  return space.widthChoices.map((w, i) => {
    const fl = f[i] as number;
    const binSize = fl > 0 ? Math.min(w.max, Math.max(1, Math.round(eps / fl))) : w.max;
    const starts: number[] = [];
    const sizes: number[] = [];
    for (let s = 0; s < w.max; s += binSize) {
      starts.push(s);
      sizes.push(Math.min(binSize, w.max - s));
    }
    const lo = w.candidates[0] as number;
    const smallest = Math.min(...sizes);
    let minBins = 1;
    while (minBins < sizes.length && (minBins - 1) * binSize + smallest < lo) minBins++;
    return { id: w.id, max: w.max, binSize, starts, sizes, flopsPerChannel: fl, minBins };
  });
}

/** Channel indices of the given bins, ascending. */
export function binChannels(b: ChoiceBins, bins: readonly number[]): number[] {
  const out: number[] = [];
  for (const k of [...bins].sort((x, y) => x - y)) {
    const s = b.starts[k] as number;
    for (let c = 0; c < (b.sizes[k] as number); c++) out.push(s + c);
  }
  return out;
}
