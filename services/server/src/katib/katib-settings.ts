import { fromJson } from '@bufbuild/protobuf';
import type { JsonValue } from '@bufbuild/protobuf';
import { ExperimentSpecSchema } from '@supernetd/api';
import { ObjectiveType } from '@supernetd/api/katib';
import type { Experiment as KatibExperiment } from '@supernetd/api/katib';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Constraint } from '@supernetd/sdk';
import type { ExperimentSpec } from '../domain/experiment-spec.ts';
import { DEFAULT_DATASET } from '../experiments/dataset-root.ts';
import { specFromProto } from '../grpc/converters.ts';
import { validateMessage } from '../grpc/request-validation.ts';

/** The algorithm settings a Katib Experiment may give, in Katib's snake_case style. */
export const KATIB_SETTING_NAMES = [
  'preset',
  'strategy',
  'strategy_config',
  'dataset',
  'training',
  'budgets',
  'constraint_kind',
  'experiment_id',
  'train_steps_per_call',
] as const;

/** The parameters of every assignment (what a trial template may reference). */
export const KATIB_ASSIGNMENT_NAMES = ['experiment_id', 'subnet_id', 'architecture', 'budget', 'flops', 'params', 'latency_ms'] as const;

/** Defaults of the settings a Katib Experiment leaves out (those of `supernetd search`). */
export const KATIB_DEFAULTS = {
  preset: 'mbv2-small',
  /** DNA's blocks need its own preset. */
  dnaPreset: 'dna-small',
  strategy: 'pss',
  dataset: DEFAULT_DATASET,
  trainStepsPerCall: 50,
} as const;

/** Largest `train_steps_per_call`. */
export const MAX_TRAIN_STEPS_PER_CALL = 100_000;

/** The objective a Katib Experiment optimises: the metric's name and whether higher is better. */
export interface KatibObjective {
  metric: string;
  maximize: boolean;
}

/** Parsed algorithm settings plus the Experiment's objective. */
export interface KatibSettings {
  /** `experiment_id`: an existing supernetd experiment to attach to; undefined creates one. */
  attachTo: string | undefined;
  /** The spec of the experiment to create (checked by the converter; strategy and space by the caller). */
  spec: ExperimentSpec;
  /** `budgets` targets with `constraint_kind`, round-robin over assignments; empty = unconstrained. */
  budgets: Constraint[];
  /** Training steps started in the background after each GetSuggestions call. */
  trainStepsPerCall: number;
  objective: KatibObjective;
}

function bad(setting: string, message: string): never {
  throw new InvalidArgumentError(`algorithm setting '${setting}': ${message}`);
}

function jsonObject(setting: string, text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    bad(setting, `not valid JSON (${(err as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(setting, 'must be a JSON object');
  return v as Record<string, unknown>;
}

/**
 * Reads a Katib Experiment's algorithm settings and objective. Every failure is
 * InvalidArgumentError whose message names the setting (or `objective`, or the parameter): an
 * unknown or repeated setting, bad JSON, a non-positive budget, an unknown constraint kind, a
 * training config the API would refuse, a parameter no assignment fills. The strategy id, its
 * config and the preset are checked by the caller against the registry and the engine.
 */
export function parseKatibSettings(experiment: KatibExperiment | undefined): KatibSettings {
  if (!experiment?.spec) throw new InvalidArgumentError('experiment.spec is required');
  const spec = experiment.spec;
  const given = new Map<string, string>();
  for (const s of spec.algorithm?.algorithmSettings ?? []) {
    if (!(KATIB_SETTING_NAMES as readonly string[]).includes(s.name)) {
      throw new InvalidArgumentError(`unknown algorithm setting '${s.name}'; supernetd reads ${KATIB_SETTING_NAMES.join(', ')}`);
    }
    if (given.has(s.name)) bad(s.name, 'given twice');
    given.set(s.name, s.value.trim());
  }
  const setting = (name: (typeof KATIB_SETTING_NAMES)[number]): string | undefined => {
    const v = given.get(name);
    return v === undefined || v === '' ? undefined : v;
  };

  const objective = spec.objective;
  if (!objective || objective.objectiveMetricName === '') throw new InvalidArgumentError('objective.objective_metric_name is required');
  if (objective.type !== ObjectiveType.MAXIMIZE && objective.type !== ObjectiveType.MINIMIZE) {
    throw new InvalidArgumentError(`objective.type must be MAXIMIZE or MINIMIZE, got ${objective.type}`);
  }
  for (const p of spec.parameterSpecs?.parameters ?? []) {
    if (!(KATIB_ASSIGNMENT_NAMES as readonly string[]).includes(p.name)) {
      throw new InvalidArgumentError(
        `parameter '${p.name}' is not one supernetd assigns; each assignment holds ${KATIB_ASSIGNMENT_NAMES.join(', ')} (or use nasConfig and no parameters)`,
      );
    }
  }

  const kind = setting('constraint_kind') ?? 'flops';
  if (kind !== 'flops' && kind !== 'params' && kind !== 'latency') bad('constraint_kind', `must be flops, params or latency, got '${kind}'`);
  const budgets: Constraint[] = [];
  const budgetText = setting('budgets');
  if (budgetText !== undefined) {
    for (const part of budgetText.split(',')) {
      const t = part.trim();
      const n = t === '' ? NaN : Number(t);
      if (!Number.isFinite(n) || n <= 0) bad('budgets', `each target must be a positive number, got '${t}' in '${budgetText}'`);
      budgets.push({ kind, target: n });
    }
  }
  const attachTo = setting('experiment_id');
  if (kind === 'latency' && attachTo === undefined) {
    bad('constraint_kind', 'latency needs an experiment with a latency table: create it through the supernetd API (search_space.overrides.measureLatency or latencyTable) and attach with experiment_id');
  }

  let trainStepsPerCall: number = KATIB_DEFAULTS.trainStepsPerCall;
  const steps = setting('train_steps_per_call');
  if (steps !== undefined) {
    trainStepsPerCall = Number(steps);
    if (!Number.isInteger(trainStepsPerCall) || trainStepsPerCall < 0 || trainStepsPerCall > MAX_TRAIN_STEPS_PER_CALL) {
      bad('train_steps_per_call', `must be an integer in [0, ${MAX_TRAIN_STEPS_PER_CALL}], got '${steps}'`);
    }
  }

  const strategy = setting('strategy') ?? KATIB_DEFAULTS.strategy;
  const preset = setting('preset') ?? (strategy === 'dna' ? KATIB_DEFAULTS.dnaPreset : KATIB_DEFAULTS.preset);
  const strategyConfigText = setting('strategy_config');
  const strategyConfig = strategyConfigText === undefined ? {} : jsonObject('strategy_config', strategyConfigText);
  const trainingText = setting('training');
  const training = trainingText === undefined ? {} : jsonObject('training', trainingText);
  const dataset = setting('dataset');
  if (dataset !== undefined) training.dataset = { ...(training.dataset as Record<string, unknown> | undefined), name: dataset };
  else if (training.dataset === undefined) training.dataset = { name: KATIB_DEFAULTS.dataset };

  let experimentSpec: ExperimentSpec;
  try {
    const proto = fromJson(ExperimentSpecSchema, {
      displayName: `katib ${experiment.name}`.slice(0, 200),
      searchSpace: { preset },
      strategy: { id: strategy, config: strategyConfig as JsonValue },
    });
    proto.training = fromJson(ExperimentSpecSchema, { training: training as JsonValue }).training;
    validateMessage(ExperimentSpecSchema, proto);
    experimentSpec = specFromProto(proto);
  } catch (err) {
    bad('training', (err as Error).message);
  }
  return { attachTo, spec: experimentSpec, budgets, trainStepsPerCall, objective: { metric: objective.objectiveMetricName, maximize: objective.type === ObjectiveType.MAXIMIZE } };
}
