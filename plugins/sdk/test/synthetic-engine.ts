// A SupernetEngine for the sdk's own search tests whose "accuracy" is a formula of the subnet, so
// a search's answer can be known in advance. It serves only what a search uses (batches to hand
// around and dispose, BN recalibration, evaluation); training calls throw.
import type * as tfc from '@tensorflow/tfjs-core';
import type { Arch, Batch, EvalResult, Network, SearchSpaceView, SupernetEngine } from '../src/index.ts';

/** A stand-in tensor that only counts its disposals. */
class CountedTensor {
  disposals = 0;
  dispose(): void {
    this.disposals++;
  }
}

export interface EvaluateCall {
  arch: Arch;
  /** Number of batches the subnet was evaluated on. */
  batches: number;
  /** The recalibration batches used right before this evaluation (undefined: none). */
  recalibratedWith: readonly Batch[] | undefined;
}

/** `fitness(arch, batches)` gives the accuracy of `arch` measured on `batches` batches. */
type BlockRange = Parameters<SupernetEngine['recalibrateBN']>[4];

export type SyntheticFitness = (arch: Arch, batches: number) => number;

export class SyntheticEngine implements SupernetEngine {
  readonly backend = 'synthetic';
  readonly supernet: Network;
  readonly evaluations: EvaluateCall[] = [];
  readonly recalibrations: { arch: Arch; batches: readonly Batch[]; mode: string; range: BlockRange | undefined }[] = [];
  private readonly tensors: CountedTensor[] = [];
  private lastRecal: readonly Batch[] | undefined;

  constructor(
    space: SearchSpaceView,
    private readonly fitness: SyntheticFitness,
    readonly batchSize = 64,
  ) {
    this.supernet = {
      id: 'supernet',
      space,
      forward: () => {
        throw new Error('the synthetic engine runs no network');
      },
      variableNames: () => [],
    };
  }

  get tf(): typeof tfc {
    throw new Error('the synthetic engine has no TensorFlow.js');
  }

  private batch(): Batch {
    const x = new CountedTensor();
    const y = new CountedTensor();
    this.tensors.push(x, y);
    return { x, y } as unknown as Batch;
  }

  /** Batches handed out, and how many of their tensors were disposed exactly once / more than once. */
  disposal(): { handedOut: number; disposedOnce: number; disposedTwice: number } {
    return {
      handedOut: this.tensors.length / 2,
      disposedOnce: this.tensors.filter((t) => t.disposals === 1).length / 2,
      disposedTwice: this.tensors.filter((t) => t.disposals > 1).length,
    };
  }

  trainBatches(n: number): Batch[] {
    return Array.from({ length: n }, () => this.batch());
  }

  validationBatches(n: number): Batch[] {
    return Array.from({ length: n }, () => this.batch());
  }

  recalibrateBN(network: Network, arch: Arch, batches: readonly Batch[], mode: 'cumulative' | 'lastBatch', range?: BlockRange): void {
    if (network !== this.supernet) throw new Error('recalibrateBN on another network');
    this.recalibrations.push({ arch, batches, mode, range });
    this.lastRecal = batches;
  }

  evaluate(network: Network, arch: Arch, batches: readonly Batch[]): EvalResult {
    if (network !== this.supernet) throw new Error('evaluate on another network');
    network.space.validateArch(arch);
    this.evaluations.push({ arch, batches: batches.length, recalibratedWith: this.lastRecal });
    this.lastRecal = undefined;
    const accuracy = this.fitness(arch, batches.length);
    return { accuracy, loss: 1 - accuracy, examples: batches.length * this.batchSize };
  }

  auxNetwork(): Network {
    throw new Error('the synthetic engine has no auxiliary networks');
  }
  ce(): tfc.Scalar {
    throw new Error('the synthetic engine does not train');
  }
  kl(): tfc.Scalar {
    throw new Error('the synthetic engine does not train');
  }
  mse(): tfc.Scalar {
    throw new Error('the synthetic engine does not train');
  }
  step(): { loss: number; learningRate: number } {
    throw new Error('the synthetic engine does not train');
  }
  setOptimizer(): void {
    throw new Error('the synthetic engine does not train');
  }
  learningRate(): number {
    throw new Error('the synthetic engine does not train');
  }
}
