import type { BinWidth, Placement } from './placement.ts';
import { widthKey } from './placement.ts';

/** One remembered width with its scored placements. */
export interface MemoryEntry {
  width: BinWidth;
  /** [placement, score] pairs; higher score is better. */
  placements: [Placement, number][];
}

/**
 * CafeNet's best-placement memory: per width, the placements seen with an EMA of
 * their score (-loss in training, the reported metric otherwise). A width keeps at most
 * `perWidth` placements (the worst is dropped); at most `widths` widths are kept (the oldest is dropped).
 */
export class PlacementMemory {
  private readonly map = new Map<string, MemoryEntry>();

  constructor(
    private readonly widths: number,
    private readonly perWidth: number,
    private readonly lambda: number,
  ) {}

  update(width: BinWidth, placement: Placement, score: number): void {
    const key = widthKey(width);
    let e = this.map.get(key);
    if (!e) {
      e = { width, placements: [] };
      this.map.set(key, e);
      if (this.map.size > this.widths) this.map.delete(this.map.keys().next().value as string);
    }
    const pk = JSON.stringify(placement);
    const known = e.placements.find(([p]) => JSON.stringify(p) === pk);
    if (known) known[1] = this.lambda * known[1] + (1 - this.lambda) * score;
    else e.placements.push([placement, score]);
    if (e.placements.length > this.perWidth) {
      let worst = 0;
      e.placements.forEach(([, s], i) => {
        if (s < (e.placements[worst] as [Placement, number])[1]) worst = i;
      });
      e.placements.splice(worst, 1);
    }
  }

  /** The best remembered placement of a width. */
  best(width: BinWidth): { placement: Placement; score: number } | undefined {
    const e = this.map.get(widthKey(width));
    if (!e || e.placements.length === 0) return undefined;
    const [placement, score] = e.placements.reduce((a, b) => (b[1] > a[1] ? b : a));
    return { placement, score };
  }

  /** Every width with its best placement, by descending score. */
  ranked(): { width: BinWidth; placement: Placement; score: number }[] {
    const out: { width: BinWidth; placement: Placement; score: number }[] = [];
    for (const e of this.map.values()) {
      const b = this.best(e.width);
      if (b) out.push({ width: e.width, ...b });
    }
    return out.sort((a, b) => b.score - a.score);
  }

  get size(): number {
    return this.map.size;
  }

  toJSON(): MemoryEntry[] {
    return [...this.map.values()];
  }

  restore(entries: readonly MemoryEntry[]): void {
    this.map.clear();
    for (const e of entries) this.map.set(widthKey(e.width), { width: e.width, placements: e.placements.map(([p, s]) => [p, s]) });
  }
}
