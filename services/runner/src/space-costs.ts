/** `value` rounded to `digits` significant digits. */
export function roundSignificant(value: number, digits = 3): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/**
 * `n` FLOPs targets evenly spaced strictly inside [min, max] (min + (max - min) * k / (n + 1)),
 * rounded to 3 significant digits. The end points are left out: at the min the only fitting
 * subnet is the min net, and the max needs no search.
 */
export function defaultBudgets(minFlops: number, maxFlops: number, n = 3): number[] {
  if (!(maxFlops > minFlops)) return [roundSignificant(maxFlops)];
  return Array.from({ length: n }, (_, i) => roundSignificant(minFlops + ((maxFlops - minFlops) * (i + 1)) / (n + 1)));
}
