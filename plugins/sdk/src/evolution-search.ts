import { archKey, costOf, fits } from './arch.ts';
import type { Arch, Constraint } from './arch.ts';
import type { ConfigReader } from './config-reader.ts';
import { heldOutBatches } from './engine.ts';
import type { Batch, SupernetEngine } from './engine.ts';
import type { Rng } from './rng.ts';
import { opCount, randomArch, sampleFitting, shrinkToFit, unsatisfiable } from './sampling.ts';
import type { SearchSpaceView } from './space.ts';
import { unboundedSearch } from './strategy.ts';
import type { SearchControl } from './strategy.ts';

/**
 * Settings of the SPOS-style evolutionary search under a budget. The defaults keep one search on
 * mbv2-small to about a minute on two CPU cores (at most population * generations = 96 candidates
 * on 512 images each, then 4 finalists on 2,048 images).
 */
export interface EvolutionSearchConfig {
  /** Candidates measured per generation, the first generation drawn at random (default 16). */
  searchPopulation: number;
  /** Generations measured, the random first one included (default 6). */
  searchGenerations: number;
  /** Best candidates kept as parents, and finalists re-validated at the end (default 4). */
  searchTopK: number;
  /** Mutated children per generation (default 8). */
  searchMutations: number;
  /** Crossover children per generation (default 8). */
  searchCrossovers: number;
  /** Probability that a mutation redraws each choice (resolution, each width, each op; default 0.1). */
  mutationProb: number;
  /**
   * Candidates costing less than this fraction of the budget are redrawn while attempts last, so the
   * search compares subnets that use the budget (default 0.9; 0 accepts any fitting subnet).
   */
  minBudgetFraction: number;
  /** Training batches, drawn once per search, for each candidate's cumulative BN recalibration (default 9). */
  recalibrationBatches: number;
  /** Held-out images each candidate's fitness (top-1) is measured on (default 512). */
  fitnessImages: number;
  /** Held-out images the finalists are re-validated on to choose the answer (default 2048). */
  validationImages: number;
}

/** Reads the evolution settings with their defaults; InvalidConfigError names the bad key. */
export function readEvolutionSearchConfig(r: ConfigReader): EvolutionSearchConfig {
  return {
    searchPopulation: r.number('searchPopulation', 16, { min: 1, max: 10_000, integer: true }),
    searchGenerations: r.number('searchGenerations', 6, { min: 1, max: 1_000, integer: true }),
    searchTopK: r.number('searchTopK', 4, { min: 1, max: 1_000, integer: true }),
    searchMutations: r.number('searchMutations', 8, { min: 0, max: 10_000, integer: true }),
    searchCrossovers: r.number('searchCrossovers', 8, { min: 0, max: 10_000, integer: true }),
    mutationProb: r.number('mutationProb', 0.1, { min: 0, max: 1 }),
    minBudgetFraction: r.number('minBudgetFraction', 0.9, { min: 0, max: 1 }),
    recalibrationBatches: r.number('recalibrationBatches', 9, { min: 0, max: 1_000, integer: true }),
    fitnessImages: r.number('fitnessImages', 512, { min: 1, max: 1_000_000, integer: true }),
    validationImages: r.number('validationImages', 2048, { min: 1, max: 1_000_000, integer: true }),
  };
}

/** One measured candidate. */
export interface EvolutionCandidate {
  arch: Arch;
  /** Top-1 on the fitness images. */
  accuracy: number;
  /** Mean cross-entropy on the fitness images (breaks accuracy ties). */
  loss: number;
}

/** What `evolutionSearch` found. */
export interface EvolutionResult {
  arch: Arch;
  /** Top-1 of the chosen subnet on the validation images. */
  accuracy: number;
  /** Candidates measured on the fitness images. */
  evaluated: number;
  /** The finalists with their validation accuracy, best first. */
  finalists: EvolutionCandidate[];
}

/** A copy of `a` in which each choice is redrawn uniformly with probability `p` (SPOS mutation). */
export function mutateArch(space: SearchSpaceView, a: Arch, p: number, rng: Rng): Arch {
  const width: Record<string, number> = { ...a.width };
  for (const w of space.widthChoices) if (rng.next() < p) width[w.id] = rng.choice(w.candidates);
  const child: Arch = { resolution: rng.next() < p ? rng.choice(space.resolutions) : a.resolution, width };
  if (space.opLayerIds.length > 0) {
    const op: Record<string, number> = {};
    for (const id of space.opLayerIds) op[id] = rng.next() < p ? rng.int(opCount(space, id)) : (a.op?.[id] ?? 0);
    child.op = op;
  }
  return child;
}

/** Each choice taken from `a` or `b` with equal probability (SPOS crossover). */
export function crossoverArch(space: SearchSpaceView, a: Arch, b: Arch, rng: Rng): Arch {
  const pick = <T>(x: T, y: T): T => (rng.next() < 0.5 ? x : y);
  const width: Record<string, number> = {};
  for (const w of space.widthChoices) width[w.id] = pick(a.width[w.id], b.width[w.id]) as number;
  const child: Arch = { resolution: pick(a.resolution, b.resolution), width };
  if (space.opLayerIds.length > 0) {
    const op: Record<string, number> = {};
    for (const id of space.opLayerIds) op[id] = pick(a.op?.[id] ?? 0, b.op?.[id] ?? 0);
    child.op = op;
  }
  return child;
}

function disposeAll(batches: readonly Batch[]): void {
  for (const b of batches) {
    b.x.dispose();
    b.y.dispose();
  }
}

const better = (a: EvolutionCandidate, b: EvolutionCandidate): number => b.accuracy - a.accuracy || a.loss - b.loss;

/**
 * Single Path One-Shot's evolutionary search for the most accurate subnet under `constraint`, with
 * the supernet's inherited weights. The first generation is drawn at random among subnets that fit
 * (preferring ones that cost at least `minBudgetFraction` of the budget: over-budget draws are walked
 * down to just under it); each later one holds `searchMutations` mutated and `searchCrossovers`
 * crossed children of the `searchTopK` best so far, topped up with random draws. Children that do
 * not fit, fall short of the budget fraction or were measured before are redrawn. A candidate's
 * fitness is its top-1 on `fitnessImages` held-out images after cumulative BN recalibration on one
 * fixed set of `recalibrationBatches` training batches (drawn once, so the whole search sees the same
 * ones); the `searchTopK` best are then re-validated on `validationImages` held-out images and the
 * most accurate is returned. Between candidates it awaits `control.yield()` (a CancelledError from
 * it propagates) and reports `control.progress`. All batches are disposed, also on cancellation.
 * Throws FailedPreconditionError(CONSTRAINT_UNSATISFIABLE) when nothing fits.
 */
export async function evolutionSearch(
  engine: SupernetEngine,
  space: SearchSpaceView,
  constraint: Constraint,
  rng: Rng,
  cfg: EvolutionSearchConfig,
  control: SearchControl = unboundedSearch,
): Promise<EvolutionResult> {
  if (!fits(space.cost(space.minArch()), constraint)) throw unsatisfiable(space, constraint);
  const floor = cfg.minBudgetFraction * constraint.target;
  const fitsC = (a: Arch) => fits(space.cost(a), constraint);
  const costC = (a: Arch) => costOf(space.cost(a), constraint.kind);
  const nearBudget = (a: Arch) => costC(a) >= floor;
  const seen = new Set<string>();
  const fresh = (a: Arch) => fitsC(a) && !seen.has(archKey(a));
  const attempts = 50;

  /** A random fitting subnet, near the budget when attempts allow; undefined when only repeats come up. */
  const drawRandom = (): Arch | undefined => {
    let fallback: Arch | undefined;
    for (let i = 0; i < attempts; i++) {
      const raw = randomArch(space, rng);
      const a = fitsC(raw) ? raw : shrinkToFit(space, raw, constraint, rng);
      if (!a || seen.has(archKey(a))) continue;
      if (nearBudget(a)) return a;
      fallback ??= a;
    }
    if (fallback) return fallback;
    const a = sampleFitting(space, constraint, rng, () => randomArch(space, rng), attempts);
    return seen.has(archKey(a)) ? undefined : a;
  };
  /**
   * Up to `n` distinct children from `make`; misfits, repeats and ones cheaper than both the budget
   * fraction and the cheapest parent are redrawn.
   */
  const children = (n: number, make: () => Arch, taken: Set<string>, least: number): Arch[] => {
    const out: Arch[] = [];
    for (let i = 0; out.length < n && i < n * attempts; i++) {
      const c = make();
      const key = archKey(c);
      if (!fresh(c) || taken.has(key) || costC(c) < Math.min(floor, least)) continue;
      taken.add(key);
      out.push(c);
    }
    return out;
  };

  const total = cfg.searchPopulation * cfg.searchGenerations + cfg.searchTopK;
  let done = 0;
  const measured: EvolutionCandidate[] = [];
  let recal: Batch[] = [];
  let val: Batch[] = [];
  try {
    await control.yield();
    recal = engine.trainBatches(cfg.recalibrationBatches);
    val = heldOutBatches(engine, Math.max(cfg.fitnessImages, cfg.validationImages));
    // Both sets are prefixes of the same fixed held-out stream.
    const prefix = (images: number) => val.slice(0, Math.max(1, Math.ceil(images / Math.max(1, engine.batchSize))));
    const fitnessBatches = prefix(cfg.fitnessImages);
    const validationBatches = prefix(cfg.validationImages);
    const measure = (arch: Arch, batches: readonly Batch[]) => {
      if (recal.length > 0) engine.recalibrateBN(engine.supernet, arch, recal, 'cumulative');
      const r = engine.evaluate(engine.supernet, arch, batches);
      return { arch, accuracy: r.accuracy, loss: r.loss };
    };

    for (let gen = 0; gen < cfg.searchGenerations; gen++) {
      let batch: Arch[] = [];
      const taken = new Set<string>();
      if (gen > 0 && measured.length > 0) {
        const parents = [...measured].sort(better).slice(0, cfg.searchTopK).map((c) => c.arch);
        const least = Math.min(...parents.map(costC));
        batch.push(...children(cfg.searchMutations, () => mutateArch(space, rng.choice(parents), cfg.mutationProb, rng), taken, least));
        batch.push(...children(cfg.searchCrossovers, () => crossoverArch(space, rng.choice(parents), rng.choice(parents), rng), taken, least));
        batch = batch.slice(0, cfg.searchPopulation);
      }
      for (let i = 0; batch.length < cfg.searchPopulation && i < cfg.searchPopulation * 2; i++) {
        const a = drawRandom();
        if (a && !taken.has(archKey(a))) {
          taken.add(archKey(a));
          batch.push(a);
        }
      }
      for (const arch of batch) {
        await control.yield();
        seen.add(archKey(arch));
        measured.push(measure(arch, fitnessBatches));
        control.progress(++done, total, `generation ${gen + 1}/${cfg.searchGenerations}`);
      }
    }
    if (measured.length === 0) {
      // Nothing new could be drawn (a tiny space under a tight budget): measure one fitting subnet.
      measured.push(measure(sampleFitting(space, constraint, rng, () => randomArch(space, rng)), fitnessBatches));
    }
    const finalists: EvolutionCandidate[] = [];
    const top = [...measured].sort(better).slice(0, cfg.searchTopK);
    for (const c of top) {
      await control.yield();
      finalists.push(measure(c.arch, validationBatches));
      control.progress(++done, total, 'validating finalists');
    }
    finalists.sort(better);
    const best = finalists[0] as EvolutionCandidate;
    return { arch: best.arch, accuracy: best.accuracy, evaluated: measured.length, finalists };
  } finally {
    disposeAll([...recal, ...val]);
  }
}
