import { archKey } from '@supernetd/sdk';
import type { Arch, Rng } from '@supernetd/sdk';
import { binChannels } from './bins.ts';
import type { ChoiceBins } from './bins.ts';

/** A width in bins: resolution plus kept bin count per width choice. */
export interface BinWidth {
  resolution: number;
  bins: Record<string, number>;
}

/** The free bins chosen per width choice (the rest of a width is its base bins). */
export type Placement = Record<string, number[]>;

/** Base bins and local zone of a width of `c` of `n` bins with offset `r`, clipped at the edges. */
export function localZone(c: number, n: number, r: number): { base: number[]; zone: number[]; free: number } {
  const baseEnd = Math.max(0, c - r);
  const base: number[] = [];
  for (let k = 0; k < baseEnd; k++) base.push(k);
  const zone: number[] = [];
  for (let k = baseEnd; k < Math.min(c + r, n); k++) zone.push(k);
  return { base, zone, free: c - baseEnd };
}

/** Every k-subset of `items`, in lexicographic order. */
export function combinations(items: readonly number[], k: number): number[][] {
  const out: number[][] = [];
  const rec = (start: number, acc: number[]) => {
    if (acc.length === k) {
      out.push([...acc]);
      return;
    }
    for (let i = start; i < items.length; i++) {
      acc.push(items[i] as number);
      rec(i + 1, acc);
      acc.pop();
    }
  };
  rec(0, []);
  return out;
}

/** Number of joint placements of a width. */
export function placementCount(bins: readonly ChoiceBins[], w: BinWidth, r: number): number {
  let n = 1;
  for (const b of bins) {
    const { zone, free } = localZone(w.bins[b.id] as number, b.starts.length, r);
    n *= combinations(zone, free).length;
  }
  return n;
}

/** A uniformly random placement (each choice independently). */
export function randomPlacement(bins: readonly ChoiceBins[], w: BinWidth, r: number, rng: Rng): Placement {
  const p: Placement = {};
  for (const b of bins) {
    const { zone, free } = localZone(w.bins[b.id] as number, b.starts.length, r);
    p[b.id] = rng.shuffle([...zone]).slice(0, free).sort((x, y) => x - y);
  }
  return p;
}

/** The leftmost placement: the lowest free bins (the fixed slimmable pattern). */
export function leftmostPlacement(bins: readonly ChoiceBins[], w: BinWidth, r: number): Placement {
  const p: Placement = {};
  for (const b of bins) {
    const { zone, free } = localZone(w.bins[b.id] as number, b.starts.length, r);
    p[b.id] = zone.slice(0, free);
  }
  return p;
}

/** Every joint placement (only for small counts). */
export function allPlacements(bins: readonly ChoiceBins[], w: BinWidth, r: number): Placement[] {
  let out: Placement[] = [{}];
  for (const b of bins) {
    const { zone, free } = localZone(w.bins[b.id] as number, b.starts.length, r);
    const opts = combinations(zone, free);
    out = out.flatMap((p) => opts.map((o) => ({ ...p, [b.id]: o })));
  }
  return out;
}

/** `k` distinct placements: all of them when there are at most `k`, else distinct random ones. */
export function samplePlacements(bins: readonly ChoiceBins[], w: BinWidth, r: number, k: number, rng: Rng): Placement[] {
  if (placementCount(bins, w, r) <= k) return allPlacements(bins, w, r);
  const seen = new Set<string>();
  const out: Placement[] = [];
  for (let tries = 0; out.length < k && tries < 20 * k; tries++) {
    const p = randomPlacement(bins, w, r, rng);
    const key = JSON.stringify(p);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

/** The subnet of a width and placement: kept channels = base bins + chosen free bins, per choice. */
export function toArch(bins: readonly ChoiceBins[], w: BinWidth, p: Placement, r: number): Arch {
  const width: Record<string, number> = {};
  const channelIdx: Record<string, number[]> = {};
  for (const b of bins) {
    const { base } = localZone(w.bins[b.id] as number, b.starts.length, r);
    const idx = binChannels(b, [...base, ...(p[b.id] ?? [])]);
    channelIdx[b.id] = idx;
    width[b.id] = idx.length;
  }
  return { resolution: w.resolution, width, channelIdx };
}

/** Stable key of a width (memory and cache key). */
export function widthKey(w: BinWidth): string {
  return archKey({ resolution: w.resolution, width: w.bins });
}

/**
 * Recovers width and placement from an arch: with channelIdx, each choice must be a union of whole
 * bins made of base bins plus free bins of its local zone; without, the leftmost width must end on
 * a bin boundary. Undefined when the arch is not of that form.
 */
export function fromArch(bins: readonly ChoiceBins[], arch: Arch, r: number): { width: BinWidth; placement: Placement } | undefined {
  const w: BinWidth = { resolution: arch.resolution, bins: {} };
  const p: Placement = {};
  for (const b of bins) {
    const idx = arch.channelIdx?.[b.id] ?? Array.from({ length: arch.width[b.id] ?? 0 }, (_, i) => i);
    const set = new Set(idx);
    const kept: number[] = [];
    for (let k = 0; k < b.starts.length; k++) {
      const chans = binChannels(b, [k]);
      const inside = chans.filter((c) => set.has(c)).length;
      if (inside === chans.length) kept.push(k);
      else if (inside !== 0) return undefined;
    }
    if (binChannels(b, kept).length !== idx.length) return undefined;
    const c = kept.length;
    const { base, zone, free } = localZone(c, b.starts.length, r);
    if (!base.every((k) => kept.includes(k))) return undefined;
    const chosen = kept.filter((k) => !base.includes(k));
    if (chosen.length !== free || !chosen.every((k) => zone.includes(k))) return undefined;
    w.bins[b.id] = c;
    p[b.id] = chosen;
  }
  return { width: w, placement: p };
}
