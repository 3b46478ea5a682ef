import { Rng } from '@supernetd/sdk';
import type { DatasetSpec } from '../runtime-types.ts';
import { CIFAR10_CLASSES, readCifar10 } from './cifar10-reader.ts';
import { datasetError, type ArrayDataset, type RawSplit } from './dataset.ts';
import { loadFashionMnist } from './fashion-mnist.ts';
import { readIdx } from './idx-reader.ts';
import { readNpy } from './npy-reader.ts';
import { sharedSource, sourceKey, type SharedDataset } from './shared-datasets.ts';

/** Names accepted as `DatasetSpec.name` when `format` is not set. */
export const BUILTIN_DATASETS = ['fashion-mnist'] as const;

/**
 * Loads the train and test splits of `spec`: the built-in `fashion-mnist` (60,000/10,000, a fixed
 * split independent of `seed`), or files at `spec.path` in the `idx`, `cifar10` or `npy` format.
 *
 * Each split is put in a seeded order: shuffled with `seed`, then interleaved class by class
 * (round robin over the classes in label order), so every prefix and every contiguous `subset` of
 * a balanced dataset is class-balanced. `maxTrainExamples`/`maxTestExamples` (0 or unset = all)
 * keep that many examples from the front of this order, so small runs still see every class.
 * `numClasses` is 10 for fashion-mnist and CIFAR-10, else the largest label of both splits + 1.
 *
 * The source's pixels are read once per process and shared (see shared-datasets.ts): the datasets
 * returned hold the source's pixels and only their own order and labels (8 bytes per example).
 *
 * Throws InvalidArgumentError with reason INVALID_DATASET: unknown built-in name (the message lists
 * the known ones), missing `path`, unreadable or malformed files (the message names the file),
 * train/test image shapes that differ, an empty split, a bad `maxTrainExamples`/`maxTestExamples`.
 */
export async function loadDataset(spec: DatasetSpec, seed: number): Promise<{ train: ArrayDataset; test: ArrayDataset }> {
  const maxTrain = checkMax(spec.maxTrainExamples, 'maxTrainExamples');
  const maxTest = checkMax(spec.maxTestExamples, 'maxTestExamples');
  const source = await sharedSource(await sourceKey(spec), () => readSource(spec));
  return {
    train: arrange(source.train, source.numClasses, new Rng(`dataset-order:train:${seed}`), maxTrain),
    test: arrange(source.test, source.numClasses, new Rng(`dataset-order:test:${seed}`), maxTest),
  };
}

/** Reads and checks the raw splits of `spec`'s source. */
async function readSource(spec: DatasetSpec): Promise<Omit<SharedDataset, 'key'>> {
  let raw: { train: RawSplit; test: RawSplit };
  let numClasses: number | undefined;
  switch (spec.format) {
    case undefined: {
      const name = spec.name ?? '';
      if (name !== 'fashion-mnist') {
        const known = BUILTIN_DATASETS.map((n) => `'${n}'`).join(', ');
        throw datasetError(
          name === ''
            ? `dataset.name is required when dataset.format is not set; built-in datasets: ${known}`
            : `unknown built-in dataset '${name}'; built-in datasets: ${known}`,
        );
      }
      raw = await loadFashionMnist();
      numClasses = 10;
      break;
    }
    case 'idx':
      raw = await readIdx(spec.path);
      break;
    case 'cifar10':
      raw = await readCifar10(spec.path);
      numClasses = CIFAR10_CLASSES;
      break;
    case 'npy':
      raw = await readNpy(spec.path);
      break;
    default:
      throw datasetError(`unknown dataset.format '${String(spec.format)}'; formats: 'idx', 'cifar10', 'npy'`);
  }
  const where = spec.format ? `dataset at '${spec.path}'` : `dataset '${spec.name}'`;
  if (raw.train.count === 0 || raw.test.count === 0) {
    throw datasetError(`${where} has an empty ${raw.train.count === 0 ? 'train' : 'test'} split`);
  }
  if (raw.train.shape.some((d, i) => d !== raw.test.shape[i])) {
    throw datasetError(`${where}: train images are [${raw.train.shape.join(',')}] but test images are [${raw.test.shape.join(',')}]`);
  }
  numClasses ??= Math.max(maxLabel(raw.train.labels), maxLabel(raw.test.labels)) + 1;
  return { train: raw.train, test: raw.test, numClasses };
}

function checkMax(v: number | undefined, field: string): number {
  if (v === undefined || v === 0) return Infinity;
  if (!Number.isInteger(v) || v < 0) throw datasetError(`dataset.${field} must be a non-negative integer (0 = all), got ${v}`);
  return v;
}

function maxLabel(labels: Int32Array): number {
  let m = 0;
  for (let i = 0; i < labels.length; i++) if ((labels[i] as number) > m) m = labels[i] as number;
  return m;
}

/** Seeded shuffle, class round robin, prefix of `max`: the order and labels over the source's pixels. */
function arrange(raw: RawSplit, numClasses: number, rng: Rng, max: number): ArrayDataset {
  const perm = new Int32Array(raw.count);
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  shuffleInPlace(perm, rng);
  const buckets: number[][] = Array.from({ length: numClasses }, () => []);
  for (const i of perm) (buckets[raw.labels[i] as number] as number[]).push(i);
  const count = Math.min(max, raw.count);
  const order = new Int32Array(count);
  let n = 0;
  for (let round = 0; n < count; round++) {
    for (const b of buckets) {
      if (round < b.length && n < count) order[n++] = b[round] as number;
    }
  }
  const labels = new Int32Array(count);
  for (let k = 0; k < count; k++) labels[k] = raw.labels[order[k] as number] as number;
  return { pixels: raw.pixels, index: order, labels, count, shape: [...raw.shape], numClasses };
}

/** Fisher-Yates with the sdk Rng, on a typed array (same draws as Rng.shuffle). */
export function shuffleInPlace(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
}
