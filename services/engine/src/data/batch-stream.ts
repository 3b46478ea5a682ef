import type * as tfc from '@tensorflow/tfjs-core';
import { InvalidArgumentError, Rng, type Batch } from '@supernetd/sdk';
import { copyImage, UINT8_SCALE, type ArrayDataset } from './dataset.ts';
import { shuffleInPlace } from './load-dataset.ts';

/** Zero padding of the random-crop augmentation, in pixels per side. */
export const CROP_PADDING = 2;

/** Serialised position of a BatchStream (JSON-safe). */
export interface BatchStreamState {
  v: 1;
  seed: number;
  count: number;
  /** Epochs started so far (the permutation in use is the one of epoch `epoch - 1`; 0 = none yet). */
  epoch: number;
  /** Next position in the current epoch's permutation. */
  cursor: number;
  /** State of the augmentation generator. */
  augRng: [number, number, number, number];
}

/**
 * An endless stream of fixed-size batches: each epoch is a new permutation of the dataset drawn from
 * `seed` and the epoch number. Batches WRAP across epochs: a batch that reaches the end of an epoch
 * is completed from the start of the next epoch's permutation, so no example is dropped, every
 * batch has exactly `batchSize` examples, and `batchSize` may exceed the dataset size.
 *
 * With `augment`, each image is randomly cropped back to its size after 2-pixel zero padding
 * (a shift of -2..2 pixels per axis) and, when `flip` is set too (CIFAR, not digits), mirrored
 * left-right with probability 1/2. Augmentation runs in JS before the one tensor4d per batch.
 */
export class BatchStream {
  /** Batches per pass over the data: ceil(count / batchSize). */
  readonly stepsPerEpoch: number;
  private readonly ds: ArrayDataset;
  private readonly batchSize: number;
  private readonly augment: boolean;
  private readonly flip: boolean;
  private seed: number;
  private epoch = 0;
  private cursor = 0;
  private perm = new Int32Array(0);
  private augRng: Rng;

  /** Throws InvalidArgumentError when `batchSize` is not a positive integer or `ds` is empty. */
  constructor(ds: ArrayDataset, opts: { batchSize: number; seed: number; augment: boolean; flip?: boolean }) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) {
      throw new InvalidArgumentError(`batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    if (ds.count <= 0) throw new InvalidArgumentError('cannot stream batches from an empty dataset', 'INVALID_DATASET');
    this.ds = ds;
    this.batchSize = opts.batchSize;
    this.augment = opts.augment;
    this.flip = opts.flip ?? false;
    this.seed = opts.seed;
    this.augRng = new Rng(`batch-stream-augment:${opts.seed}`);
    this.stepsPerEpoch = Math.ceil(ds.count / opts.batchSize);
  }

  /** Next batch: x float32 [batchSize,H,W,C], y int32 [batchSize]. The caller disposes both. */
  next(tf: typeof tfc): Batch {
    const { batchSize, ds } = this;
    const [h, w, c] = ds.shape;
    const size = h * w * c;
    const x = new Float32Array(batchSize * size);
    const y = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      if (this.epoch === 0 || this.cursor >= ds.count) this.startEpoch(this.epoch + 1);
      const i = this.perm[this.cursor++] as number;
      y[b] = ds.labels[i] as number;
      if (this.augment) this.augmentInto(x, b * size, i);
      else copyImage(ds, i, x, b * size);
    }
    return { x: tf.tensor4d(x, [batchSize, h, w, c], 'float32'), y: tf.tensor1d(y, 'int32') };
  }

  /** The stream's position, for checkpoints (JSON-safe). */
  state(): BatchStreamState {
    return { v: 1, seed: this.seed, count: this.ds.count, epoch: this.epoch, cursor: this.cursor, augRng: unsignedState(this.augRng) };
  }

  /**
   * Restores a position from `state()` (of a stream over the same dataset; its seed is adopted), so
   * the following batches equal those the saved stream would have produced. Throws
   * InvalidArgumentError when `s` is malformed or was saved for a dataset of another size.
   */
  setState(s: unknown): void {
    const st = s as Partial<BatchStreamState> | null;
    const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
    if (
      typeof st !== 'object' || st === null || st.v !== 1 || typeof st.seed !== 'number' || !isCount(st.count) ||
      !isCount(st.epoch) || !isCount(st.cursor) || !Array.isArray(st.augRng)
    ) {
      throw new InvalidArgumentError('malformed batch stream state');
    }
    if (st.count !== this.ds.count) {
      throw new InvalidArgumentError(`batch stream state is for a dataset of ${st.count} examples, this one has ${this.ds.count}`);
    }
    if (st.cursor > st.count || (st.epoch === 0 && st.cursor !== 0)) throw new InvalidArgumentError('malformed batch stream state');
    const aug = new Rng(0);
    try {
      aug.setState(st.augRng.map((x: unknown) => (Number.isInteger(x) && (x as number) >= -0x80000000 ? (x as number) >>> 0 : Number.NaN)));
    } catch {
      throw new InvalidArgumentError('malformed batch stream state');
    }
    this.seed = st.seed;
    this.augRng = aug;
    this.epoch = 0;
    if (st.epoch > 0) this.startEpoch(st.epoch);
    this.cursor = st.cursor;
  }

  /** Epoch e's permutation depends only on (seed, e), so a restore regenerates it instead of storing it. */
  private startEpoch(e: number): void {
    if (this.perm.length !== this.ds.count) this.perm = new Int32Array(this.ds.count);
    for (let i = 0; i < this.perm.length; i++) this.perm[i] = i;
    shuffleInPlace(this.perm, new Rng(`batch-stream-epoch:${this.seed}:${e}`));
    this.epoch = e;
    this.cursor = 0;
  }

  /** Pad-by-2, random crop, optional mirror of example `k` into `out` at `dst`. */
  private augmentInto(out: Float32Array, dst: number, k: number): void {
    const [h, w, c] = this.ds.shape;
    const src = (this.ds.index[k] as number) * h * w * c;
    const span = 2 * CROP_PADDING + 1;
    const dy = this.augRng.int(span) - CROP_PADDING;
    const dx = this.augRng.int(span) - CROP_PADDING;
    const mirror = this.flip && this.augRng.next() < 0.5;
    const img = this.ds.pixels;
    const bytes = img instanceof Uint8Array;
    for (let yy = 0; yy < h; yy++) {
      const sy = yy + dy;
      const rowOut = dst + yy * w * c;
      if (sy < 0 || sy >= h) continue; // rows of the zero padding (out is zero-initialised)
      for (let xx = 0; xx < w; xx++) {
        const sx = (mirror ? w - 1 - xx : xx) + dx;
        if (sx < 0 || sx >= w) continue;
        const o = rowOut + xx * c;
        const p = src + (sy * w + sx) * c;
        if (bytes) for (let j = 0; j < c; j++) out[o + j] = UINT8_SCALE[img[p + j] as number] as number;
        else for (let j = 0; j < c; j++) out[o + j] = img[p + j] as number;
      }
    }
  }
}

/**
 * Rng.state() can return a negative word (sfc32 keeps `a` as a signed int32) that Rng.setState
 * rejects; the generator only uses `a` modulo 2^32, so the unsigned form is the same state.
 */
function unsignedState(rng: Rng): [number, number, number, number] {
  return rng.state().map((x) => x >>> 0) as [number, number, number, number];
}
