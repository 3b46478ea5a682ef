// Proto <-> domain conversion at the service edge: nothing below the handlers sees generated types.
import { create } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ArchitectureSchema,
  ChannelIndicesSchema,
  ConstraintKind,
  DatasetFormat,
  ExperimentSchema,
  ExperimentSpecSchema,
  ExperimentState,
  LrScheduleKind,
  MetricRecordSchema,
  OptimizerKind,
  RetrainInit,
  RetrainSpecSchema,
  SamplePurpose,
  SubnetSchema,
} from '@supernetd/api';
import type {
  Architecture,
  Batch,
  Constraint as ConstraintMsg,
  Experiment,
  ExperimentSpec,
  MetricRecord,
  RetrainSpec,
  Subnet,
  TrainingConfig,
} from '@supernetd/api';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Arch, Constraint, ErrorReason, OptimizerConfig, SamplePurpose as SamplePurposeName } from '@supernetd/sdk';
import { decodeRequestTensor } from './request-tensor.ts';
import type {
  DatasetSpecDomain,
  ExperimentSpecDomain,
  ExperimentView,
  MetricRecordDomain,
  RetrainSpecDomain,
  TrainingSpecDomain,
} from '../domain/experiment-spec.ts';
import type { SubnetDomain } from '../domain/subnet.ts';
import type { SubnetTarget } from '../experiments/experiment-manager.ts';
import type { RawBatchMessage } from '../worker/protocol.ts';

function bad(message: string): never {
  throw new InvalidArgumentError(message);
}

/** Longest display_name, in UTF-8 bytes. */
export const MAX_DISPLAY_NAME_BYTES = 1024;
/** Longest identifier-like string (preset, strategy id, dataset name, client id, metric name), in UTF-8 bytes. */
export const MAX_NAME_BYTES = 256;
/** Longest dataset path, in UTF-8 bytes. */
export const MAX_PATH_BYTES = 4096;
/** Default bound on the JSON of search_space.overrides plus strategy.config. */
export const DEFAULT_MAX_SPEC_JSON_BYTES = 4 * 1024 * 1024;
/** Most values in one ReportMetric. */
export const MAX_METRIC_VALUES = 64;

/** Throws InvalidArgumentError when `value` is longer than `max` UTF-8 bytes. */
export function boundedString(field: string, value: string, max: number, reason?: ErrorReason): string {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > max) throw new InvalidArgumentError(`${field} is ${bytes} bytes; the limit is ${max}`, reason);
  return value;
}

/** Whether `v` is a value of the generated (numeric) enum `e`. */
function isKnownEnum(e: Record<string | number, string | number>, v: number): boolean {
  return Number.isInteger(v) && typeof e[v] === 'string';
}

function finiteNonNegative(field: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) bad(`${field} must be a finite, non-negative number, got ${v}`);
  return v;
}

/**
 * Domain spec from a CreateExperiment request, validated, with training defaults filled in. String
 * fields are bounded (display_name to MAX_DISPLAY_NAME_BYTES, names to MAX_NAME_BYTES), and the
 * JSON of search_space.overrides plus strategy.config to `maxSpecJsonBytes`.
 */
export function specFromProto(spec: ExperimentSpec | undefined, maxSpecJsonBytes = DEFAULT_MAX_SPEC_JSON_BYTES): ExperimentSpecDomain {
  if (!spec) bad('spec is required');
  if (spec.retrain) return retrainSpecFromProto(spec, spec.retrain);
  boundedString('spec.display_name', spec.displayName, MAX_DISPLAY_NAME_BYTES);
  const preset = boundedString('spec.search_space.preset', spec.searchSpace?.preset ?? '', MAX_NAME_BYTES, 'INVALID_SEARCH_SPACE');
  if (preset === '') throw new InvalidArgumentError('spec.search_space.preset is required', 'INVALID_SEARCH_SPACE');
  const space: ExperimentSpecDomain['space'] = { preset };
  if (spec.searchSpace?.overrides && Object.keys(spec.searchSpace.overrides).length > 0) {
    space.overrides = spec.searchSpace.overrides as Record<string, unknown>;
  }
  const strategyId = boundedString('spec.strategy.id', spec.strategy?.id ?? '', MAX_NAME_BYTES, 'UNKNOWN_STRATEGY');
  if (strategyId === '') throw new InvalidArgumentError('spec.strategy.id is required', 'UNKNOWN_STRATEGY');
  const jsonBytes = Buffer.byteLength(JSON.stringify(space.overrides ?? {}), 'utf8') + Buffer.byteLength(JSON.stringify(spec.strategy?.config ?? {}), 'utf8');
  if (jsonBytes > maxSpecJsonBytes) {
    bad(`spec.search_space.overrides and spec.strategy.config hold ${jsonBytes} bytes of JSON; the limit is ${maxSpecJsonBytes}`);
  }
  return {
    displayName: spec.displayName,
    space,
    strategy: { id: strategyId, config: spec.strategy?.config ?? {} },
    training: trainingFromProto(spec.training),
  };
}

/**
 * A retraining spec: `search_space` must be empty (the manager derives it from the source), the
 * strategy defaults to `uniform`; the space stays a placeholder (preset '') until derived.
 */
function retrainSpecFromProto(spec: ExperimentSpec, r: RetrainSpec): ExperimentSpecDomain {
  const f = 'spec.retrain';
  if (spec.searchSpace && (spec.searchSpace.preset !== '' || Object.keys(spec.searchSpace.overrides ?? {}).length > 0)) {
    throw new InvalidArgumentError(`spec.search_space must be empty with ${f}: the space is derived from the source experiment's`, 'INVALID_SEARCH_SPACE');
  }
  if (r.sourceExperimentId === '') bad(`${f}.source_experiment_id is required`);
  const init = r.init === RetrainInit.SCRATCH ? 'scratch' : r.init === RetrainInit.INHERITED ? 'inherited' : undefined;
  if (!init) bad(`${f}.init is unset or unknown (${r.init}); expected RETRAIN_INIT_SCRATCH or RETRAIN_INIT_INHERITED`);
  const retrain: RetrainSpecDomain = { sourceExperimentId: r.sourceExperimentId, init };
  if (r.subnet.case === 'subnetId') {
    if (r.subnet.value === '') bad(`${f}.subnet_id must not be empty`);
    retrain.subnetId = r.subnet.value;
  } else if (r.subnet.case === 'architecture') {
    retrain.arch = archFromProto(r.subnet.value);
  } else {
    bad(`${f} needs the subnet: set subnet_id or architecture`);
  }
  return {
    displayName: spec.displayName,
    space: { preset: '' },
    strategy: { id: spec.strategy?.id || 'uniform', config: spec.strategy?.config ?? {} },
    training: trainingFromProto(spec.training),
    retrain,
  };
}

function retrainToProto(r: RetrainSpecDomain): RetrainSpec {
  return create(RetrainSpecSchema, {
    sourceExperimentId: r.sourceExperimentId,
    subnet: r.subnetId !== undefined ? { case: 'subnetId', value: r.subnetId } : r.arch ? { case: 'architecture', value: archToProto(r.arch) } : { case: undefined },
    init: r.init === 'inherited' ? RetrainInit.INHERITED : RetrainInit.SCRATCH,
    ...(r.arch ? { sourceArchitecture: archToProto(r.arch) } : {}),
    sourceCheckpointStep: BigInt(r.sourceCheckpointStep ?? 0),
  });
}

function trainingFromProto(t: TrainingConfig | undefined): TrainingSpecDomain {
  const f = 'spec.training';
  const batchSize = t?.batchSize ?? 0;
  if (batchSize < 0 || batchSize > 4096) bad(`${f}.batch_size must be in [1, 4096] (0 = default 64), got ${batchSize}`);
  const totalSteps = Number(t?.totalSteps ?? 0n);
  if (totalSteps < 0) bad(`${f}.total_steps must be positive (0 = default 1000), got ${totalSteps}`);
  // proto3 enums are open: an unknown number arrives as is and must not fall through to a default
  if (t && !isKnownEnum(OptimizerKind, t.optimizer)) bad(`${f}.optimizer ${t.optimizer} is not a known OptimizerKind`);
  if (t && !isKnownEnum(LrScheduleKind, t.schedule)) bad(`${f}.schedule ${t.schedule} is not a known LrScheduleKind`);
  const kind = t?.optimizer === OptimizerKind.ADAM ? 'adam' : 'sgd';
  const lr = finiteNonNegative(`${f}.learning_rate`, t?.learningRate ?? 0);
  // momentum, nesterov and weight_decay have explicit presence: absent takes the default, 0 and false are honoured
  const momentum = finiteNonNegative(`${f}.momentum`, t?.momentum ?? 0.9);
  if (momentum >= 1) bad(`${f}.momentum must be below 1, got ${momentum}`);
  const nesterov = t?.nesterov ?? momentum > 0;
  if (kind === 'sgd' && nesterov && momentum === 0) bad(`${f}.nesterov needs a momentum above 0, got momentum 0`);
  const weightDecay = t?.weightDecay ?? 1e-4;
  if (!Number.isFinite(weightDecay) || weightDecay < 0) bad(`${f}.weight_decay must be finite and non-negative, got ${weightDecay}`);
  const schedule = t?.schedule === LrScheduleKind.STEP ? 'step' : t?.schedule === LrScheduleKind.CONSTANT ? 'constant' : 'cosine';
  const warmupSteps = t?.warmupSteps ?? 0;
  if (warmupSteps < 0) bad(`${f}.warmup_steps must not be negative, got ${warmupSteps}`);
  const stepSize = t?.stepSize ?? 0;
  if (stepSize < 0) bad(`${f}.step_size must not be negative, got ${stepSize}`);
  const gamma = finiteNonNegative(`${f}.gamma`, t?.gamma ?? 0);
  const labelSmoothing = finiteNonNegative(`${f}.label_smoothing`, t?.labelSmoothing ?? 0);
  if (labelSmoothing >= 1) bad(`${f}.label_smoothing must be below 1, got ${labelSmoothing}`);
  const checkpointInterval = t?.checkpointInterval ?? 0;
  if (checkpointInterval < 0) bad(`${f}.checkpoint_interval must not be negative, got ${checkpointInterval}`);
  const total = totalSteps === 0 ? 1000 : totalSteps;
  const optimizer: OptimizerConfig = {
    kind,
    learningRate: lr === 0 ? (kind === 'adam' ? 0.002 : 0.05) : lr,
    weightDecay,
    schedule,
    warmupSteps,
    totalSteps: total,
  };
  if (kind === 'sgd') {
    optimizer.momentum = momentum;
    optimizer.nesterov = nesterov;
  }
  if (schedule === 'step') {
    optimizer.stepSize = stepSize === 0 ? Math.max(1, Math.floor(total / 3)) : stepSize;
    optimizer.gamma = gamma === 0 ? 0.1 : gamma;
  }
  return {
    dataset: datasetFromProto(t),
    batchSize: batchSize === 0 ? 64 : batchSize,
    totalSteps: total,
    optimizer,
    labelSmoothing,
    seed: t?.seed ?? 0,
    checkpointInterval: checkpointInterval === 0 ? 50 : checkpointInterval,
  };
}

function datasetFromProto(t: TrainingConfig | undefined): DatasetSpecDomain {
  const d = t?.dataset;
  const f = 'spec.training.dataset';
  const out: DatasetSpecDomain = {};
  const format = d?.format ?? DatasetFormat.UNSPECIFIED;
  boundedString(`${f}.name`, d?.name ?? '', MAX_NAME_BYTES, 'INVALID_DATASET');
  boundedString(`${f}.path`, d?.path ?? '', MAX_PATH_BYTES, 'INVALID_DATASET');
  if (!isKnownEnum(DatasetFormat, format)) throw new InvalidArgumentError(`${f}.format ${format} is not a known DatasetFormat`, 'INVALID_DATASET');
  if (format === DatasetFormat.UNSPECIFIED) {
    out.name = d?.name || 'fashion-mnist';
  } else {
    const name = { [DatasetFormat.IDX]: 'idx', [DatasetFormat.CIFAR10]: 'cifar10', [DatasetFormat.NPY]: 'npy' }[format] as DatasetSpecDomain['format'];
    if (name === undefined) throw new InvalidArgumentError(`${f}.format ${format} is not a known DatasetFormat`, 'INVALID_DATASET');
    if (!d?.path) throw new InvalidArgumentError(`${f}.path is required with format ${name}`, 'INVALID_DATASET');
    out.format = name;
    out.path = d.path;
    if (d.name) out.name = d.name;
  }
  if ((d?.maxTrainExamples ?? 0) < 0) bad(`${f}.max_train_examples must not be negative`);
  if ((d?.maxTestExamples ?? 0) < 0) bad(`${f}.max_test_examples must not be negative`);
  if (d?.maxTrainExamples) out.maxTrainExamples = d.maxTrainExamples;
  if (d?.maxTestExamples) out.maxTestExamples = d.maxTestExamples;
  if (d?.augment) out.augment = true;
  return out;
}

/** Proto spec of a stored experiment (defaults as filled in). */
export function specToProto(s: ExperimentSpecDomain): ExperimentSpec {
  const t = s.training;
  const o = t.optimizer;
  const ds = t.dataset;
  const fmt = ds.format === 'idx' ? DatasetFormat.IDX : ds.format === 'cifar10' ? DatasetFormat.CIFAR10 : ds.format === 'npy' ? DatasetFormat.NPY : DatasetFormat.UNSPECIFIED;
  return create(ExperimentSpecSchema, {
    displayName: s.displayName,
    searchSpace: { preset: s.space.preset, ...(s.space.overrides ? { overrides: s.space.overrides as JsonObject } : {}) },
    strategy: { id: s.strategy.id, config: (s.strategy.config ?? {}) as JsonObject },
    training: {
      dataset: {
        name: ds.name ?? '',
        path: ds.path ?? '',
        format: fmt,
        maxTrainExamples: ds.maxTrainExamples ?? 0,
        maxTestExamples: ds.maxTestExamples ?? 0,
        augment: ds.augment ?? false,
      },
      batchSize: t.batchSize,
      totalSteps: BigInt(t.totalSteps),
      optimizer: o.kind === 'adam' ? OptimizerKind.ADAM : OptimizerKind.SGD,
      learningRate: o.learningRate,
      // presence mirrors the stored optimiser: SGD's momentum and nesterov, absent for Adam
      ...(o.kind === 'sgd' ? { momentum: o.momentum ?? 0, nesterov: o.nesterov ?? false } : {}),
      weightDecay: o.weightDecay ?? 0,
      schedule: o.schedule === 'step' ? LrScheduleKind.STEP : o.schedule === 'constant' ? LrScheduleKind.CONSTANT : LrScheduleKind.COSINE,
      warmupSteps: o.warmupSteps ?? 0,
      stepSize: o.stepSize ?? 0,
      gamma: o.gamma ?? 0,
      labelSmoothing: t.labelSmoothing,
      seed: t.seed,
      checkpointInterval: t.checkpointInterval,
    },
    ...(s.retrain ? { retrain: retrainToProto(s.retrain) } : {}),
  });
}

const STATE = { ready: ExperimentState.READY, training: ExperimentState.TRAINING, failed: ExperimentState.FAILED } as const;

/**
 * Spec messages by the (never mutated) domain spec they were made from: GetExperiment and
 * ListExperiments convert the same spec on every call otherwise.
 */
const specProtos = new WeakMap<ExperimentSpecDomain, ExperimentSpec>();

export function experimentToProto(v: ExperimentView): Experiment {
  let spec = specProtos.get(v.spec);
  if (!spec) {
    spec = specToProto(v.spec);
    specProtos.set(v.spec, spec);
  }
  return create(ExperimentSchema, {
    id: v.id,
    spec,
    state: STATE[v.state],
    step: BigInt(v.step),
    checkpointStep: BigInt(v.checkpointStep),
    lastLosses: v.lastLosses,
    metricCount: BigInt(v.metricCount),
    phase: v.phase,
    error: v.error,
    createTime: timestampFromDate(new Date(v.createTime)),
    updateTime: timestampFromDate(new Date(v.updateTime)),
    backend: v.backend,
    device: v.device,
  });
}

/** Domain constraint; undefined when absent. Throws InvalidArgumentError(INVALID_CONSTRAINT). */
export function constraintFromProto(c: ConstraintMsg | undefined, field = 'constraint'): Constraint | undefined {
  if (!c) return undefined;
  const kind = c.kind === ConstraintKind.FLOPS ? 'flops' : c.kind === ConstraintKind.PARAMS ? 'params' : c.kind === ConstraintKind.LATENCY ? 'latency' : undefined;
  if (!kind) throw new InvalidArgumentError(`${field}.kind is unset or unknown (${c.kind}); expected FLOPS, PARAMS or LATENCY`, 'INVALID_CONSTRAINT');
  if (!Number.isFinite(c.target) || c.target <= 0) {
    throw new InvalidArgumentError(`${field}.target must be positive and finite, got ${c.target}`, 'INVALID_CONSTRAINT');
  }
  const out: Constraint = { kind, target: c.target };
  // explicit presence: absent leaves the strategy's default, 0 asks for no slack
  if (c.tolerance !== undefined) {
    if (!Number.isFinite(c.tolerance) || c.tolerance < 0 || c.tolerance >= 1) {
      throw new InvalidArgumentError(`${field}.tolerance must be in [0, 1), got ${c.tolerance}`, 'INVALID_CONSTRAINT');
    }
    out.tolerance = c.tolerance;
  }
  return out;
}

/** The SDK form of a proto Architecture. */
export function archFromProto(a: Architecture): Arch {
  const arch: Arch = { resolution: a.resolution, width: { ...a.widths } };
  const idx = Object.entries(a.channelIndices);
  if (idx.length > 0) arch.channelIdx = Object.fromEntries(idx.map(([k, v]) => [k, [...v.indices]]));
  if (Object.keys(a.ops).length > 0) arch.op = { ...a.ops };
  return arch;
}

export function archToProto(a: Arch): Architecture {
  return create(ArchitectureSchema, {
    resolution: a.resolution,
    widths: { ...a.width },
    channelIndices: Object.fromEntries(Object.entries(a.channelIdx ?? {}).map(([k, v]) => [k, create(ChannelIndicesSchema, { indices: v })])),
    ops: { ...(a.op ?? {}) },
  });
}

export function subnetToProto(s: SubnetDomain): Subnet {
  return create(SubnetSchema, {
    id: s.id,
    architecture: archToProto(s.arch),
    cost: { flops: s.cost.flops, params: s.cost.params, latencyMs: s.cost.latency },
    source: s.source,
    score: Number.isFinite(s.score) ? s.score : 0,
  });
}

/** ReportMetric's values and client id, bounded: at most MAX_METRIC_VALUES names of at most MAX_NAME_BYTES. */
export function metricValuesFromProto(values: Record<string, number>, clientId: string): { values: Record<string, number>; clientId: string } {
  boundedString('client_id', clientId, MAX_NAME_BYTES);
  const names = Object.keys(values);
  if (names.length > MAX_METRIC_VALUES) bad(`metrics holds ${names.length} values; the limit is ${MAX_METRIC_VALUES}`);
  for (const n of names) boundedString('a metric name', n, MAX_NAME_BYTES);
  return { values: { ...values }, clientId };
}

export function purposeFromProto(p: SamplePurpose): SamplePurposeName {
  if (p === SamplePurpose.TRAIN) return 'train';
  if (p === SamplePurpose.DEPLOY) return 'deploy';
  if (p === SamplePurpose.EVAL || p === SamplePurpose.UNSPECIFIED) return 'eval';
  throw new InvalidArgumentError(`purpose ${p} is not a known SamplePurpose`);
}

export function metricToProto(m: MetricRecordDomain): MetricRecord {
  return create(MetricRecordSchema, {
    sequence: BigInt(m.sequence),
    subnetId: m.subnetId,
    values: m.values,
    clientId: m.clientId,
    time: timestampFromDate(new Date(m.time)),
  });
}

/** Decodes an inline batch; the buffers to transfer to the worker come with it. */
export function batchFromProto(b: Batch, field: string, maxElements: number): { batch: RawBatchMessage; transfer: ArrayBuffer[] } {
  const images = decodeRequestTensor(b.images, `${field}.images`, maxElements);
  const labels = decodeRequestTensor(b.labels, `${field}.labels`, maxElements);
  return { batch: { images, labels }, transfer: [images.data.buffer as ArrayBuffer, labels.data.buffer as ArrayBuffer] };
}

/** Evaluate/Export target. */
export function targetFromProto(
  t: { case: 'subnetId'; value: string } | { case: 'architecture'; value: Architecture } | { case: 'constraint'; value: ConstraintMsg } | { case: undefined; value?: undefined },
): SubnetTarget | undefined {
  switch (t.case) {
    case 'subnetId':
      return { subnetId: t.value };
    case 'architecture':
      return { arch: archFromProto(t.value) };
    case 'constraint':
      return { constraint: constraintFromProto(t.value, 'target.constraint') as Constraint };
    default:
      return undefined;
  }
}
