/** A measured subnet: its cost and its accuracy. */
export interface CostAccuracyPoint {
  cost: number;
  accuracy: number;
}

/**
 * The Pareto front of `points` for "lower cost, higher accuracy": every point that no other point
 * beats on both (at most equal on one and strictly better on the other), sorted by cost. Ties keep
 * the first. Non-finite points are ignored.
 */
export function paretoFront<T extends CostAccuracyPoint>(points: readonly T[]): T[] {
  const sorted = points
    .filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.accuracy))
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.cost - b.p.cost || b.p.accuracy - a.p.accuracy || a.i - b.i);
  const front: T[] = [];
  let best = -Infinity;
  for (const { p } of sorted) {
    if (p.accuracy > best) {
      front.push(p);
      best = p.accuracy;
    }
  }
  return front;
}
