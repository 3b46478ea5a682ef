import { ScoreBoard } from '@supernetd/sdk';
import type { Arch, CostKind, Rng, ScoredArch } from '@supernetd/sdk';
import type { ConditionalSampler } from './conditional-sampler.ts';

/** Index drawn from softmax(scores / temperature) (PSS-Net's prioritised pool sampling). */
export function softmaxIndex(scores: readonly number[], temperature: number, rng: Rng): number {
  const top = Math.max(...scores);
  return rng.weightedIndex(scores.map((s) => Math.exp((s - top) / temperature)));
}

/** Where a PSS draw came from. */
export interface PssDraw {
  arch: Arch;
  kind: CostKind;
  target: number;
  source: string;
}

/**
 * One pool of `capacity` subnets per (constraint kind, target), each a ScoreBoard with PSS-Net's
 * EMA update and insert-then-evict-worst rule.
 */
export class PssPools {
  private readonly pools = new Map<CostKind, Map<number, ScoreBoard>>();

  constructor(
    readonly capacity: number,
    readonly lambda: number,
    targets: ReadonlyMap<CostKind, readonly number[]>,
  ) {
    for (const [kind, ts] of targets) {
      this.pools.set(kind, new Map(ts.map((t) => [t, new ScoreBoard(capacity, lambda)])));
    }
  }

  kinds(): CostKind[] {
    return [...this.pools.keys()];
  }

  targets(kind: CostKind): number[] {
    return [...(this.pools.get(kind)?.keys() ?? [])];
  }

  pool(kind: CostKind, target: number): ScoreBoard | undefined {
    return this.pools.get(kind)?.get(target);
  }

  /** Updates the pool of (kind, target) with a score; no-op when there is no such pool. */
  update(kind: CostKind, target: number, arch: Arch, score: number): void {
    this.pool(kind, target)?.update(arch, score);
  }

  /**
   * PSS-Net's step (2): a constraint kind with weight proportional to its number of pools, a target
   * uniformly among `allowed` (default: all of the kind), then the subnet.
   */
  pickTarget(rng: Rng, kinds: readonly CostKind[] = this.kinds(), allowed?: (k: CostKind, t: number) => boolean): { kind: CostKind; target: number } | undefined {
    const options = kinds.map((k) => this.targets(k).filter((t) => !allowed || allowed(k, t)));
    const weights = options.map((o) => o.length);
    if (!weights.some((w) => w > 0)) return undefined;
    const ki = rng.weightedIndex(weights);
    return { kind: kinds[ki] as CostKind, target: rng.choice(options[ki] as number[]) };
  }

  /**
   * The subnet for (kind, target): from the structure space with probability `p` or while the pool
   * is not full, else from the pool with probability softmax(score / temperature).
   */
  draw(kind: CostKind, target: number, p: number, temperature: number, rng: Rng, sampler: ConditionalSampler, tries: number): PssDraw {
    const pool = this.pool(kind, target);
    if (!pool) throw new RangeError(`no pool for ${kind} target ${target}`);
    if (rng.next() < p || pool.size < this.capacity) {
      return { arch: sampler.sampleForTarget(kind, target, rng, tries), kind, target, source: 'space' };
    }
    const entries = pool.list();
    const i = softmaxIndex(entries.map((e) => e.score), temperature, rng);
    return { arch: (entries[i] as ScoredArch).arch, kind, target, source: `pool:${kind}:${target}` };
  }

  toJSON(): Record<string, Record<string, ScoredArch[]>> {
    const out: Record<string, Record<string, ScoredArch[]>> = {};
    for (const [kind, byTarget] of this.pools) {
      out[kind] = {};
      for (const [t, b] of byTarget) out[kind][String(t)] = b.toJSON();
    }
    return out;
  }

  restore(json: Record<string, Record<string, ScoredArch[]>>): void {
    for (const [kind, byTarget] of this.pools) {
      for (const [t, b] of byTarget) b.restore(json[kind]?.[String(t)] ?? []);
    }
  }
}
