import { InvalidArgumentError } from '@supernetd/sdk';

/**
 * A labelled image set in memory. `images` is N*H*W*C float32 in NHWC order with values in [0, 1]
 * (float files are used as they are); `labels` are class indices in [0, numClasses).
 * Datasets returned by `loadDataset` and `subset` may share memory: treat them as read-only.
 */
export interface ArrayDataset {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  numClasses: number;
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
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return {
    images: ds.images.subarray(start * size, (start + count) * size),
    labels: ds.labels.subarray(start, start + count),
    count,
    shape: [...ds.shape],
    numClasses: ds.numClasses,
  };
}
