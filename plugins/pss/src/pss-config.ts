import { ConfigReader } from '@supernetd/sdk';
import type { CostKind, NumberBounds } from '@supernetd/sdk';

/** An explicit pool-target grid: targets start+step, ..., below stop. */
export interface TargetRange {
  start: number;
  stop: number;
  step: number;
}

/** Config of the `pss` strategy; defaults are scaled down from the paper's for small images on a CPU. */
export interface PssConfig {
  /** Constraint kinds with pools; more than one is PSS-Net's multi-constraint ("-M") mode. */
  costKinds: CostKind[];
  /** Default grid step as a fraction of the [min, max] cost range of each kind (0.05: about 20 pools). */
  targetFraction: number;
  /** Explicit grids per kind, overriding `targetFraction`. */
  targets: Partial<Record<CostKind, TargetRange>>;
  /** Subnets per pool (PSS-Net 50; small default 20). */
  poolSize: number;
  /** EMA factor of a pool score on re-measurement (0.9). */
  metricLambda: number;
  /** Random structures behind the conditional sampler (PSS-Net 1e5; small default 20,000). */
  genMapSize: number;
  /** Rejection-sampling draws before the sampler falls back to a stored subnet of the target. */
  rejectionTries: number;
  /** Probability of sampling from the structure space, decayed from [0] to [1] over the run. */
  pRange: [number, number];
  /** Pool softmax temperature, decayed from [0] to [1] over the run. */
  temperatureRange: [number, number];
  /**
   * What the schedules decay over: 'step' (default) follows the fraction of the run's planned steps
   * done, so p and T fall at any run length; 'epoch' changes them once per epoch as PSS-Net does,
   * which keeps p = T = 1 throughout a run of one epoch or less (no pool ever supplies a subnet).
   */
  scheduleUnit: 'epoch' | 'step';
  /** Top subnets of the chosen pool validated by `search` (5). */
  validTopK: number;
  /** Training batches for cumulative BN recalibration before each validation (9). */
  recalibrationBatches: number;
  /** Held-out images each candidate is measured on in `search` (default 2048; rounded up to whole batches). */
  validationImages: number;
  /**
   * Deprecated: held-out batches per candidate in `search`, accepted so that older configs still
   * load; when set it is used instead of `validationImages`. Prefer `validationImages`.
   */
  validationBatches?: number;
  /** Validation batches for the per-epoch max/min check after the epoch's last step; 0 turns it off. */
  epochValidationBatches: number;
  /** Label smoothing of the max net's cross-entropy (PSS-Net: 0). */
  labelSmoothing: number;
  /** Draws before a constrained eval/train sample walks a draw down to fit. */
  sampleTries: number;
}

const KINDS: readonly CostKind[] = ['flops', 'params', 'latency'];

function pair(r: ConfigReader, key: string, def: [number, number], bounds: NumberBounds): [number, number] {
  const v = r.numberList(key, def, bounds, { min: 2, max: 2 }) as number[];
  return [v[0] as number, v[1] as number];
}

/** Parses the `pss` config; InvalidConfigError names the bad key. */
export function parsePssConfig(raw: unknown): PssConfig {
  const r = new ConfigReader('pss', raw);
  const costKinds = r.stringList('costKinds', ['flops'], KINDS) as CostKind[];
  const targets = r.object('targets', (t) => {
    const out: Partial<Record<CostKind, TargetRange>> = {};
    for (const kind of KINDS) {
      const range = t.object(kind, (g) => ({
        start: g.optionalNumber('start', { min: 0, integer: true }),
        stop: g.optionalNumber('stop', { min: 0, integer: true }),
        step: g.optionalNumber('step', { min: 1, integer: true }),
      }));
      const { start, stop, step } = range;
      if (start === undefined && stop === undefined && step === undefined) continue;
      if (start === undefined || stop === undefined || step === undefined) return t.fail(kind, 'needs start, stop and step');
      if (!(stop > start + 2 * step - 1e-9)) t.fail(kind, 'stop must exceed start + 2 * step (at least one target)');
      out[kind] = { start, stop, step };
    }
    return out;
  });
  const cfg: PssConfig = {
    costKinds,
    targetFraction: r.number('targetFraction', 0.05, { above: 0, max: 0.5 }),
    targets,
    poolSize: r.number('poolSize', 20, { min: 1, integer: true }),
    metricLambda: r.number('metricLambda', 0.9, { min: 0, max: 1 }),
    genMapSize: r.number('genMapSize', 20000, { min: 1, max: 10_000_000, integer: true }),
    rejectionTries: r.number('rejectionTries', 1000, { min: 1, integer: true }),
    // probabilities: (0, 1]
    pRange: pair(r, 'pRange', [1, 0.01], { above: 0, max: 1 }),
    temperatureRange: pair(r, 'temperatureRange', [1, 0.01], { above: 0 }),
    scheduleUnit: r.oneOf('scheduleUnit', 'step', ['epoch', 'step'] as const),
    validTopK: r.number('validTopK', 5, { min: 1, integer: true }),
    recalibrationBatches: r.number('recalibrationBatches', 9, { min: 0, integer: true }),
    validationImages: r.number('validationImages', 2048, { min: 1, max: 1_000_000, integer: true }),
    epochValidationBatches: r.number('epochValidationBatches', 4, { min: 0, integer: true }),
    labelSmoothing: r.number('labelSmoothing', 0, { min: 0, max: 1 }),
    sampleTries: r.number('sampleTries', 100, { min: 1, integer: true }),
  };
  const legacyBatches = r.optionalNumber('validationBatches', { min: 1, integer: true });
  if (legacyBatches !== undefined) cfg.validationBatches = legacyBatches;
  r.done();
  return cfg;
}
