import { Rng, costOf } from '@supernetd/sdk';
import type { Arch, CostKind, SearchSpaceView } from '@supernetd/sdk';
import { roundMetric } from './round-metric.ts';
import { drawStructure } from './structure-space.ts';

/** The pool targets of one constraint kind: round_metric grid start+step .. stop-step. */
export interface TargetGrid {
  kind: CostKind;
  start: number;
  stop: number;
  step: number;
  /** start % step: the offset PSS-Net rounds costs to targets with. */
  offset: number;
}

/** Every target of a grid: range(start + step, stop, step). */
export function gridTargets(g: TargetGrid): number[] {
  const out: number[] = [];
  for (let t = g.start + g.step; t < g.stop; t += g.step) out.push(t);
  return out;
}

/** The pool target a cost falls in. */
export function targetOf(g: TargetGrid, cost: number): number {
  return roundMetric(cost, g.step, g.offset);
}

/** An empirical categorical distribution. */
class Histogram {
  readonly values: number[] = [];
  readonly counts: number[] = [];
  add(v: number): void {
    const i = this.values.indexOf(v);
    if (i >= 0) this.counts[i] = (this.counts[i] as number) + 1;
    else {
      this.values.push(v);
      this.counts.push(1);
    }
  }
  draw(rng: Rng): number {
    return this.values[rng.weightedIndex(this.counts)] as number;
  }
}

interface Conditional {
  count: number;
  resolution: Histogram;
  width: Map<string, Histogram>;
  op: Map<string, Histogram>;
  /** The first gen-map subnet with this target: the answer when rejection sampling gives up. */
  exemplar: Arch;
}

/**
 * AttentiveNAS-style conditional structure sampler: from `genMapSize` random
 * structures, per target tau the empirical P(res | tau) and P(width_j | tau), P(op_l | tau) for each
 * position independently; `sampleForTarget` draws from them until the subnet's cost rounds to tau.
 * Targets no gen-map subnet reached have no pool.
 */
export class ConditionalSampler {
  private tables: Map<CostKind, Map<number, Conditional>> | undefined;

  constructor(
    private readonly space: SearchSpaceView,
    readonly grids: readonly TargetGrid[],
    private readonly genMapSize: number,
    private readonly seed: number,
  ) {}

  private build(): Map<CostKind, Map<number, Conditional>> {
    if (this.tables) return this.tables;
    const rng = new Rng(this.seed).fork('pss-gen-map');
    const tables = new Map<CostKind, Map<number, Conditional>>();
    const valid = new Map<CostKind, Set<number>>();
    for (const g of this.grids) {
      tables.set(g.kind, new Map());
      valid.set(g.kind, new Set(gridTargets(g)));
    }
    for (let i = 0; i < this.genMapSize; i++) {
      const arch = drawStructure(this.space, rng);
      const cost = this.space.cost(arch);
      for (const g of this.grids) {
        const tau = targetOf(g, costOf(cost, g.kind));
        if (!valid.get(g.kind)?.has(tau)) continue;
        const byTarget = tables.get(g.kind) as Map<number, Conditional>;
        let c = byTarget.get(tau);
        if (!c) {
          c = { count: 0, resolution: new Histogram(), width: new Map(), op: new Map(), exemplar: arch };
          byTarget.set(tau, c);
        }
        c.count++;
        c.resolution.add(arch.resolution);
        for (const [id, v] of Object.entries(arch.width)) {
          if (!c.width.has(id)) c.width.set(id, new Histogram());
          c.width.get(id)?.add(v);
        }
        for (const [id, v] of Object.entries(arch.op ?? {})) {
          if (!c.op.has(id)) c.op.set(id, new Histogram());
          c.op.get(id)?.add(v);
        }
      }
    }
    this.tables = tables;
    return tables;
  }

  /** Targets of `kind` that have a conditional (and so a pool), ascending. */
  targets(kind: CostKind): number[] {
    return [...(this.build().get(kind)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** Number of gen-map subnets per target of `kind` (the empirical P(tau) up to normalisation). */
  targetCounts(kind: CostKind): Map<number, number> {
    return new Map([...(this.build().get(kind) ?? new Map<number, Conditional>())].map(([t, c]) => [t, c.count]));
  }

  /** A subnet whose cost rounds to `tau`: rejection sampling from the conditionals, at most `tries` draws. */
  sampleForTarget(kind: CostKind, tau: number, rng: Rng, tries: number): Arch {
    const c = this.build().get(kind)?.get(tau);
    const grid = this.grids.find((g) => g.kind === kind);
    if (!c || !grid) throw new RangeError(`no conditional sampler for ${kind} target ${tau}`);
    for (let i = 0; i < tries; i++) {
      const width: Record<string, number> = {};
      for (const [id, h] of c.width) width[id] = h.draw(rng);
      const arch: Arch = { resolution: c.resolution.draw(rng), width };
      if (c.op.size > 0) {
        arch.op = {};
        for (const [id, h] of c.op) arch.op[id] = h.draw(rng);
      }
      if (targetOf(grid, costOf(this.space.cost(arch), kind)) === tau) return arch;
    }
    return c.exemplar;
  }
}
