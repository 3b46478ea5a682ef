import type { Arch, Constraint, Cost, Proposal, SerializedError } from '@supernetd/sdk';
import type { RawTensor, SharedDataset } from '@supernetd/engine';
import type { ExperimentSpec } from '../domain/experiment-spec.ts';

/** An inline tensor as it crosses into the worker (already checked for byte length by the codec). */
export type RawTensorMessage = RawTensor;

/** An inline batch. */
export interface RawBatchMessage {
  images: RawTensorMessage;
  labels: RawTensorMessage;
}

/** workerData of an experiment worker. */
export interface WorkerInit {
  experimentId: string;
  spec: ExperimentSpec;
  backend: string;
  /** Threads of the worker's `wasm` backend; absent: every core. */
  threads?: number;
  /** Import specifier of the module exporting the experiment's strategy. */
  strategyModule: string;
  checkpointDir: string;
  /** Nice value for this thread (Linux), set before anything else runs; absent or 0: unchanged. */
  nice?: number;
  /** Every stored metric; the worker replays those newer than its checkpoint into the strategy. */
  metrics: { sequence: number; arch: Arch; values: Record<string, number> }[];
  /** The experiment's stored latency table, if one was measured; absent with `measureLatency`: measure it. */
  latencyTable?: Record<string, number>;
  /** Dataset sources other workers of this process loaded (shared memory, not copies). */
  datasets?: SharedDataset[];
  /** Absolute URL of the worker's TypeScript entry (read by the bootstrap). */
  entry: string;
}

/** What the worker publishes after steps and jobs; the RPC thread serves reads from it. */
export interface WorkerSnapshot {
  step: number;
  checkpointStep: number;
  lastLosses: Record<string, number>;
  learningRate: number;
  phase: string;
  strategyState: unknown;
  backend: string;
  /** Device the engine runs on: `CPU`, or `GPU` with the GPU's name. */
  device: string;
  metricSequence: number;
  memory: { numTensors: number; numBytes: number };
  stepsPerEpoch: number;
}

/** One training progress event. */
export interface TrainProgress {
  step: number;
  targetStep: number;
  losses: Record<string, number>;
  learningRate: number;
  examplesPerSecond: number;
  etaSeconds: number;
  phase: string;
  checkpointStep: number;
  done: boolean;
}

/** How far a post-training search (a deploy call) is. */
export interface SearchProgress {
  /** Candidates measured so far. */
  done: number;
  /** Candidates planned (0 when unknown). */
  total: number;
  note: string;
  /** Seconds since the search started. */
  seconds: number;
}

/** The result of a training job. */
export interface TrainResult {
  step: number;
  losses: Record<string, number>;
  learningRate: number;
  archs: Arch[];
  checkpointStep: number;
  /** True when the job stopped early on a cancel. */
  cancelled: boolean;
}

/** Operations the RPC thread asks a worker to run, with their arguments and results. */
export interface WorkerOps {
  train: {
    args: { steps: number; progressInterval: number; batch?: RawBatchMessage };
    result: TrainResult;
  };
  evaluate: {
    /** An inline `batch` runs `chunkImages` images at a time (default: whole). */
    args: { arch: Arch; maxExamples?: number; recalibrate: boolean; batch?: RawBatchMessage; chunkImages?: number };
    result: { accuracy: number; loss: number; examples: number };
  };
  export: { args: { arch: Arch; recalibrate: boolean }; result: { files: { path: string; data: Uint8Array }[]; cost: Cost } };
  deploy: { args: { constraint: Constraint }; result: Proposal };
  metric: { args: { sequence: number; arch: Arch; values: Record<string, number> }; result: null };
  checkpoint: { args: Record<string, never>; result: { checkpointStep: number } };
  shutdown: { args: Record<string, never>; result: { checkpointStep: number } };
}

export type WorkerOpName = keyof WorkerOps;

/** RPC thread -> worker. */
export type HostMessage =
  | { kind: 'call'; id: number; op: WorkerOpName; args: unknown }
  | { kind: 'cancel'; id: number };

/** Worker -> RPC thread. */
export type WorkerMessage =
  | { kind: 'ready'; snapshot: WorkerSnapshot; measuredLatencyTable?: Record<string, number> }
  | { kind: 'init-failed'; error: SerializedError }
  | { kind: 'result'; id: number; ok: true; value: unknown }
  | { kind: 'result'; id: number; ok: false; error: SerializedError }
  | { kind: 'progress'; id: number; event: TrainProgress }
  | { kind: 'search-progress'; id: number; event: SearchProgress }
  | { kind: 'snapshot'; snapshot: WorkerSnapshot }
  | { kind: 'checkpointed'; snapshot: WorkerSnapshot }
  /** The worker uses this dataset source: read by it (`loaded`), or one it was handed. */
  | { kind: 'dataset'; dataset: SharedDataset; loaded: boolean };
