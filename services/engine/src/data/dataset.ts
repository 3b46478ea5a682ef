import { InvalidArgumentError } from '@supernetd/sdk';

/**
 * A labelled image set: `count` examples drawn, in this dataset's order, from the pixels of a
 * source split, which stay as the reader produced them (uint8, scaled by 1/255 when an image is
 * read, or float32 used as they are), NHWC. Example k is source example `index[k]` with label
 * `labels[k]` in [0, numClasses). Datasets returned by `loadDataset` share their `pixels` with every
 * other dataset of the same source in the process (SharedArrayBuffer memory), and `subset` shares
 * `index` and `labels` too: treat them as read-only. Read images with `copyImage` or `imagesOf`.
 */
export interface ArrayDataset {
  pixels: Uint8Array | Float32Array;
  index: Int32Array;
  labels: Int32Array;
  count: number;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  numClasses: number;
}

/** v / 255 as float32, for v in 0..255: the value a uint8 pixel is read as. */
export const UINT8_SCALE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Writes example `k` of `ds` as float32 into `out` at `offset` (H*W*C values). */
export function copyImage(ds: ArrayDataset, k: number, out: Float32Array, offset: number): void {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const src = (ds.index[k] as number) * size;
  const px = ds.pixels;
  if (px instanceof Float32Array) {
    out.set(px.subarray(src, src + size), offset);
    return;
  }
  for (let j = 0; j < size; j++) out[offset + j] = UINT8_SCALE[px[src + j] as number] as number;
}

/** Examples [start, start + count) of `ds` as one dense float32 NHWC array (a copy). */
export function imagesOf(ds: ArrayDataset, start = 0, count = ds.count - start): Float32Array {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const out = new Float32Array(count * size);
  for (let k = 0; k < count; k++) copyImage(ds, start + k, out, k * size);
  return out;
}

/**
 * One split as a reader produced it, before ordering and scaling: uint8 pixels (scaled by 1/255
 * later) or float32 pixels (used as they are), NHWC.
 */
export interface RawSplit {
  pixels: Uint8Array | Float32Array;
  labels: Int32Array;
  count: number;
  shape: [number, number, number];
}

/** InvalidArgumentError with reason INVALID_DATASET. */
export function datasetError(message: string): InvalidArgumentError {
  return new InvalidArgumentError(message, 'INVALID_DATASET');
}

/**
 * A view of `count` examples from `start` (no copy: shares memory with `ds`), e.g. a held-out
 * validation slice. Throws InvalidArgumentError (INVALID_ARGUMENT) when the range is outside `ds`.
 */
export function subset(ds: ArrayDataset, start: number, count: number): ArrayDataset {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > ds.count) {
    throw new InvalidArgumentError(`subset [${start}, ${start}+${count}) is outside the dataset of ${ds.count} examples`);
  }
  return {
    pixels: ds.pixels,
    index: ds.index.subarray(start, start + count),
    labels: ds.labels.subarray(start, start + count),
    count,
    shape: [...ds.shape],
    numClasses: ds.numClasses,
  };
}
