/** Python's round(): to the nearest integer, exact halves to the even neighbour (banker's rounding). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * PSS-Net's pool target of a cost: `int(round((m - o) / s) * s + o)` with
 * Python's half-to-even round and int()'s truncation toward zero.
 */
export function roundMetric(metric: number, step: number, offset: number): number {
  return Math.trunc(roundHalfEven((metric - offset) / step) * step + offset);
}
