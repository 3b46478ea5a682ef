// Contributor conventions (layout, imports, tests, errors): CONTRIBUTING.md at the repository root.
import type { Arch, Batch, Cost, EvalResult, OptimizerConfig, SearchSpaceView, SpaceSpec, SupernetEngine } from '@supernetd/sdk';

/**
 * Which TensorFlow.js backend to run on. `auto`: tensorflow if it loads, else wasm. `gpu`: the
 * tensorflow backend of @tensorflow/tfjs-node-gpu on a GPU, or an error.
 */
export type BackendPreference = 'auto' | 'tensorflow' | 'gpu' | 'wasm' | 'cpu';

/** Where training data comes from (domain form of the proto DatasetRef). */
export interface DatasetSpec {
  /** Built-in name (`fashion-mnist`) when `format` is undefined. */
  name?: string;
  /** Files on disk for the idx, cifar10 and npy formats. */
  path?: string;
  format?: 'idx' | 'cifar10' | 'npy';
  maxTrainExamples?: number;
  maxTestExamples?: number;
  augment?: boolean;
}

/** Optimisation and data of one experiment (domain form of the proto TrainingConfig, defaults filled). */
export interface TrainingSpec {
  dataset: DatasetSpec;
  batchSize: number;
  totalSteps: number;
  optimizer: OptimizerConfig;
  labelSmoothing: number;
  seed: number;
}

/** A search space by preset name plus JSON overrides (domain form of the proto SearchSpace; declared by the SDK). */
export type { SpaceSpec };

export interface EngineRuntimeOptions {
  space: SpaceSpec;
  training: TrainingSpec;
  backend?: BackendPreference;
  /**
   * Threads of the `wasm` backend (a positive integer; at most 8 are used), default every core the
   * machine gives the process. Fixed by the first runtime of a thread that starts `wasm`.
   */
  threads?: number;
  /** Latency table (ms per `latencyKey`) measured earlier; overrides `space.overrides.latencyTable`. */
  latencyTable?: Record<string, number>;
}

/** Raw tensor data as it arrives from the wire, before validation. */
export interface RawTensor {
  dtype: 'float32' | 'int32' | 'uint8';
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** One exported file. */
export interface ExportedFileData {
  path: string;
  data: Uint8Array;
}

/**
 * One experiment's engine: the supernet, its optimiser, its data stream. Lives in the experiment's
 * worker thread. `engine` is what strategies get; the rest is for the worker host.
 */
export interface EngineRuntime {
  readonly engine: SupernetEngine;
  readonly space: SearchSpaceView;
  /** Optimiser steps taken (each `engine.step` call adds one). */
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** The next batch of the seeded, shuffled (and augmented, if configured) training stream. Caller disposes. */
  nextTrainBatch(): Batch;
  /**
   * Validates and converts an inline batch: InvalidArgumentError with reason INVALID_TENSOR (byte
   * length vs shape), SHAPE_MISMATCH (image size/channels/label count), NON_FINITE_VALUE (NaN/Inf),
   * INVALID_ARGUMENT (label out of range). uint8 images are scaled to [0, 1]. Caller disposes.
   */
  batchFromRaw(images: RawTensor, labels: RawTensor): Batch;
  /**
   * Test-split accuracy of `arch` (or on `batch` when given), after BN recalibration on training
   * batches unless `recalibrate` is false (PSS procedure: cumulative over 9 batches). The
   * supernet's own BN statistics are restored afterwards.
   */
  evaluate(arch: Arch, opts?: EvaluateOptions): EvalResult;
  /**
   * Standalone TF.js LayersModel of `arch` with inherited (and, unless `recalibrate` is false,
   * BN-recalibrated) weights: `model.json`, `weights.bin`, `arch.json` (architecture and cost).
   */
  exportSubnet(arch: Arch, opts?: { recalibrate?: boolean }): Promise<{ files: ExportedFileData[]; cost: Cost }>;
  /** Writes weights, optimiser state, step, data-stream and RNG state plus `extra` to `dir` atomically. */
  saveCheckpoint(dir: string, extra: unknown): Promise<void>;
  /**
   * Restores the latest checkpoint in `dir`; returns its `extra`, or undefined when there is none.
   * With none, and `dir/inherit` (INHERIT_DIR) prepared for a retrained subnet, the supernet starts
   * from the subnet's sliced source weights with recalibrated BN statistics (step 0 still).
   */
  loadCheckpoint(dir: string): Promise<unknown>;
  /**
   * Measures, on this host and backend, every layer shape of the space (batch 1, median of
   * `repeats`), makes the space's `cost().latency` sum the table and returns it (ms per `latencyKey`).
   */
  measureLatencyTable(opts?: { repeats?: number }): Record<string, number>;
  /** Live tensors and bytes of this thread's TensorFlow.js engine. */
  memory(): { numTensors: number; numBytes: number };
  dispose(): void;
}

/** Options of `EngineRuntime.evaluate`. */
export interface EvaluateOptions {
  /** Test-split examples to use (default all). */
  maxExamples?: number;
  /** Recalibrate the subnet's BN statistics first (default true); restored afterwards. */
  recalibrate?: boolean;
  /** One batch already in the engine (the caller disposes it). */
  batch?: Batch;
  /**
   * An inline batch as it arrived, converted and evaluated `chunkImages` images at a time, so its
   * size is bounded by the request rather than by what one forward pass can hold.
   */
  inline?: { images: RawTensor; labels: RawTensor; chunkImages: number };
}
