import { ConfigReader } from '@supernetd/sdk';

/** Config of the `cafenet` strategy; docs/strategies.md lists the keys with their defaults. */
export interface CafeNetConfig {
  /**
   * `free`: a width's free bins are placed anywhere in its local zone (locally free sharing).
   * `leftmost`: every width keeps its leftmost channels (the fixed slimmable pattern), with the same
   * trainer, forwards per step, bins and search, so the two sharing rules compare at equal compute.
   */
  placement: 'free' | 'leftmost';
  /** Nominal bins per layer B of the FLOPs-sensitive bin rule (small scale: 8). */
  binsPerLayer: number;
  /** Offset r of the local zone in bins (paper figure: 1). */
  offset: number;
  /** Placements K tried per step by the inner min (4). */
  placements: number;
  /** Also train the max and min nets each step (sandwich rule). */
  useSandwich: boolean;
  /** With the sandwich rule: sampled and min nets learn from the max net's soft labels (KL). */
  inplaceDistillation: boolean;
  /** Search the resolution too (`all`) or keep the largest (`max`). */
  resolutions: 'all' | 'max';
  /** EMA factor of the best-placement memory. */
  memoryLambda: number;
  /** Widths remembered (oldest forgotten first) and placements kept per width. */
  memoryWidths: number;
  memoryPlacements: number;
  /**
   * Evolutionary search. The defaults keep a constrained search on mbv2-small to a minute or two:
   * 16 + 8 x (8 + 8) candidate widths at most.
   */
  population: number;
  topK: number;
  generations: number;
  mutations: number;
  crossovers: number;
  mutationProb: number;
  /** Fresh placements scored per candidate width besides the remembered best (M). */
  placementSamples: number;
  /** Cumulative BN recalibration batches before each candidate's validation (9, as PSS). */
  recalibrationBatches: number;
  /** Held-out batches of the evolution's fitness (per measured subnet). */
  validationBatches: number;
  /**
   * Held-out images on which the best `topK` widths of the evolution are validated again (after BN
   * recalibration) to make the final choice; 0 keeps the evolution's best.
   */
  finalValidationImages: number;
  labelSmoothing: number;
  sampleTries: number;
}

/** Parses the `cafenet` config; InvalidConfigError names the bad key. */
export function parseCafeNetConfig(raw: unknown): CafeNetConfig {
  const r = new ConfigReader('cafenet', raw);
  const int = (key: string, def: number, min: number, max?: number) =>
    r.number(key, def, { min, integer: true, ...(max !== undefined ? { max } : {}) });
  const cfg: CafeNetConfig = {
    placement: r.oneOf('placement', 'free', ['free', 'leftmost'] as const),
    binsPerLayer: int('binsPerLayer', 8, 1, 1024),
    offset: int('offset', 1, 1, 64),
    placements: int('placements', 4, 1, 64),
    useSandwich: r.boolean('useSandwich', true),
    inplaceDistillation: r.boolean('inplaceDistillation', true),
    resolutions: r.oneOf('resolutions', 'all', ['all', 'max'] as const),
    memoryLambda: r.number('memoryLambda', 0.9, { min: 0, max: 1 }),
    memoryWidths: int('memoryWidths', 512, 1),
    memoryPlacements: int('memoryPlacements', 4, 1),
    population: int('population', 16, 1),
    topK: int('topK', 4, 1),
    generations: int('generations', 8, 0),
    mutations: int('mutations', 8, 0),
    crossovers: int('crossovers', 8, 0),
    mutationProb: r.number('mutationProb', 0.1, { min: 0, max: 1 }),
    placementSamples: int('placementSamples', 1, 0),
    recalibrationBatches: int('recalibrationBatches', 9, 0),
    validationBatches: int('validationBatches', 4, 1),
    finalValidationImages: int('finalValidationImages', 2048, 0),
    labelSmoothing: r.number('labelSmoothing', 0, { min: 0, max: 1 }),
    sampleTries: int('sampleTries', 100, 1),
  };
  if (cfg.topK > cfg.population) r.fail('topK', `must not exceed population (${cfg.population})`);
  r.done();
  return cfg;
}
