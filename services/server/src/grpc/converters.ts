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
import type * as pb from '@supernetd/api';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Arch, Constraint, OptimizerConfig, SamplePurpose as SamplePurposeName } from '@supernetd/sdk';
import { decodeRequestTensor } from './request-tensor.ts';
import type { DatasetSpec, ExperimentSpec, ExperimentView, MetricRecord, RetrainSpec, TrainingSpec } from '../domain/experiment-spec.ts';
import type { Subnet } from '../domain/subnet.ts';
import { DEFAULT_DATASET } from '../experiments/dataset-root.ts';
import type { SubnetTarget } from '../experiments/experiment-manager.ts';
import type { RawBatchMessage } from '../worker/protocol.ts';

function bad(message: string): never {
  throw new InvalidArgumentError(message);
}

/** Default bound on the JSON of search_space.overrides plus strategy.config. */
export const DEFAULT_MAX_SPEC_JSON_BYTES = 4 * 1024 * 1024;

// The static bounds of the request messages (string lengths, ranges, defined enum values, finite
// numbers) are their `buf.validate` rules, checked before any handler runs (request-validation.ts);
// the checks here are those the rules cannot state: across fields, or against the configuration.

/**
 * Domain spec from a CreateExperiment request whose rules held, with training defaults filled in:
 * the JSON of search_space.overrides plus strategy.config is bounded to `maxSpecJsonBytes`.
 */
export function specFromProto(spec: pb.ExperimentSpec | undefined, maxSpecJsonBytes = DEFAULT_MAX_SPEC_JSON_BYTES): ExperimentSpec {
  if (!spec) bad('spec is required');
  if (spec.retrain) return retrainSpecFromProto(spec, spec.retrain);
  const preset = spec.searchSpace?.preset ?? '';
  if (preset === '') throw new InvalidArgumentError('spec.search_space.preset is required', 'INVALID_SEARCH_SPACE');
  const space: ExperimentSpec['space'] = { preset };
  if (spec.searchSpace?.overrides && Object.keys(spec.searchSpace.overrides).length > 0) {
    space.overrides = spec.searchSpace.overrides as Record<string, unknown>;
  }
  const strategyId = spec.strategy?.id ?? '';
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
function retrainSpecFromProto(spec: pb.ExperimentSpec, r: pb.RetrainSpec): ExperimentSpec {
  const f = 'spec.retrain';
  if (spec.searchSpace && (spec.searchSpace.preset !== '' || Object.keys(spec.searchSpace.overrides ?? {}).length > 0)) {
    throw new InvalidArgumentError(`spec.search_space must be empty with ${f}: the space is derived from the source experiment's`, 'INVALID_SEARCH_SPACE');
  }
  // source_experiment_id, init and a non-empty subnet_id are the rules'
  const init = r.init === RetrainInit.INHERITED ? 'inherited' : 'scratch';
  const retrain: RetrainSpec = { sourceExperimentId: r.sourceExperimentId, init };
  if (r.subnet.case === 'subnetId') {
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

function retrainToProto(r: RetrainSpec): pb.RetrainSpec {
  return create(RetrainSpecSchema, {
    sourceExperimentId: r.sourceExperimentId,
    subnet: r.subnetId !== undefined ? { case: 'subnetId', value: r.subnetId } : r.arch ? { case: 'architecture', value: archToProto(r.arch) } : { case: undefined },
    init: r.init === 'inherited' ? RetrainInit.INHERITED : RetrainInit.SCRATCH,
    ...(r.arch ? { sourceArchitecture: archToProto(r.arch) } : {}),
    sourceCheckpointStep: BigInt(r.sourceCheckpointStep ?? 0),
  });
}

/**
 * A TrainingConfig in domain terms, before any check or default: enums as names, the 64-bit step
 * count as a number. A field the request left unset is 0, '' or false, or undefined for those with
 * explicit presence (momentum, nesterov, weight_decay), where 0 and false are values of their own.
 */
interface TrainingFields {
  batchSize: number;
  totalSteps: number;
  optimizer: OptimizerConfig['kind'];
  learningRate: number;
  momentum: number | undefined;
  nesterov: boolean | undefined;
  weightDecay: number | undefined;
  schedule: NonNullable<OptimizerConfig['schedule']>;
  warmupSteps: number;
  stepSize: number;
  gamma: number;
  labelSmoothing: number;
  seed: number;
  checkpointInterval: number;
  dataset: DatasetFields;
}

/** A DatasetRef's fields as sent; `format` stays the proto enum until it is checked. */
interface DatasetFields {
  format: DatasetFormat;
  name: string;
  path: string;
  maxTrainExamples: number;
  maxTestExamples: number;
  augment: boolean;
}

/** The engine's name of each file format a DatasetRef may name. */
const DATASET_FORMAT_NAMES: Partial<Record<DatasetFormat, NonNullable<DatasetSpec['format']>>> = {
  [DatasetFormat.IDX]: 'idx',
  [DatasetFormat.CIFAR10]: 'cifar10',
  [DatasetFormat.NPY]: 'npy',
};

// Checked before the defaults are filled in: the checks are about what the client set, and a
// dataset format must be known before it can be named.
function trainingFromProto(t: pb.TrainingConfig | undefined): TrainingSpec {
  const fields = trainingFields(t);
  checkTrainingFields(fields);
  return withTrainingDefaults(fields);
}

function trainingFields(t: pb.TrainingConfig | undefined): TrainingFields {
  const d = t?.dataset;
  return {
    batchSize: t?.batchSize ?? 0,
    totalSteps: Number(t?.totalSteps ?? 0n),
    optimizer: t?.optimizer === OptimizerKind.ADAM ? 'adam' : 'sgd',
    learningRate: t?.learningRate ?? 0,
    momentum: t?.momentum,
    nesterov: t?.nesterov,
    weightDecay: t?.weightDecay,
    schedule: t?.schedule === LrScheduleKind.STEP ? 'step' : t?.schedule === LrScheduleKind.CONSTANT ? 'constant' : 'cosine',
    warmupSteps: t?.warmupSteps ?? 0,
    stepSize: t?.stepSize ?? 0,
    gamma: t?.gamma ?? 0,
    labelSmoothing: t?.labelSmoothing ?? 0,
    seed: t?.seed ?? 0,
    checkpointInterval: t?.checkpointInterval ?? 0,
    dataset: {
      format: d?.format ?? DatasetFormat.UNSPECIFIED,
      name: d?.name ?? '',
      path: d?.path ?? '',
      maxTrainExamples: d?.maxTrainExamples ?? 0,
      maxTestExamples: d?.maxTestExamples ?? 0,
      augment: d?.augment ?? false,
    },
  };
}

/** The checks across fields (ranges, finiteness and defined enum values are the rules'). */
function checkTrainingFields(t: TrainingFields): void {
  const f = 'spec.training';
  // nesterov defaults to momentum > 0 and momentum to 0.9, so only both given can clash
  if (t.optimizer === 'sgd' && t.nesterov === true && t.momentum === 0) bad(`${f}.nesterov needs a momentum above 0, got momentum 0`);
  const d = t.dataset;
  if (d.format !== DatasetFormat.UNSPECIFIED) {
    const name = DATASET_FORMAT_NAMES[d.format];
    if (name === undefined) throw new InvalidArgumentError(`${f}.dataset.format ${d.format} is not a known DatasetFormat`, 'INVALID_DATASET');
    if (!d.path) throw new InvalidArgumentError(`${f}.dataset.path is required with format ${name}`, 'INVALID_DATASET');
  }
}

/** The training spec with every unset field at its default; the optimizer's fields follow its kind and schedule. */
function withTrainingDefaults(t: TrainingFields): TrainingSpec {
  const kind = t.optimizer;
  const momentum = t.momentum ?? 0.9;
  const nesterov = t.nesterov ?? momentum > 0;
  const total = t.totalSteps === 0 ? 1000 : t.totalSteps;
  const optimizer: OptimizerConfig = {
    kind,
    learningRate: t.learningRate === 0 ? (kind === 'adam' ? 0.002 : 0.05) : t.learningRate,
    weightDecay: t.weightDecay ?? 1e-4,
    schedule: t.schedule,
    warmupSteps: t.warmupSteps,
    totalSteps: total,
  };
  if (kind === 'sgd') {
    optimizer.momentum = momentum;
    optimizer.nesterov = nesterov;
  }
  if (t.schedule === 'step') {
    optimizer.stepSize = t.stepSize === 0 ? Math.max(1, Math.floor(total / 3)) : t.stepSize;
    optimizer.gamma = t.gamma === 0 ? 0.1 : t.gamma;
  }
  return {
    dataset: datasetWithDefaults(t.dataset),
    batchSize: t.batchSize === 0 ? 64 : t.batchSize,
    totalSteps: total,
    optimizer,
    labelSmoothing: t.labelSmoothing,
    seed: t.seed,
    checkpointInterval: t.checkpointInterval === 0 ? 50 : t.checkpointInterval,
  };
}

/** A built-in dataset (DEFAULT_DATASET when unnamed) when no format is given, else the checked format's files. */
function datasetWithDefaults(d: DatasetFields): DatasetSpec {
  const out: DatasetSpec = {};
  if (d.format === DatasetFormat.UNSPECIFIED) {
    out.name = d.name || DEFAULT_DATASET;
  } else {
    // a known format: checkTrainingFields ran first
    out.format = DATASET_FORMAT_NAMES[d.format] as NonNullable<DatasetSpec['format']>;
    out.path = d.path;
    if (d.name) out.name = d.name;
  }
  if (d.maxTrainExamples) out.maxTrainExamples = d.maxTrainExamples;
  if (d.maxTestExamples) out.maxTestExamples = d.maxTestExamples;
  if (d.augment) out.augment = true;
  return out;
}

/** Proto spec of a stored experiment (defaults as filled in). */
export function specToProto(s: ExperimentSpec): pb.ExperimentSpec {
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
const specProtos = new WeakMap<ExperimentSpec, pb.ExperimentSpec>();

export function experimentToProto(v: ExperimentView): pb.Experiment {
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

/** Domain constraint of a request whose rules held (a defined kind, a positive target); undefined when absent. */
export function constraintFromProto(c: pb.Constraint | undefined): Constraint | undefined {
  if (!c) return undefined;
  const kind = c.kind === ConstraintKind.PARAMS ? 'params' : c.kind === ConstraintKind.LATENCY ? 'latency' : 'flops';
  const out: Constraint = { kind, target: c.target };
  // explicit presence: absent leaves the strategy's default, 0 asks for no slack
  if (c.tolerance !== undefined) out.tolerance = c.tolerance;
  return out;
}

/** The SDK form of a proto Architecture. */
export function archFromProto(a: pb.Architecture): Arch {
  const arch: Arch = { resolution: a.resolution, width: { ...a.widths } };
  const idx = Object.entries(a.channelIndices);
  if (idx.length > 0) arch.channelIdx = Object.fromEntries(idx.map(([k, v]) => [k, [...v.indices]]));
  if (Object.keys(a.ops).length > 0) arch.op = { ...a.ops };
  return arch;
}

export function archToProto(a: Arch): pb.Architecture {
  return create(ArchitectureSchema, {
    resolution: a.resolution,
    widths: { ...a.width },
    channelIndices: Object.fromEntries(Object.entries(a.channelIdx ?? {}).map(([k, v]) => [k, create(ChannelIndicesSchema, { indices: v })])),
    ops: { ...(a.op ?? {}) },
  });
}

export function subnetToProto(s: Subnet): pb.Subnet {
  return create(SubnetSchema, {
    id: s.id,
    architecture: archToProto(s.arch),
    cost: { flops: s.cost.flops, params: s.cost.params, latencyMs: s.cost.latency },
    source: s.source,
    score: Number.isFinite(s.score) ? s.score : 0,
  });
}

/** A defined SamplePurpose (the rules refuse others); unspecified is eval. */
export function purposeFromProto(p: SamplePurpose): SamplePurposeName {
  if (p === SamplePurpose.TRAIN) return 'train';
  if (p === SamplePurpose.DEPLOY) return 'deploy';
  return 'eval';
}

export function metricToProto(m: MetricRecord): pb.MetricRecord {
  return create(MetricRecordSchema, {
    sequence: BigInt(m.sequence),
    subnetId: m.subnetId,
    values: m.values,
    clientId: m.clientId,
    time: timestampFromDate(new Date(m.time)),
  });
}

/** Decodes an inline batch; the buffers to transfer to the worker come with it. */
export function batchFromProto(b: pb.Batch, field: string, maxElements: number): { batch: RawBatchMessage; transfer: ArrayBuffer[] } {
  const images = decodeRequestTensor(b.images, `${field}.images`, maxElements);
  const labels = decodeRequestTensor(b.labels, `${field}.labels`, maxElements);
  return { batch: { images, labels }, transfer: [images.data.buffer as ArrayBuffer, labels.data.buffer as ArrayBuffer] };
}

/** Evaluate/Export target. */
export function targetFromProto(
  t: { case: 'subnetId'; value: string } | { case: 'architecture'; value: pb.Architecture } | { case: 'constraint'; value: pb.Constraint } | { case: undefined; value?: undefined },
): SubnetTarget | undefined {
  switch (t.case) {
    case 'subnetId':
      return { subnetId: t.value };
    case 'architecture':
      return { arch: archFromProto(t.value) };
    case 'constraint':
      return { constraint: constraintFromProto(t.value) as Constraint };
    default:
      return undefined;
  }
}
