/** Mean and sample standard deviation (n - 1); std is 0 for fewer than two values. */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: 0, n };
  const v = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(v), n };
}

/**
 * Kendall's tau-b between two paired samples: (concordant - discordant) pairs over the geometric
 * mean of the pairs not tied in each sample. NaN when either sample is constant.
 */
export function kendallTau(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`kendallTau: ${x.length} vs ${y.length} values`);
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dx = Math.sign((x[i] as number) - (x[j] as number));
      const dy = Math.sign((y[i] as number) - (y[j] as number));
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom > 0 ? (concordant - discordant) / denom : NaN;
}

/** Ranks 1..n, ties sharing their mean rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(values.length);
  for (let k = 0; k < order.length; ) {
    let end = k;
    while (end + 1 < order.length && (order[end + 1] as { v: number }).v === (order[k] as { v: number }).v) end++;
    const rank = (k + end) / 2 + 1;
    for (let m = k; m <= end; m++) out[(order[m] as { i: number }).i] = rank;
    k = end + 1;
  }
  return out;
}

/** Spearman's rho: Pearson correlation of the ranks (ties get mean ranks). NaN for a constant sample. */
export function spearmanRho(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`spearmanRho: ${x.length} vs ${y.length} values`);
  const rx = ranks(x);
  const ry = ranks(y);
  const mx = meanStd(rx).mean;
  const my = meanStd(ry).mean;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    const a = (rx[i] as number) - mx;
    const b = (ry[i] as number) - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}
