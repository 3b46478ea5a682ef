import type { Arch, Constraint } from './arch.ts';
import type { JsonSchema } from './config-reader.ts';
import type { Batch, SupernetEngine } from './engine.ts';
import type { Rng } from './rng.ts';
import type { SearchSpaceView } from './space.ts';

/** Where training stands; strategies derive their schedules (PSS p and T, DNA phases) from it. */
export interface StepContext {
  /** Steps taken before this one (0-based index of this step). */
  step: number;
  /** Planned steps of the whole run. */
  totalSteps: number;
  /** Steps per pass over the training set. */
  stepsPerEpoch: number;
}

/** What one training step did. */
export interface StepLog {
  /** Losses by name, e.g. `max`, `sampled`, `min`, `total`. */
  losses: Record<string, number>;
  /** Subnets that ran with gradients. */
  archs: Arch[];
}

export type SamplePurpose = 'train' | 'eval' | 'deploy';

/** A subnet proposed by a strategy. */
export interface Proposal {
  arch: Arch;
  /** Where it came from, e.g. `space`, `pool:flops:8000000`, `search`. */
  source: string;
  /** The strategy's score (higher is better), when it has one. */
  score?: number;
}

/** A metric reported for a subnet: by the client (ReportMetric) or measured by the server. */
export interface MetricReport {
  arch: Arch;
  values: Record<string, number>;
}

/** Everything a strategy instance is built from. */
export interface StrategyInit<C> {
  space: SearchSpaceView;
  config: C;
  seed: number;
  totalSteps: number;
}

/**
 * A search strategy. One instance lives in the engine worker (training, search); a second,
 * restored from the worker's latest `state()`, serves `sample` on the RPC thread, so `sample`
 * and `onMetric` must be plain JavaScript (no tensors) and `state()` must be JSON.
 */
export interface SearchStrategy {
  readonly id: string;
  /** Decides which subnets run on this batch and with which losses, and calls `engine.step`. */
  trainStep(engine: SupernetEngine, batch: Batch, ctx: StepContext): StepLog | Promise<StepLog>;
  /**
   * Proposes a subnet that fits `constraint` (any subnet when undefined). `rng` is the caller's
   * stream; strategies must draw randomness from it here, not from their training stream.
   * Throws FailedPreconditionError(CONSTRAINT_UNSATISFIABLE) when nothing fits.
   */
  sample(constraint: Constraint | undefined, purpose: SamplePurpose, rng: Rng): Proposal;
  /** Takes a metric into account (PSS pool priority, CafeNet placement memory, DNA ratings). */
  onMetric?(report: MetricReport): void;
  /**
   * The strategy's own score of any subnet of the space (higher is better), or undefined when it
   * has none for it (yet). Plain JavaScript, like `sample`: the RPC-thread replica answers it from
   * the worker's latest state, and the server returns it as Subnet.score when a call names a
   * subnet by architecture or id (Evaluate, ExportSubnet) and for sampled subnets that came
   * without a score. DNA: minus the summed rated loss of the arch's candidate in each block.
   */
  score?(arch: Arch): number | undefined;
  /** Current phase name (DNA: `teacher`, `block-0`, ...). Default `train`. */
  phase?(ctx: StepContext): string;
  /**
   * Post-training search for the best subnet under `constraint`, using the engine to measure
   * candidates (PSS top-k validation, CafeNet evolution, DNA branch and bound). The result should
   * be remembered in `state()` so that `sample(c, 'deploy')` returns it afterwards.
   */
  search?(engine: SupernetEngine, constraint: Constraint, control?: SearchControl): Proposal | Promise<Proposal>;
  /** JSON-serialisable state, including RNG streams; goes into every checkpoint. */
  state(): unknown;
  /** Restores `state()`; the next decisions must equal those of the run that saved it. */
  load(state: unknown): void;
}

/**
 * Handed to `SearchStrategy.search` by the host. A search calls `await control.yield()` between
 * candidates: it lets the host's messages through and throws CancelledError once the caller has
 * cancelled or its deadline has passed, so the work stops there. `progress` reports how far the
 * search is (the host logs it and may stream it).
 */
export interface SearchControl {
  /** Yields to the host; throws CancelledError when the call was cancelled. */
  yield(): Promise<void>;
  /** Candidates measured so far out of the planned number, with a short note (e.g. `generation 3`). */
  progress(done: number, total: number, note?: string): void;
}

/** A SearchControl that never cancels and reports nothing (direct use, tests). */
export const unboundedSearch: SearchControl = {
  yield: () => Promise.resolve(),
  progress: () => undefined,
};

/** What a strategy package registers: an id, a config parser and a constructor. */
export interface StrategyFactory<C = unknown> {
  readonly id: string;
  readonly description: string;
  /** Validates and fills defaults; throws InvalidConfigError naming the bad key. */
  parseConfig(raw: unknown): C;
  /**
   * Optional JSON Schema (draft 2020-12, or draft-07 when its `$schema` says so) of the raw config.
   * The server validates every CreateExperiment's config against it before `parseConfig` and
   * publishes it through ListStrategies, so clients can validate before calling. `parseConfig`
   * still fills defaults and checks rules between keys. `ConfigReader.schemaOf(parseConfig)`
   * derives it from a ConfigReader-based parser; without it only `parseConfig` checks the config.
   */
  readonly configSchema?: JsonSchema;
  /**
   * Optional: where a parsed config asks for latency costs, as the path of the key that does
   * (`costKinds[1]`, `targets.latency`), or undefined when it asks for none. Latency costs need the
   * space's latency table: the server refuses such a config for a space without one
   * (FailedPreconditionError UNSUPPORTED, naming the path) rather than serve all-zero latencies.
   * Absent: no config of the strategy asks for latency costs.
   */
  latencyConfigKey?(config: C): string | undefined;
  create(init: StrategyInit<C>): SearchStrategy;
}

/**
 * A third-party strategy module's shape: `export const strategies: StrategyFactory[]`
 * (or a single `export const strategy`).
 */
export interface StrategyModule {
  strategies?: StrategyFactory[];
  strategy?: StrategyFactory;
}
