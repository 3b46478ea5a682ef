import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetError, type RawSplit } from './dataset.ts';
import { readDatasetFile, requireDirectory } from './dataset-files.ts';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;
const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
const TEST_FILES = ['test_batch.bin'];
/** CIFAR-10 has ten classes. */
export const CIFAR10_CLASSES = 10;

/**
 * Reads the CIFAR-10 binary version: `data_batch_1.bin`..`data_batch_5.bin` and `test_batch.bin`
 * in `path` or in its `cifar-10-batches-bin` subdirectory (as the archive unpacks). Each record is
 * one label byte and 3072 bytes of 32x32 image in CHW order; pixels come out HWC.
 * Throws InvalidArgumentError (INVALID_DATASET) naming the file on a missing file, a size that is
 * not a whole number of records, or a label outside 0..9.
 */
export async function readCifar10(path: string | undefined): Promise<{ train: RawSplit; test: RawSplit }> {
  let dir = await requireDirectory(path, 'cifar10');
  const nested = join(dir, 'cifar-10-batches-bin');
  if (!(await stat(join(dir, TRAIN_FILES[0] as string)).catch(() => undefined)) && (await stat(nested).catch(() => undefined))?.isDirectory()) {
    dir = nested;
  }
  const [train, test] = await Promise.all([readFiles(dir, TRAIN_FILES), readFiles(dir, TEST_FILES)]);
  return { train, test };
}

async function readFiles(dir: string, names: readonly string[]): Promise<RawSplit> {
  const files = await Promise.all(names.map((n) => readDatasetFile(dir, [n], false)));
  for (const f of files) {
    if (f.data.length === 0 || f.data.length % RECORD !== 0) {
      throw datasetError(
        `CIFAR-10 file '${f.file}' is truncated: ${f.data.length} bytes is not a whole number of ${RECORD}-byte records`,
      );
    }
  }
  const count = files.reduce((s, f) => s + f.data.length / RECORD, 0);
  const pixels = new Uint8Array(count * 3 * PLANE);
  const labels = new Int32Array(count);
  let n = 0;
  for (const f of files) {
    const records = f.data.length / RECORD;
    for (let r = 0; r < records; r++, n++) {
      const base = r * RECORD;
      const label = f.data[base] as number;
      if (label >= CIFAR10_CLASSES) throw datasetError(`CIFAR-10 file '${f.file}' record ${r} has label ${label}, expected 0..9`);
      labels[n] = label;
      const out = n * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        pixels[out + 3 * p] = f.data[base + 1 + p] as number;
        pixels[out + 3 * p + 1] = f.data[base + 1 + PLANE + p] as number;
        pixels[out + 3 * p + 2] = f.data[base + 1 + 2 * PLANE + p] as number;
      }
    }
  }
  return { pixels, labels, count, shape: [SIDE, SIDE, 3] };
}
