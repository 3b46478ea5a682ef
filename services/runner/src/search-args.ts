import type { Command } from 'commander';
import { UsageError, cliParser, parseCli } from './cli-parse.ts';

/** Strategies `supernetd search` knows how to run (the built-in ones). */
export const SEARCH_STRATEGIES = ['pss', 'cafenet', 'dna', 'uniform', 'sandwich'] as const;
export type SearchStrategyId = (typeof SEARCH_STRATEGIES)[number];

/** Dataset file formats a path dataset may have. */
export const DATASET_FORMATS = ['idx', 'cifar10', 'npy'] as const;
export type DatasetFormatName = (typeof DATASET_FORMATS)[number];

/** The dataset to train on: the built-in one by name, or files on the server's file system. */
export type DatasetChoice = { kind: 'builtin'; name: string } | { kind: 'path'; path: string; format: DatasetFormatName };

/** Everything one `supernetd search` run needs, defaults filled in. */
export interface SearchOptions {
  strategy: SearchStrategyId;
  dataset: DatasetChoice;
  /** FLOPs targets; undefined: three evenly spaced between the space's min and max cost. */
  budgets?: number[];
  space: string;
  /** Training steps; exactly one of steps/epochs is set after parsing. */
  steps?: number;
  epochs?: number;
  batchSize: number;
  out: string;
  seed: number;
  /** `host:port` of a running server; undefined: start one in-process on a loopback port. */
  server?: string;
  /** Bearer token for a server started with one. */
  token?: string;
  quick: boolean;
  resume: boolean;
  /** Cap on training examples (0 = all). */
  maxTrainExamples: number;
  /** Cap on test examples used by the server and by Evaluate (0 = all). */
  maxTestExamples: number;
  /** Steps between Train progress events. */
  progressInterval: number;
  /** Strategy config (JSON object) passed through to the server. */
  strategyConfig?: Record<string, unknown>;
  /** Search-space overrides (`SearchSpace.overrides`), e.g. `{"inputShape": [32, 32, 3]}`. */
  spaceOverrides?: Record<string, unknown>;
}

/** What the `search` subcommand was asked to do. */
export type SearchCommand =
  | { kind: 'run'; options: SearchOptions }
  | { kind: 'report'; runs: string[]; out: string }
  | { kind: 'help'; text: string };

export { UsageError };

/** Steps `--quick` never exceeds: it checks the pipeline, not accuracy. */
export const QUICK_MAX_STEPS = 300;

/**
 * Strategy configs `--quick` uses unless --strategy-config is given: post-training searches cut
 * down to seconds (CafeNet's evolution, the candidates PSS and DNA rate), so the quick path checks
 * the whole pipeline without waiting on searches sized for real runs.
 */
/** The baselines' evolutionary search cut to a handful of candidates on a few images. */
const QUICK_EVOLUTION = {
  searchPopulation: 4,
  searchGenerations: 1,
  searchTopK: 1,
  searchMutations: 2,
  searchCrossovers: 2,
  recalibrationBatches: 1,
  fitnessImages: 16,
  validationImages: 16,
};

export const QUICK_STRATEGY_CONFIG: Readonly<Record<SearchStrategyId, Record<string, unknown>>> = {
  pss: { validTopK: 1, recalibrationBatches: 1, validationImages: 16, epochValidationBatches: 0, genMapSize: 2000 },
  cafenet: { population: 4, topK: 2, generations: 1, mutations: 2, crossovers: 2, recalibrationBatches: 1, validationBatches: 1, finalValidationImages: 16 },
  dna: { ratingBatches: 1 },
  uniform: QUICK_EVOLUTION,
  sandwich: QUICK_EVOLUTION,
};

/** Default steps of a full run when neither --steps nor --epochs is given. */
export const DEFAULT_STEPS = 1000;

/**
 * The `search` command's parser: flags, `report` and `run` sub-forms, help text. Values stay
 * strings; parseSearchArgs checks and converts them, naming the flag.
 */
function searchParser(): Command {
  const cmd = cliParser('supernetd search')
    .usage('[flags]\n       supernetd search report --runs D1,D2 --out D')
    .description('Trains a supernet, exports one subnet per budget and writes a report; `report` combines several runs (Pareto front across strategies).')
    .option('--strategy <pss|cafenet|dna|uniform|sandwich>', 'search strategy (default pss)')
    .option('--dataset <fashion-mnist|PATH>', 'built-in dataset or a directory on the server (default fashion-mnist)')
    .option('--format <idx|cifar10|npy>', 'format of a PATH dataset')
    .option('--budgets <3e6,6e6,9e6>', 'FLOPs targets (default: three evenly spaced between min and max cost)')
    .option('--space <name>', 'search-space preset (default mbv2-small; dna: dna-small)')
    .option('--steps <n>', `training length in steps (default ${DEFAULT_STEPS})`)
    .option('--epochs <n>', 'training length in passes over the training set (instead of --steps)')
    .option('--batch-size <n>', 'minibatch size (default 64)')
    .option('--out <dir>', 'run directory (default runs/<strategy>-<seed>)')
    .option('--seed <n>', 'seed of every random choice (default 0)')
    .option('--server <host:port>', 'use a running server (default: start one in-process on loopback)')
    .option('--token <token>', 'bearer token for --server')
    .option('--max-train <n>', 'cap on training examples used (0 = all)')
    .option('--max-test <n>', 'cap on test examples used (0 = all)')
    .option('--progress-interval <n>', 'steps between progress events (default 10)')
    .option('--strategy-config <json>', 'strategy configuration object')
    .option('--space-overrides <json>', 'search-space overrides (default for --format cifar10: {"inputShape":[32,32,3]})')
    .option('--quick', `at most ${QUICK_MAX_STEPS} steps on small subsets and cut-down post-training searches: checks the pipeline, not accuracy`)
    .option('--resume', 're-attach to the experiment in --out and continue to the target step');
  return cmd;
}

/** `supernetd search report`'s parser. */
function reportParser(): Command {
  return cliParser('supernetd search report')
    .usage('--runs D1,D2 --out D')
    .description('Builds a combined report (Pareto front across strategies) of several search runs.')
    .option('--runs <dirs>', 'run directories, comma-separated')
    .option('--out <dir>', 'where to write report.md, summary.json and plots/');
}

/** `supernetd search --help`. */
export const SEARCH_USAGE = searchParser().helpInformation();

function positiveInt(flag: string, raw: string | undefined, allowZero = false): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0 || (!allowZero && v === 0)) {
    throw new UsageError(`--${flag} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got '${raw}'`);
  }
  return v;
}

/** Parses `3e6,6e6,9e6` (numbers in any JS notation, also `3M`/`500k`) into ascending unique targets. */
export function parseBudgets(raw: string): number[] {
  const out = raw.split(',').map((part) => {
    const s = part.trim();
    const m = /^([0-9.eE+-]+)\s*([kKmMgG]?)$/.exec(s);
    const scale = m?.[2] ? { k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as 'k' | 'm' | 'g'] : 1;
    const v = m ? Number(m[1]) * scale : NaN;
    if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--budgets: '${s}' is not a positive number`);
    return v;
  });
  if (out.length === 0) throw new UsageError('--budgets needs at least one target');
  return [...new Set(out)].sort((a, b) => a - b);
}

/** The raw values of `search`'s flags (commander's camelCase names). */
interface SearchFlags extends Record<string, string | boolean | undefined> {
  strategy?: string;
  dataset?: string;
  format?: string;
  budgets?: string;
  space?: string;
  steps?: string;
  epochs?: string;
  batchSize?: string;
  out?: string;
  seed?: string;
  server?: string;
  token?: string;
  maxTrain?: string;
  maxTest?: string;
  progressInterval?: string;
  strategyConfig?: string;
  spaceOverrides?: string;
  quick?: boolean;
  resume?: boolean;
}

/** Parses the arguments after `search`. Throws UsageError naming the offending flag. */
export function parseSearchArgs(argv: readonly string[]): SearchCommand {
  const args = [...argv];
  if (args[0] === 'report') return parseReportArgs(args.slice(1));
  if (args[0] === 'run') args.shift();
  const v = parseCli<SearchFlags>(searchParser(), args);
  if (v === 'help') return { kind: 'help', text: SEARCH_USAGE };

  const strategy = (v.strategy ?? 'pss') as SearchStrategyId;
  if (!SEARCH_STRATEGIES.includes(strategy)) {
    throw new UsageError(`--strategy must be one of ${SEARCH_STRATEGIES.join(', ')}, got '${v.strategy}'`);
  }

  let dataset: DatasetChoice;
  const dsRaw = v.dataset ?? 'fashion-mnist';
  if (v.format === undefined) {
    if (dsRaw.includes('/') || dsRaw.startsWith('.')) throw new UsageError(`--dataset '${dsRaw}' looks like a path: give --format idx|cifar10|npy`);
    dataset = { kind: 'builtin', name: dsRaw };
  } else {
    if (!DATASET_FORMATS.includes(v.format as DatasetFormatName)) {
      throw new UsageError(`--format must be one of ${DATASET_FORMATS.join(', ')}, got '${v.format}'`);
    }
    dataset = { kind: 'path', path: dsRaw, format: v.format as DatasetFormatName };
  }

  const quick = v.quick ?? false;
  let steps = positiveInt('steps', v.steps);
  const epochsRaw = v.epochs === undefined ? undefined : Number(v.epochs);
  if (epochsRaw !== undefined && !(Number.isFinite(epochsRaw) && epochsRaw > 0)) throw new UsageError(`--epochs must be a positive number, got '${v.epochs}'`);
  if (steps !== undefined && epochsRaw !== undefined) throw new UsageError('give --steps or --epochs, not both');
  if (steps === undefined && epochsRaw === undefined) steps = quick ? 100 : DEFAULT_STEPS;
  if (quick && steps !== undefined && steps > QUICK_MAX_STEPS) steps = QUICK_MAX_STEPS;

  const strategyConfig = jsonObject('strategy-config', v.strategyConfig);
  let spaceOverrides = jsonObject('space-overrides', v.spaceOverrides);
  // CIFAR-10 images are 32x32x3; the small presets default to 28x28x1 (Fashion-MNIST).
  if (spaceOverrides === undefined && dataset.kind === 'path' && dataset.format === 'cifar10') spaceOverrides = { inputShape: [32, 32, 3] };

  const seed = positiveInt('seed', v.seed, true) ?? 0;
  if (seed > 0xffffffff) throw new UsageError(`--seed must fit in 32 bits, got '${v.seed}'`);
  if (v.server !== undefined && !/^[^\s:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(v.server)) {
    throw new UsageError(`--server must be host:port, got '${v.server}'`);
  }

  const options: SearchOptions = {
    strategy,
    dataset,
    space: v.space ?? (strategy === 'dna' ? 'dna-small' : 'mbv2-small'),
    batchSize: positiveInt('batch-size', v.batchSize) ?? (quick ? 32 : 64),
    out: v.out ?? `runs/${strategy}-${seed}`,
    seed,
    quick,
    resume: v.resume ?? false,
    maxTrainExamples: positiveInt('max-train', v.maxTrain, true) ?? (quick ? 2048 : 0),
    maxTestExamples: positiveInt('max-test', v.maxTest, true) ?? (quick ? 512 : 0),
    progressInterval: positiveInt('progress-interval', v.progressInterval) ?? (quick ? 5 : 10),
  };
  if (v.budgets !== undefined) options.budgets = parseBudgets(v.budgets);
  if (steps !== undefined) options.steps = steps;
  if (epochsRaw !== undefined) options.epochs = epochsRaw;
  if (v.server !== undefined) options.server = v.server;
  if (v.token !== undefined) options.token = v.token;
  if (spaceOverrides !== undefined) options.spaceOverrides = spaceOverrides;
  if (strategyConfig !== undefined) options.strategyConfig = strategyConfig;
  else if (quick && Object.keys(QUICK_STRATEGY_CONFIG[strategy]).length > 0) options.strategyConfig = { ...QUICK_STRATEGY_CONFIG[strategy] };
  return { kind: 'run', options };
}

function jsonObject(flag: string, raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--${flag} is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`--${flag} must be a JSON object`);
  return value as Record<string, unknown>;
}

function parseReportArgs(argv: string[]): SearchCommand {
  const values = parseCli<{ runs?: string; out?: string }>(reportParser(), argv);
  if (values === 'help') return { kind: 'help', text: reportParser().helpInformation() };
  const runs = (values.runs ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (runs.length === 0) throw new UsageError('search report needs --runs DIR1,DIR2,...');
  if (!values.out) throw new UsageError('search report needs --out DIR');
  return { kind: 'report', runs, out: values.out };
}

/** Steps for `epochs` passes over `trainExamples` at `batchSize` (at least 1). */
export function stepsForEpochs(epochs: number, trainExamples: number, batchSize: number): number {
  return Math.max(1, Math.ceil((epochs * trainExamples) / batchSize));
}
