import type * as tfc from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Arch, Batch, EvalResult, Network, OptimizerConfig, SupernetEngine } from '@supernetd/sdk';
import { DEFAULT_SPACE_LIMITS, checkSpaceLimits, resolveSpace } from '../space/index.ts';
import type { ResolvedSpace } from '../space/index.ts';
import { Supernet } from '../network/supernet.ts';
import type { NamedVariable } from '../network/supernet.ts';
import { crossEntropy, klDivergence, meanSquaredError } from './losses.ts';
import { Optimizer } from './optimizer.ts';
import { learningRateAt, validateOptimizerConfig } from './schedule.ts';

/** Where the engine draws batches from (the runtime's streams). */
export interface BatchSource {
  trainBatches(n: number): Batch[];
  validationBatches(n: number): Batch[];
}

/** How an auxiliary network was created, so a checkpoint can recreate it. */
export interface AuxSpec {
  id: string;
  preset: string | Record<string, unknown>;
}

export interface EngineOptions {
  tf: typeof tfc;
  backend: string;
  space: ResolvedSpace;
  optimizer: OptimizerConfig;
  totalSteps: number;
  seed: number;
  /** Examples per batch of the data source. */
  batchSize: number;
  data: BatchSource;
  bnMomentum?: number;
}

/** Id of the supernet; auxiliary networks may not use it. */
export const SUPERNET_ID = 'supernet';

/**
 * The SupernetEngine strategies drive: networks, losses, one optimiser with its schedule, BN
 * recalibration and evaluation. Every method leaves the number of live tensors unchanged except
 * where it hands tensors to the caller (batches).
 */
export class Engine implements SupernetEngine {
  readonly tf: typeof tfc;
  readonly backend: string;
  readonly supernet: Supernet;
  readonly batchSize: number;
  /** Optimiser steps taken. */
  stepCount = 0;
  /** Step at which the current optimiser (and its schedule) started. */
  optimizerStart = 0;
  private optimizer: Optimizer;
  private readonly aux = new Map<string, { net: Supernet; spec: AuxSpec }>();
  private readonly opts: EngineOptions;

  constructor(opts: EngineOptions) {
    validateOptimizerConfig(opts.optimizer);
    this.opts = opts;
    this.tf = opts.tf;
    this.backend = opts.backend;
    this.batchSize = opts.batchSize;
    this.supernet = new Supernet(opts.tf, SUPERNET_ID, opts.space, { seed: opts.seed, ...(opts.bnMomentum !== undefined ? { bnMomentum: opts.bnMomentum } : {}) });
    this.optimizer = new Optimizer(opts.tf, opts.optimizer);
  }

  /** The supernet and every auxiliary network, supernet first. */
  networks(): Supernet[] {
    return [this.supernet, ...[...this.aux.values()].map((a) => a.net)];
  }

  auxSpecs(): AuxSpec[] {
    return [...this.aux.values()].map((a) => a.spec);
  }

  auxNetwork(id: string, preset: string | Record<string, unknown>): Network {
    const have = this.aux.get(id);
    if (have) return have.net;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(id) || id === SUPERNET_ID) {
      throw new InvalidArgumentError(`auxiliary network id '${String(id)}' must be [A-Za-z0-9_.-]+ and not '${SUPERNET_ID}'`);
    }
    const main = this.opts.space;
    const shape = { inputShape: [...main.inputShape], numClasses: main.numClasses };
    let space: ResolvedSpace;
    if (typeof preset === 'string') {
      space = resolveSpace({ preset, overrides: shape });
    } else if (typeof preset?.preset === 'string') {
      space = resolveSpace({ preset: preset.preset, overrides: { ...shape, ...(preset.overrides as Record<string, unknown> | undefined) } });
    } else {
      space = resolveSpace({ preset: 'custom', overrides: { definition: preset } });
    }
    // An auxiliary network can come from a strategy config (DNA's teacherDefinition): bound it like
    // a search space before anything is allocated (the default limits; the server's own apply to spaces).
    checkSpaceLimits(space, DEFAULT_SPACE_LIMITS, this.batchSize);
    const net = new Supernet(this.tf, id, space, { seed: this.opts.seed, bnMomentum: this.supernet.bnMomentum });
    this.aux.set(id, { net, spec: { id, preset } });
    return net;
  }

  ce(logits: tfc.Tensor, labels: tfc.Tensor1D, labelSmoothing = 0): tfc.Scalar {
    return crossEntropy(this.tf, logits, labels, labelSmoothing);
  }

  kl(studentLogits: tfc.Tensor, teacherLogits: tfc.Tensor): tfc.Scalar {
    return klDivergence(this.tf, studentLogits, teacherLogits);
  }

  mse(a: tfc.Tensor, b: tfc.Tensor): tfc.Scalar {
    return meanSquaredError(this.tf, a, b);
  }

  private findVariable(name: string): NamedVariable {
    for (const net of this.networks()) {
      const v = net.variable(name);
      if (v) {
        if (!v.trainable) throw new InvalidArgumentError(`variable '${name}' is not trainable`);
        return v;
      }
    }
    throw new InvalidArgumentError(`unknown variable '${name}'`);
  }

  step(loss: () => tfc.Scalar, opts?: { variables?: readonly string[] }): { loss: number; learningRate: number } {
    const tf = this.tf;
    const vars = opts?.variables ? opts.variables.map((n) => this.findVariable(n)) : this.supernet.allVariables().filter((v) => v.trainable);
    if (vars.length === 0) throw new InvalidArgumentError('step needs at least one variable');
    const byTfName = new Map(vars.map((v) => [v.variable.name, v]));
    const lr = this.learningRate();
    const value = tf.tidy(() => {
      const { value: l, grads } = tf.variableGrads(loss, vars.map((v) => v.variable));
      const updates = Object.entries(grads).map(([n, grad]) => ({ v: byTfName.get(n) as NamedVariable, grad }));
      this.optimizer.apply(updates, lr);
      return l.dataSync()[0] as number;
    });
    this.stepCount++;
    return { loss: value, learningRate: lr };
  }

  setOptimizer(cfg: OptimizerConfig): void {
    validateOptimizerConfig(cfg);
    this.optimizer.dispose();
    this.optimizer = new Optimizer(this.tf, cfg);
    this.optimizerStart = this.stepCount;
  }

  optimizerState(): Optimizer {
    return this.optimizer;
  }

  learningRate(): number {
    return learningRateAt(this.optimizer.cfg, this.stepCount - this.optimizerStart, this.opts.totalSteps);
  }

  private own(network: Network): Supernet {
    if (network instanceof Supernet && this.networks().includes(network)) return network;
    throw new InvalidArgumentError(`network '${network?.id}' does not belong to this engine`);
  }

  recalibrateBN(
    network: Network,
    arch: Arch,
    batches: readonly Batch[],
    mode: 'cumulative' | 'lastBatch',
    range?: { fromBlock?: number; toBlock?: number },
  ): void {
    const net = this.own(network);
    if (batches.length === 0) throw new InvalidArgumentError('recalibrateBN needs at least one batch');
    if (mode !== 'cumulative' && mode !== 'lastBatch') throw new InvalidArgumentError(`unknown BN recalibration mode '${String(mode)}'`);
    net.space.validateArch(arch);
    net.resetBatchNorm();
    const used = mode === 'lastBatch' ? batches.slice(-1) : batches;
    try {
      used.forEach((b, t) => {
        net.momentumOverride = mode === 'lastBatch' ? 1 : 1 / (t + 1);
        this.tf.tidy(() => {
          net.forward(arch, b.x, { training: true, ...range });
        });
      });
    } finally {
      net.momentumOverride = undefined;
    }
  }

  evaluate(network: Network, arch: Arch, batches: readonly Batch[]): EvalResult {
    const net = this.own(network);
    let correct = 0;
    let lossSum = 0;
    let examples = 0;
    for (const b of batches) {
      const [c, l] = this.tf.tidy(() => {
        const logits = net.forward(arch, b.x, { training: false }) as tfc.Tensor2D;
        const hits = this.tf.sum(this.tf.cast(this.tf.equal(this.tf.argMax(logits, 1), this.tf.cast(b.y, 'int32')), 'float32'));
        const ce = crossEntropy(this.tf, logits, b.y);
        return [hits.dataSync()[0] as number, ce.dataSync()[0] as number];
      });
      const n = b.y.shape[0];
      correct += c;
      lossSum += l * n;
      examples += n;
    }
    return { accuracy: examples ? correct / examples : 0, loss: examples ? lossSum / examples : 0, examples };
  }

  trainBatches(n: number): Batch[] {
    return this.opts.data.trainBatches(n);
  }

  validationBatches(n: number): Batch[] {
    return this.opts.data.validationBatches(n);
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const net of this.networks()) net.dispose();
    this.aux.clear();
  }
}
