import { createHash, randomBytes } from 'node:crypto';
import { create, toJsonString } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { ArchitectureSchema } from '@supernetd/api';
import { GetSuggestionsReplySchema, TrialStatus_TrialConditionType, ValidateAlgorithmSettingsReplySchema } from '@supernetd/api/katib';
import type { GetSuggestionsReply, GetSuggestionsRequest, Trial, ValidateAlgorithmSettingsReply, ValidateAlgorithmSettingsRequest } from '@supernetd/api/katib';
import { InvalidArgumentError, SupernetdError } from '@supernetd/sdk';
import type { Constraint } from '@supernetd/sdk';
import { checkSpaceLimits, resolveSpace } from '@supernetd/engine/space';
import { spaceLimitsOf } from '../config.ts';
import type { ServerConfig } from '../config.ts';
import type { ExperimentManager } from '../experiments/experiment-manager.ts';
import { MAX_SAMPLE_COUNT } from '../experiments/experiment-manager.ts';
import { builtinDatasetList, isBuiltinDataset } from '../experiments/dataset-root.ts';
import { EXPERIMENT_ID_PATTERN } from '../persistence/experiment-store.ts';
import type { StrategyRegistry } from '../strategies/strategy-registry.ts';
import { archToProto } from '../grpc/converters.ts';
import type { Subnet } from '../domain/subnet.ts';
import { parseKatibSettings } from './katib-settings.ts';
import type { KatibObjective, KatibSettings } from './katib-settings.ts';
import type { KatibTrainer } from './katib-trainer.ts';

/** Prefix of the client id under which a Katib trial's observation is stored: its durable "applied" mark. */
export const KATIB_CLIENT_PREFIX = 'katib:';
/** Trial labels that tie a Katib trial to its subnet and experiment. */
export const SUBNET_LABEL = 'supernetd/subnet-id';
export const EXPERIMENT_LABEL = 'supernetd/experiment-id';
/** Most assignments one GetSuggestions call may ask for. */
export const MAX_KATIB_REQUEST = 1024;

/** Trial conditions whose observation is final. */
const FINAL = new Set([TrialStatus_TrialConditionType.SUCCEEDED, TrialStatus_TrialConditionType.EARLYSTOPPED]);

/**
 * The supernetd experiment id of a Katib Experiment name: `katib-<name>` when that is a valid id,
 * else a readable prefix plus a hash of the name, so every call, and every restart, finds the same one.
 */
export function experimentIdForKatib(name: string): string {
  const plain = `katib-${name}`;
  if (EXPERIMENT_ID_PATTERN.test(plain)) return plain;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
  const readable = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  return readable === '' ? `katib-${hash}` : `katib-${readable}-${hash}`;
}

/**
 * The metrics a trial's final observation reports: each observed metric by name, plus the objective
 * under the name the strategies read (`accuracy` when maximised, `loss` when minimised). An observed
 * `accuracy` or `loss` that is not the objective is kept as `observed_accuracy`/`observed_loss`, so the
 * strategy ranks subnets by Katib's objective. Undefined when the objective is missing or not a
 * finite number (nothing is reported then).
 */
export function metricsOfObservation(trial: Trial, objective: KatibObjective): Record<string, number> | undefined {
  const observed = new Map<string, number>();
  for (const m of trial.status?.observation?.metrics ?? []) {
    const v = m.value.trim() === '' ? NaN : Number(m.value);
    if (m.name !== '' && Number.isFinite(v)) observed.set(m.name, v);
  }
  const target = observed.get(objective.metric);
  if (target === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const [name, v] of observed) {
    if (name === objective.metric) continue;
    out[name === 'accuracy' || name === 'loss' ? `observed_${name}` : name] = v;
  }
  out[objective.metric] = target;
  out[objective.maximize ? 'accuracy' : 'loss'] = target;
  return out;
}

/** A Kubernetes-valid trial name that shows its subnet: `<experiment>-<8 hex of the subnet>-<random>`. */
function trialNameFor(katibName: string, subnetId: string): string {
  const prefix = katibName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 40).replace(/^-+|-+$/g, '');
  const hex = subnetId.replace(/^sn-/, '').slice(0, 8);
  return `${prefix === '' ? 'trial' : prefix}-${hex}-${randomBytes(3).toString('hex')}`;
}

/**
 * Katib's `Suggestion` service over the experiment manager. A Katib Experiment maps to one supernetd
 * experiment (created on the first GetSuggestions, keyed by the Katib name, or attached with
 * `experiment_id`); each assignment is a subnet sampled under the next budget, round-robin by the
 * assignment's position in the Katib experiment; a trial's final observation becomes one
 * ReportMetric, marked applied by its client id `katib:<trial name>` in the durable metric log, so
 * the trials Katib re-sends on every call are applied once, across restarts. Training runs in the
 * background after a call (KatibTrainer), never inside one. Calls on one experiment are serialised.
 */
export class KatibSuggestionService {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly config: ServerConfig,
    private readonly manager: ExperimentManager,
    private readonly registry: StrategyRegistry,
    private readonly trainer: KatibTrainer,
    private readonly logger: Logger,
  ) {}

  /**
   * Checks the settings as GetSuggestions would use them: INVALID_ARGUMENT naming the setting for
   * anything wrong, including an unknown strategy or preset, a strategy config the strategy refuses,
   * an unknown dataset, and an `experiment_id` this server does not hold (Katib rejects the
   * Experiment only on INVALID_ARGUMENT).
   */
  validate(req: ValidateAlgorithmSettingsRequest): ValidateAlgorithmSettingsReply {
    const settings = parseKatibSettings(req.experiment);
    if (settings.attachTo !== undefined) {
      try {
        this.manager.requireExperiment(settings.attachTo);
      } catch (err) {
        throw new InvalidArgumentError(`algorithm setting 'experiment_id': ${(err as Error).message}`);
      }
    } else {
      this.checkCreatable(settings);
    }
    return create(ValidateAlgorithmSettingsReplySchema, {});
  }

  /** What CreateExperiment would refuse of the spec, named by setting, checked without creating. */
  private checkCreatable(settings: KatibSettings): void {
    const spec = settings.spec;
    const as = (setting: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        if (err instanceof SupernetdError) throw new InvalidArgumentError(`algorithm setting '${setting}': ${err.message}`, err.reason);
        throw err;
      }
    };
    as('strategy', () => this.registry.get(spec.strategy.id));
    let config: unknown;
    as('strategy_config', () => (config = this.registry.get(spec.strategy.id).factory.parseConfig(spec.strategy.config)));
    // an experiment created from settings has no latency table (no setting can give one)
    const latency = this.registry.get(spec.strategy.id).factory.latencyConfigKey?.(config);
    if (latency !== undefined) {
      throw new InvalidArgumentError(
        `algorithm setting 'strategy_config': config ${latency} asks for latency costs, which need a latency table: create the experiment through the supernetd API (search_space.overrides.measureLatency or latencyTable) and attach it with experiment_id`,
      );
    }
    as('preset', () => checkSpaceLimits(resolveSpace(spec.space), spaceLimitsOf(this.config), spec.training.batchSize));
    const ds = spec.training.dataset;
    if (ds.format === undefined && !isBuiltinDataset(ds.name ?? '')) {
      throw new InvalidArgumentError(`algorithm setting 'dataset': '${ds.name ?? ''}' is not a built-in dataset (built-in: ${builtinDatasetList()}); for files set training.dataset.format and path`);
    }
  }

  /** One GetSuggestions call: apply new observations, then exactly `current_request_number` assignments. */
  async getSuggestions(req: GetSuggestionsRequest): Promise<GetSuggestionsReply> {
    const settings = parseKatibSettings(req.experiment);
    const katibName = req.experiment?.name ?? '';
    if (katibName === '') throw new InvalidArgumentError('experiment.name is required');
    const count = req.currentRequestNumber;
    if (count < 0 || count > MAX_KATIB_REQUEST) throw new InvalidArgumentError(`current_request_number must be in [0, ${MAX_KATIB_REQUEST}], got ${count}`);
    if (req.totalRequestNumber < count) {
      throw new InvalidArgumentError(`total_request_number (${req.totalRequestNumber}) must be at least current_request_number (${count})`);
    }
    const id = settings.attachTo ?? experimentIdForKatib(katibName);
    const reply = await this.serialised(id, async () => {
      await this.ensureExperiment(id, settings);
      const applied = await this.applyObservations(id, req.trials, settings.objective);
      // assignments before this call's are at positions [0, total - current): budgets continue from there
      const first = req.totalRequestNumber - count;
      const subnets = await this.sampleRoundRobin(id, settings.budgets, first, count);
      this.logger.info({ katibExperiment: katibName, experiment: id, assigned: subnets.length, observationsApplied: applied }, 'katib suggestions');
      return create(GetSuggestionsReplySchema, {
        parameterAssignments: subnets.map(({ subnet, budget }) => {
          const assignments = [
            { name: 'experiment_id', value: id },
            { name: 'subnet_id', value: subnet.id },
            { name: 'architecture', value: toJsonString(ArchitectureSchema, archToProto(subnet.arch)) },
            { name: 'budget', value: budget === undefined ? '' : String(budget.target) },
            { name: 'flops', value: String(subnet.cost.flops) },
            { name: 'params', value: String(subnet.cost.params) },
          ];
          // costs without a latency table carry no latency
          if (subnet.cost.latency !== undefined && subnet.cost.latency > 0) assignments.push({ name: 'latency_ms', value: String(subnet.cost.latency) });
          return {
            assignments,
            trialName: trialNameFor(katibName, subnet.id),
            labels: { [SUBNET_LABEL]: subnet.id, [EXPERIMENT_LABEL]: id },
          };
        }),
        // Katib stores these and sends them back: later calls attach to this experiment by id
        algorithm: { algorithmName: req.experiment?.spec?.algorithm?.algorithmName ?? '', algorithmSettings: [{ name: 'experiment_id', value: id }] },
      });
    });
    // after the reply is on its way: training never holds up a call
    setImmediate(() => this.trainer.kick(id, settings.trainStepsPerCall));
    return reply;
  }

  private serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  /** Creates the experiment from the settings unless it exists; an attached one must exist (NOT_FOUND). */
  private async ensureExperiment(id: string, settings: KatibSettings): Promise<void> {
    if (settings.attachTo !== undefined) {
      this.manager.requireExperiment(id);
      return;
    }
    try {
      this.manager.requireExperiment(id);
      return;
    } catch (err) {
      if (!(err instanceof SupernetdError) || err.reason !== 'EXPERIMENT_NOT_FOUND') throw err;
    }
    this.checkCreatable(settings);
    await this.manager.create(id, settings.spec);
    this.logger.info({ experiment: id }, 'experiment created for a Katib experiment');
  }

  /**
   * Reports each final trial's observation once: trials whose `katib:<name>` record is already in
   * the metric log are skipped. A trial without a subnet this experiment handed out is logged and
   * skipped (it was not assigned here), so one stray trial cannot stall the Katib experiment.
   */
  private async applyObservations(id: string, trials: Trial[], objective: KatibObjective): Promise<number> {
    const done = new Set<string>();
    for (const m of this.manager.session(id).metrics) if (m.clientId.startsWith(KATIB_CLIENT_PREFIX)) done.add(m.clientId);
    let applied = 0;
    for (const t of trials) {
      if (t.status === undefined || !FINAL.has(t.status.condition)) continue;
      const clientId = KATIB_CLIENT_PREFIX + t.name;
      if (t.name === '' || done.has(clientId)) continue;
      const subnet = t.spec?.parameterAssignments?.assignments.find((a) => a.name === 'subnet_id')?.value ?? t.spec?.labels[SUBNET_LABEL];
      const values = metricsOfObservation(t, objective);
      if (subnet === undefined || values === undefined) {
        this.logger.warn({ experiment: id, trial: t.name, subnet, objective: objective.metric }, 'katib trial has no subnet_id or no finite objective value; not reported');
        continue;
      }
      if (!this.manager.session(id).subnets.has(subnet)) {
        this.logger.warn({ experiment: id, trial: t.name, subnet }, 'katib trial names a subnet this experiment never handed out; not reported');
        continue;
      }
      await this.manager.reportMetric(id, subnet, values, clientId);
      done.add(clientId);
      applied++;
    }
    return applied;
  }

  /** `count` subnets, the i-th under budget `(first + i) mod budgets` (unconstrained without budgets). */
  private async sampleRoundRobin(id: string, budgets: Constraint[], first: number, count: number): Promise<{ subnet: Subnet; budget: Constraint | undefined }[]> {
    const slots: (Constraint | undefined)[] = [];
    for (let i = 0; i < count; i++) slots.push(budgets.length === 0 ? undefined : budgets[(first + i) % budgets.length]);
    const out: { subnet: Subnet; budget: Constraint | undefined }[] = new Array(count);
    const groups = new Map<Constraint | undefined, number[]>();
    slots.forEach((b, i) => groups.set(b, [...(groups.get(b) ?? []), i]));
    for (const [budget, positions] of groups) {
      for (let at = 0; at < positions.length; at += MAX_SAMPLE_COUNT) {
        const chunk = positions.slice(at, at + MAX_SAMPLE_COUNT);
        const subnets = await this.manager.sample(id, budget, 'eval', chunk.length);
        chunk.forEach((pos, k) => (out[pos] = { subnet: subnets[k] as Subnet, budget }));
      }
    }
    return out;
  }
}
