import type { TrainingSpec as EngineTrainingSpec } from '@supernetd/engine';
import type { Arch, SpaceSpec } from '@supernetd/sdk';

/** Which data an experiment trains on (a DatasetRef): the engine's DatasetSpec (type-only, so the RPC thread loads no tfjs). */
export type { DatasetSpec } from '@supernetd/engine';

/** How an experiment trains (a TrainingConfig with every default filled in): the engine's TrainingSpec plus checkpointing. */
export interface TrainingSpec extends EngineTrainingSpec {
  /** Steps between checkpoints. */
  checkpointInterval: number;
}

/** What an experiment runs: stored as `spec.json`, converted at the gRPC edge. */
export interface ExperimentSpec {
  displayName: string;
  space: SpaceSpec;
  /** Strategy id and its parsed config (defaults filled, JSON). */
  strategy: { id: string; config: unknown };
  training: TrainingSpec;
  /** Set for an experiment that retrains one subnet of another (the API's ExperimentSpec.retrain). */
  retrain?: RetrainSpec;
}

/**
 * Which subnet of which experiment an experiment retrains alone, and how its weights start. As
 * requested, `arch` may be absent (then `subnetId` names it); once created, `arch` is the resolved
 * architecture in the source space and `space` the derived one-architecture space, so the
 * experiment needs nothing of its source after creation (restarts, a deleted source).
 */
export interface RetrainSpec {
  sourceExperimentId: string;
  subnetId?: string;
  arch?: Arch;
  init: 'scratch' | 'inherited';
  /** Step of the source checkpoint the weights came from (inherited only). */
  sourceCheckpointStep?: number;
}

/** The stored record of an experiment. */
export interface ExperimentRecord {
  id: string;
  spec: ExperimentSpec;
  createTime: string;
  /** The CreateExperiment request_id and request fingerprint that made it (idempotency.ts). */
  request?: RequestKey;
}

/** A request_id with the fingerprint of the request that carried it (see experiments/idempotency.ts). */
export interface RequestKey {
  id: string;
  hash: string;
}

/** An experiment's lifecycle state. */
export type ExperimentStateName = 'ready' | 'training' | 'failed';

/** What GetExperiment reports, served from cached state. */
export interface ExperimentView {
  id: string;
  spec: ExperimentSpec;
  state: ExperimentStateName;
  step: number;
  checkpointStep: number;
  lastLosses: Record<string, number>;
  metricCount: number;
  phase: string;
  error: string;
  createTime: string;
  updateTime: string;
  backend: string;
  /** Device the engine runs on (`CPU`, `GPU: <name>`); '' until its worker has started in this process. */
  device: string;
}

/** One stored metric. */
export interface MetricRecord {
  sequence: number;
  subnetId: string;
  values: Record<string, number>;
  clientId: string;
  time: string;
  /** The ReportMetric request_id and fingerprint, stored in the same durable line as the metric. */
  request?: RequestKey;
}
