import type { OptimizerConfig } from '@supernetd/sdk';

/** Domain form of a DatasetRef (mirrors the engine's DatasetSpec). */
export interface DatasetSpecDomain {
  name?: string;
  path?: string;
  format?: 'idx' | 'cifar10' | 'npy';
  maxTrainExamples?: number;
  maxTestExamples?: number;
  augment?: boolean;
}

/** Domain form of a TrainingConfig with every default filled in. */
export interface TrainingSpecDomain {
  dataset: DatasetSpecDomain;
  batchSize: number;
  totalSteps: number;
  optimizer: OptimizerConfig;
  labelSmoothing: number;
  seed: number;
  /** Steps between checkpoints. */
  checkpointInterval: number;
}

/** What an experiment runs: stored as `spec.json`, converted at the gRPC edge. */
export interface ExperimentSpecDomain {
  displayName: string;
  space: { preset: string; overrides?: Record<string, unknown> };
  /** Strategy id and its parsed config (defaults filled, JSON). */
  strategy: { id: string; config: unknown };
  training: TrainingSpecDomain;
}

/** The stored record of an experiment. */
export interface ExperimentRecord {
  id: string;
  spec: ExperimentSpecDomain;
  createTime: string;
}

/** An experiment's lifecycle state. */
export type ExperimentStateName = 'ready' | 'training' | 'failed';

/** What GetExperiment reports, served from cached state. */
export interface ExperimentView {
  id: string;
  spec: ExperimentSpecDomain;
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
}

/** One stored metric. */
export interface MetricRecordDomain {
  sequence: number;
  subnetId: string;
  values: Record<string, number>;
  clientId: string;
  time: string;
}
