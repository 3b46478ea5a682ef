import { archKey } from './arch.ts';
import type { Arch } from './arch.ts';

/**
 * A reported metric as a score, higher is better: `accuracy` when present, else `-loss`;
 * undefined when neither is a finite number.
 */
export function metricScore(values: Record<string, number>): number | undefined {
  const acc = values['accuracy'];
  if (typeof acc === 'number' && Number.isFinite(acc)) return acc;
  const loss = values['loss'];
  if (typeof loss === 'number' && Number.isFinite(loss)) return -loss;
  return undefined;
}

/** One scored subnet of a ScoreBoard. */
export interface ScoredArch {
  arch: Arch;
  score: number;
}

/**
 * Subnets with scores, at most `capacity` of them (PSS-Net's pool update): a new
 * subnet is inserted with its score, a known one gets `lambda * old + (1 - lambda) * score`, and
 * when the board is over capacity the lowest score is evicted, possibly the newcomer itself.
 */
export class ScoreBoard {
  private readonly entries = new Map<string, ScoredArch>();

  constructor(
    readonly capacity: number,
    readonly lambda: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Adds or updates `arch`; returns the key evicted, if any. */
  update(arch: Arch, score: number): string | undefined {
    const key = archKey(arch);
    const known = this.entries.get(key);
    if (known) known.score = this.lambda * known.score + (1 - this.lambda) * score;
    else this.entries.set(key, { arch, score });
    if (this.entries.size <= this.capacity) return undefined;
    let worst: string | undefined;
    let worstScore = Infinity;
    for (const [k, e] of this.entries) {
      if (e.score < worstScore) {
        worstScore = e.score;
        worst = k;
      }
    }
    if (worst !== undefined) this.entries.delete(worst);
    return worst;
  }

  has(arch: Arch): boolean {
    return this.entries.has(archKey(arch));
  }

  get(arch: Arch): number | undefined {
    return this.entries.get(archKey(arch))?.score;
  }

  /** Entries in insertion order (stable, so draws by index are reproducible). */
  list(): ScoredArch[] {
    return [...this.entries.values()];
  }

  /** Entries by descending score, ties by key. */
  ranked(): ScoredArch[] {
    return [...this.entries.entries()]
      .sort(([ka, a], [kb, b]) => b.score - a.score || (ka < kb ? -1 : ka > kb ? 1 : 0))
      .map(([, e]) => e);
  }

  /** The best-scored entry that passes `filter`. */
  best(filter: (arch: Arch) => boolean = () => true): ScoredArch | undefined {
    return this.ranked().find((e) => filter(e.arch));
  }

  toJSON(): ScoredArch[] {
    return this.list().map((e) => ({ arch: e.arch, score: e.score }));
  }

  /** Replaces the content with `toJSON()` output. */
  restore(entries: readonly ScoredArch[]): void {
    this.entries.clear();
    for (const e of entries) this.entries.set(archKey(e.arch), { arch: e.arch, score: e.score });
  }
}
