import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@supernetd/sdk';
import { imagesOf, loadDataset, subset, type ArrayDataset } from '../../src/data/index.ts';
import { npyBytes, rejectsDataset, withTempDir } from './fixtures.ts';

/** NPY dataset: `perClass` examples of each of `classes` classes, image k has every pixel = k (as u1). */
async function writeBalanced(dir: string, classes: number, perClass: number[], testPerClass = 2, shape: [number, number] = [2, 2]): Promise<void> {
  const write = async (split: string, counts: number[]) => {
    const labels: number[] = [];
    counts.forEach((n, c) => labels.push(...Array<number>(n).fill(c)));
    const n = labels.length;
    const size = shape[0] * shape[1];
    const px = Array.from({ length: n * size }, (_, i) => Math.floor(i / size) % 256);
    await writeFile(join(dir, `x_${split}.npy`), npyBytes('|u1', [n, ...shape], px));
    await writeFile(join(dir, `y_${split}.npy`), npyBytes('<i8', [n], labels));
  };
  await write('train', perClass);
  await write('test', Array<number>(classes).fill(testPerClass));
}

function classCounts(ds: ArrayDataset, start = 0, count = ds.count): number[] {
  const out = Array<number>(ds.numClasses).fill(0);
  for (let i = start; i < start + count; i++) (out[ds.labels[i] as number] as number)++;
  return out;
}

describe('loadDataset', () => {
  it('orders each split class by class after a seeded shuffle, so slices are balanced', async () => {
    await withTempDir(async (dir) => {
      await writeBalanced(dir, 4, [10, 10, 10, 10]);
      const { train } = await loadDataset({ format: 'npy', path: dir }, 7);
      assert.deepEqual(classCounts(train, 0, 8), [2, 2, 2, 2]);
      assert.deepEqual(classCounts(train, 20, 12), [3, 3, 3, 3]);
      const v = subset(train, train.count - 4, 4);
      assert.deepEqual(classCounts(v), [1, 1, 1, 1]);
    });
  });

  it('caps with a class-balanced prefix that depends on the seed only', async () => {
    await withTempDir(async (dir) => {
      await writeBalanced(dir, 3, [20, 5, 20], 4);
      const spec = { format: 'npy' as const, path: dir, maxTrainExamples: 9, maxTestExamples: 6 };
      const a = await loadDataset(spec, 1);
      const b = await loadDataset(spec, 1);
      const c = await loadDataset(spec, 2);
      assert.equal(a.train.count, 9);
      assert.equal(a.test.count, 6);
      assert.deepEqual(classCounts(a.train), [3, 3, 3]);
      assert.deepEqual(classCounts(a.test), [2, 2, 2]);
      assert.deepEqual(imagesOf(a.train), imagesOf(b.train));
      assert.notDeepEqual(imagesOf(a.train), imagesOf(c.train));
      // the small class runs out first; the rest comes from the others
      const big = await loadDataset({ ...spec, maxTrainExamples: 30 }, 1);
      assert.deepEqual(classCounts(big.train), [13, 5, 12]);
      // the cap is a prefix of the uncapped order
      const all = await loadDataset({ format: 'npy', path: dir }, 1);
      assert.equal(all.train.count, 45);
      assert.deepEqual(imagesOf(a.train), imagesOf(all.train, 0, a.train.count));
    });
  });

  it('rejects bad caps, unknown names and formats, mismatched shapes', async () => {
    await rejectsDataset(loadDataset({ name: 'fashion-mnist', maxTrainExamples: -1 }, 0), /dataset\.maxTrainExamples must be a non-negative integer/);
    await rejectsDataset(loadDataset({ name: 'fashion-mnist', maxTestExamples: 1.5 }, 0), /dataset\.maxTestExamples/);
    await rejectsDataset(loadDataset({ name: 'mnist' }, 0), /unknown built-in dataset 'mnist'; built-in datasets: 'fashion-mnist'/);
    await rejectsDataset(loadDataset({}, 0), /dataset\.name is required .* 'fashion-mnist'/);
    await rejectsDataset(loadDataset({ format: 'png' as 'npy', path: '/' }, 0), /unknown dataset\.format 'png'/);
    await withTempDir(async (dir) => {
      await writeBalanced(dir, 2, [3, 3]);
      await writeFile(join(dir, 'x_test.npy'), npyBytes('|u1', [4, 3, 2], Array<number>(24).fill(0)));
      await rejectsDataset(loadDataset({ format: 'npy', path: dir }, 0), /train images are \[2,2,1\] but test images are \[3,2,1\]/);
    });
  });

  it('subset is a bounds-checked view', async () => {
    await withTempDir(async (dir) => {
      await writeBalanced(dir, 2, [3, 3]);
      const { train } = await loadDataset({ format: 'npy', path: dir }, 0);
      const s = subset(train, 2, 3);
      assert.equal(s.count, 3);
      assert.equal(imagesOf(s).length, 3 * 4);
      assert.equal(imagesOf(s)[0], imagesOf(train)[8]);
      assert.equal(s.pixels, train.pixels, 'the same pixels, not a copy');
      assert.equal(s.labels[2], train.labels[4]);
      assert.throws(() => subset(train, 4, 3), InvalidArgumentError);
      assert.throws(() => subset(train, -1, 1), InvalidArgumentError);
    });
  });
});
