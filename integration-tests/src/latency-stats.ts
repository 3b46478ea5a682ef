/** Latency percentiles in milliseconds over a set of measured calls. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `samplesMs` (which it sorts). Throws on an empty list. */
export function summarizeLatency(samplesMs: number[]): LatencySummary {
  if (samplesMs.length === 0) throw new Error('no latency samples');
  samplesMs.sort((a, b) => a - b);
  const at = (q: number) => samplesMs[Math.min(samplesMs.length - 1, Math.ceil(q * samplesMs.length) - 1)]!;
  return { count: samplesMs.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: samplesMs[samplesMs.length - 1]! };
}

/** `p50 1.2 ms, p90 ..., p99 ..., max ... (n calls)` */
export function formatLatency(s: LatencySummary): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return `p50 ${ms(s.p50)}, p90 ${ms(s.p90)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (${s.count} calls)`;
}
