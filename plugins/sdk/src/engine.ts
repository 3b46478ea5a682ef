import type * as tfc from '@tensorflow/tfjs-core';
import type { Arch } from './arch.ts';
import type { SearchSpaceView } from './space.ts';

/** A labelled minibatch. `x` is float32 NHWC at the dataset's resolution, `y` int32 class labels [N]. */
export interface Batch {
  x: tfc.Tensor4D;
  y: tfc.Tensor1D;
}

export interface ForwardOptions {
  /** Training mode: batch norm uses batch statistics and updates its running statistics. */
  training: boolean;
  /**
   * Run only blocks fromBlock..toBlock (block indices, inclusive). When fromBlock > 0 the input is the
   * feature map that enters block `fromBlock` (DNA feeds the teacher's previous feature map); when
   * toBlock is set the output is that block's feature map instead of logits.
   */
  fromBlock?: number;
  toBlock?: number;
}

/** One network held by the engine: the supernet, or an auxiliary one such as DNA's teacher. */
export interface Network {
  readonly id: string;
  readonly space: SearchSpaceView;
  /** Forward pass of subnet `arch` (weights sliced from the shared ones). Call inside tidy or a loss closure. */
  forward(arch: Arch, x: tfc.Tensor4D, opts: ForwardOptions): tfc.Tensor;
  /** Names of trainable variables, all or only those of the given block indices. */
  variableNames(blocks?: readonly number[]): string[];
}

export interface OptimizerConfig {
  kind: 'sgd' | 'adam';
  learningRate: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  schedule?: 'cosine' | 'step' | 'constant';
  warmupSteps?: number;
  stepSize?: number;
  gamma?: number;
  /** Steps over which the schedule runs. */
  totalSteps?: number;
}

export interface EvalResult {
  accuracy: number;
  loss: number;
  examples: number;
}

/**
 * What a strategy may do with tensors. Implemented by services/engine and handed to
 * `SearchStrategy.trainStep`/`search` inside the engine's worker thread.
 * Tensor rules: every tensor a strategy creates is disposed by it (use `tf.tidy`); batches
 * returned by `trainBatches`/`validationBatches` belong to the caller.
 */
export interface SupernetEngine {
  /** The TensorFlow.js core instance the engine runs on; strategies must use this one. */
  readonly tf: typeof tfc;
  /** Backend name: `tensorflow`, `wasm` or `cpu`. */
  readonly backend: string;
  /** The weight-sharing supernet. */
  readonly supernet: Network;
  /** Examples per training and validation batch. */
  readonly batchSize: number;
  /**
   * Returns the auxiliary network `id`, creating it on first use from a search-space preset name
   * (or a full space definition). Its weights are saved in checkpoints with the supernet's.
   */
  auxNetwork(id: string, preset: string | Record<string, unknown>): Network;

  /** Mean softmax cross-entropy with optional label smoothing. */
  ce(logits: tfc.Tensor, labels: tfc.Tensor1D, labelSmoothing?: number): tfc.Scalar;
  /** KL(softmax(teacher) || softmax(student)), batch mean, T = 1; the teacher side is a stop-gradient. */
  kl(studentLogits: tfc.Tensor, teacherLogits: tfc.Tensor): tfc.Scalar;
  /** Mean squared error. */
  mse(a: tfc.Tensor, b: tfc.Tensor): tfc.Scalar;

  /**
   * One optimiser step: gradient of `loss()` with respect to `variables` (default: every supernet
   * variable), weight decay on non-depthwise conv and FC weights only, learning rate from the
   * schedule. Batch-norm running statistics of training-mode forwards inside `loss` are updated too.
   */
  step(loss: () => tfc.Scalar, opts?: { variables?: readonly string[] }): { loss: number; learningRate: number };
  /** Replaces the optimiser (and its state), e.g. DNA's fresh Adam per block phase. */
  setOptimizer(cfg: OptimizerConfig): void;
  /** The learning rate the next step will use. */
  learningRate(): number;

  /**
   * Resets and re-estimates batch-norm statistics of `arch` by forwarding training batches. With
   * `range`, the batches' `x` is the feature map entering block `fromBlock` and only blocks
   * fromBlock..toBlock run (DNA's BN correction of one block on the teacher's features). Every
   * engine must honour `range`; callers rely on it without testing for it.
   */
  recalibrateBN(
    network: Network,
    arch: Arch,
    batches: readonly Batch[],
    mode: 'cumulative' | 'lastBatch',
    range?: { fromBlock?: number; toBlock?: number },
  ): void;
  /** Inference-mode accuracy and mean CE of `arch` over the batches. */
  evaluate(network: Network, arch: Arch, batches: readonly Batch[]): EvalResult;

  /** The next `n` batches of the shuffled training stream (advances it). Caller disposes. */
  trainBatches(n: number): Batch[];
  /**
   * `n` fixed batches held out from training (the same every call), for strategy-side validation
   * and ranking. Caller disposes.
   */
  validationBatches(n: number): Batch[];
}

/**
 * Held-out validation batches covering at least `images` examples (ceil(images / batchSize) batches).
 * Caller disposes.
 */
export function heldOutBatches(engine: SupernetEngine, images: number): Batch[] {
  return engine.validationBatches(Math.max(1, Math.ceil(images / Math.max(1, engine.batchSize))));
}
