import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Arch, Batch, Cost, EvalResult } from '@supernetd/sdk';
import { initBackend } from '../backend/select-backend.ts';
import { BatchStream, imagesOf, loadDataset, subset } from '../data/index.ts';
import type { ArrayDataset } from '../data/index.ts';
import type { EngineRuntime, EngineRuntimeOptions, EvaluateOptions, ExportedFileData, RawTensor } from '../runtime-types.ts';
import { resolveSpace } from '../space/index.ts';
import type { ResolvedSpace } from '../space/index.ts';
import { Engine } from '../training/engine.ts';
import { batchFromRaw, sliceRawBatch } from './raw-batch.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { exportSubnet } from './export-subnet.ts';
import { INHERIT_DIR, inheritSubnetWeights } from './inherit-weights.ts';
import { measureLatencyTable } from '../network/latency-table.ts';

/** Batches of the PSS-Net recalibration procedure (ComputePostBN: 9 batches, cumulative). */
export const RECALIBRATION_BATCHES = 9;
/** Largest share of the train split held out for `validationBatches`. */
const HOLDOUT_FRACTION = 0.1;
const HOLDOUT_MAX = 5000;
const EVAL_CHUNK = 500;

/**
 * Builds an experiment's engine: activates the backend, loads the dataset, resolves the space
 * (as `resolveSpace` does for the server), creates the supernet and optimiser.
 * Throws InvalidArgumentError for a bad space, dataset or optimiser configuration, or when the
 * space's input shape or classes contradict the dataset.
 */
export async function createEngineRuntime(opts: EngineRuntimeOptions): Promise<EngineRuntime> {
  const backend = await initBackend(opts.backend ?? 'auto', opts.threads !== undefined ? { threads: opts.threads } : {});
  const { training } = opts;
  if (!Number.isInteger(training.batchSize) || training.batchSize <= 0) {
    throw new InvalidArgumentError(`training.batchSize must be a positive integer, got ${training.batchSize}`);
  }
  if (!Number.isInteger(training.totalSteps) || training.totalSteps <= 0) {
    throw new InvalidArgumentError(`training.totalSteps must be a positive integer, got ${training.totalSteps}`);
  }
  const data = await loadDataset(training.dataset, training.seed);
  // Resolved exactly as the server resolves it on its RPC thread, so both see the same costs.
  const space = resolveSpace(opts.space, opts.latencyTable ? { latencyTable: opts.latencyTable } : {});
  if (space.inputShape.join() !== data.train.shape.join()) {
    throw new InvalidArgumentError(
      `search space input [${space.inputShape.join(', ')}] does not match the dataset's images [${data.train.shape.join(', ')}]; set the space override inputShape`,
      'INVALID_SEARCH_SPACE',
    );
  }
  if (space.numClasses < data.train.numClasses) {
    throw new InvalidArgumentError(
      `search space has ${space.numClasses} classes, the dataset ${data.train.numClasses}; set the space override numClasses`,
      'INVALID_SEARCH_SPACE',
    );
  }
  return new Runtime(opts, backend, space, data.train, data.test);
}

class Runtime implements EngineRuntime {
  readonly engine: Engine;
  readonly space: ResolvedSpace;
  readonly stepsPerEpoch: number;
  private readonly opts: EngineRuntimeOptions;
  private readonly stream: BatchStream;
  private readonly trainSet: ArrayDataset;
  private readonly holdout: ArrayDataset;
  private readonly test: ArrayDataset;

  constructor(opts: EngineRuntimeOptions, backend: string, space: ResolvedSpace, train: ArrayDataset, test: ArrayDataset) {
    this.opts = opts;
    this.space = space;
    this.test = test;
    const hold = train.count >= 20 ? Math.min(HOLDOUT_MAX, Math.floor(train.count * HOLDOUT_FRACTION)) : 0;
    this.trainSet = subset(train, 0, train.count - hold);
    // A tiny dataset has nothing to spare: validation then reuses the training examples.
    this.holdout = hold > 0 ? subset(train, train.count - hold, hold) : train;
    const t = opts.training;
    this.stream = new BatchStream(this.trainSet, {
      batchSize: t.batchSize,
      seed: t.seed,
      augment: t.dataset.augment ?? false,
      flip: space.inputShape[2] === 3,
    });
    this.stepsPerEpoch = this.stream.stepsPerEpoch;
    this.engine = new Engine({
      tf,
      backend,
      space,
      optimizer: t.optimizer,
      totalSteps: t.totalSteps,
      seed: t.seed,
      batchSize: t.batchSize,
      data: {
        trainBatches: (n) => this.batches(n, () => this.stream.next(tf)),
        validationBatches: (n) => {
          const s = new BatchStream(this.holdout, { batchSize: t.batchSize, seed: t.seed, augment: false });
          return this.batches(n, () => s.next(tf));
        },
      },
    });
  }

  get step(): number {
    return this.engine.stepCount;
  }

  private batches(n: number, next: () => Batch): Batch[] {
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`batch count must be a non-negative integer, got ${n}`);
    return Array.from({ length: n }, next);
  }

  nextTrainBatch(): Batch {
    return this.stream.next(tf);
  }

  batchFromRaw(images: RawTensor, labels: RawTensor): Batch {
    return batchFromRaw(tf, images, labels, this.space.inputShape, this.space.numClasses);
  }

  /** The fixed training batches BN recalibration uses (independent of the training stream). */
  recalibrationBatches(): Batch[] {
    const t = this.opts.training;
    const s = new BatchStream(this.trainSet, { batchSize: t.batchSize, seed: t.seed + 1, augment: false });
    return this.batches(RECALIBRATION_BATCHES, () => s.next(tf));
  }

  /**
   * Recalibrates `arch`'s BN (PSS procedure) and returns the function that restores the supernet's
   * statistics; with `recalibrate` false, changes nothing.
   */
  private recalibrateFor(arch: Arch, recalibrate: boolean): () => void {
    if (!recalibrate) return () => undefined;
    const net = this.engine.supernet;
    const snap = net.snapshotBatchNorm();
    const restore = () => net.restoreBatchNorm(snap);
    const batches = this.recalibrationBatches();
    try {
      this.engine.recalibrateBN(net, arch, batches, 'cumulative');
    } catch (e) {
      restore();
      throw e;
    } finally {
      for (const b of batches) tf.dispose([b.x, b.y]);
    }
    return restore;
  }

  evaluate(arch: Arch, opts: EvaluateOptions = {}): EvalResult {
    this.space.validateArch(arch);
    const max = opts.maxExamples ?? this.test.count;
    if (!Number.isInteger(max) || max <= 0) throw new InvalidArgumentError(`maxExamples must be a positive integer, got ${max}`);
    const restore = this.recalibrateFor(arch, opts.recalibrate ?? true);
    try {
      if (opts.batch) return this.engine.evaluate(this.engine.supernet, arch, [opts.batch]);
      if (opts.inline) return this.evaluateInline(arch, opts.inline);
      const total = Math.min(max, this.test.count);
      const [h, w, c] = this.test.shape;
      let acc = 0;
      let loss = 0;
      for (let start = 0; start < total; start += EVAL_CHUNK) {
        const part = subset(this.test, start, Math.min(EVAL_CHUNK, total - start));
        const b: Batch = { x: tf.tensor4d(imagesOf(part), [part.count, h, w, c]), y: tf.tensor1d(part.labels, 'int32') };
        try {
          const r = this.engine.evaluate(this.engine.supernet, arch, [b]);
          acc += r.accuracy * r.examples;
          loss += r.loss * r.examples;
        } finally {
          tf.dispose([b.x, b.y]);
        }
      }
      return { accuracy: acc / total, loss: loss / total, examples: total };
    } finally {
      restore();
    }
  }

  /** An inline batch, converted and evaluated in chunks (each validated as it is converted). */
  private evaluateInline(arch: Arch, inline: NonNullable<EvaluateOptions['inline']>): EvalResult {
    let correct = 0;
    let loss = 0;
    let examples = 0;
    for (const part of sliceRawBatch(inline.images, inline.labels, inline.chunkImages)) {
      const b = this.batchFromRaw(part.images, part.labels);
      try {
        const r = this.engine.evaluate(this.engine.supernet, arch, [b]);
        correct += r.accuracy * r.examples;
        loss += r.loss * r.examples;
        examples += r.examples;
      } finally {
        tf.dispose([b.x, b.y]);
      }
    }
    return { accuracy: examples ? correct / examples : 0, loss: examples ? loss / examples : 0, examples };
  }

  async exportSubnet(arch: Arch, opts: { recalibrate?: boolean } = {}): Promise<{ files: ExportedFileData[]; cost: Cost }> {
    this.space.validateArch(arch);
    const restore = this.recalibrateFor(arch, opts.recalibrate ?? true);
    try {
      return await exportSubnet(tf, this.engine.supernet, arch);
    } finally {
      restore();
    }
  }

  saveCheckpoint(dir: string, extra: unknown): Promise<void> {
    return saveCheckpoint(dir, { engine: this.engine, stream: this.stream.state(), extra });
  }

  async loadCheckpoint(dir: string): Promise<unknown> {
    const loaded = await loadCheckpoint(dir, this.engine);
    if (!loaded) {
      await this.inherit(path.join(dir, INHERIT_DIR));
      return undefined;
    }
    this.stream.setState(loaded.stream);
    return loaded.extra;
  }

  /**
   * A retrained subnet's start (ExperimentSpec.retrain, INHERITED): with no checkpoint of its own,
   * the supernet takes the subnet's weights from the source checkpoint copied into `dir`, then its
   * BN statistics are recalibrated for its one subnet on the recalibration batches (the procedure
   * Evaluate runs), not copied from the source supernet, whose statistics belong to no one subnet.
   */
  private async inherit(dir: string): Promise<void> {
    const net = this.engine.supernet;
    const inherited = await inheritSubnetWeights(tf, dir, net);
    if (!inherited) return;
    const batches = this.recalibrationBatches();
    try {
      this.engine.recalibrateBN(net, this.space.maxArch(), batches, 'cumulative');
    } finally {
      for (const b of batches) tf.dispose([b.x, b.y]);
    }
  }

  measureLatencyTable(opts: { repeats?: number } = {}): Record<string, number> {
    const archs = [...new Set([...this.space.latencyShapes().values()].map((v) => v.arch))];
    const table = measureLatencyTable(this.engine.supernet, archs, opts.repeats !== undefined ? { repeats: opts.repeats } : {});
    this.space.useLatencyTable(table);
    return table;
  }

  memory(): { numTensors: number; numBytes: number } {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  }

  dispose(): void {
    this.engine.dispose();
  }
}
