// A dataset source is read once per thread into shared memory; every dataset over it (other seeds,
// other caps) reads those pixels, and a changed file is a new source.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { datasetLoads, imagesOf, loadDataset, shareDatasets, type SharedDataset } from '../../src/data/index.ts';
import { sourceKey } from '../../src/data/shared-datasets.ts';
import { npyBytes, withTempDir } from './fixtures.ts';

async function writeNpy(dir: string, value: number): Promise<void> {
  for (const split of ['train', 'test']) {
    const n = split === 'train' ? 12 : 4;
    await writeFile(join(dir, `x_${split}.npy`), npyBytes('|u1', [n, 2, 2], Array.from({ length: n * 4 }, (_, i) => (Math.floor(i / 4) * value) % 256)));
    await writeFile(join(dir, `y_${split}.npy`), npyBytes('<i8', [n], Array.from({ length: n }, (_, i) => i % 3)));
  }
}

describe('shared datasets', () => {
  it('reads a source once; datasets of other seeds and caps share its pixels in shared memory', async () => {
    const used: { ds: SharedDataset; loaded: boolean }[] = [];
    shareDatasets([], (ds, loaded) => used.push({ ds, loaded }));
    await withTempDir(async (dir) => {
      await writeNpy(dir, 7);
      const loads = datasetLoads();
      const [a, b, c] = await Promise.all([
        loadDataset({ format: 'npy', path: dir }, 1),
        loadDataset({ format: 'npy', path: dir }, 2),
        loadDataset({ format: 'npy', path: dir, maxTrainExamples: 5 }, 1),
      ]);
      assert.equal(datasetLoads(), loads + 1, 'one read for three datasets');
      assert.equal(a.train.pixels, b.train.pixels);
      assert.equal(a.train.pixels, c.train.pixels);
      assert.ok(a.train.pixels.buffer instanceof SharedArrayBuffer);
      assert.ok(a.train.pixels.length === 12 * 4 && a.train.labels.length === 12, 'no float copy: the source pixels, 1 byte each');
      assert.notDeepEqual(a.train.index, b.train.index, 'each seed has its own order');
      assert.deepEqual(imagesOf(c.train), imagesOf(a.train, 0, 5), 'a cap is a prefix of the same order');
      assert.deepEqual(used.map((u) => u.loaded), [true, false, false]);
      assert.ok(used.every((u) => u.ds === used[0]!.ds));

      // a rewritten file is another source, read again
      await writeNpy(dir, 11);
      const d = await loadDataset({ format: 'npy', path: dir }, 1);
      assert.equal(datasetLoads(), loads + 2);
      assert.notEqual(d.train.pixels, a.train.pixels);
      assert.notDeepEqual(imagesOf(d.train), imagesOf(a.train));
    });
  });

  it('uses a source handed over from another thread instead of reading it', async () => {
    await withTempDir(async (dir) => {
      await writeNpy(dir, 5);
      const spec = { format: 'npy' as const, path: dir };
      const key = await sourceKey(spec);
      assert.ok(key?.startsWith('npy:'), key);
      const split = (n: number) => ({
        pixels: new Uint8Array(new SharedArrayBuffer(n * 4)).fill(255),
        labels: Int32Array.from({ length: n }, (_, i) => i % 3),
        count: n,
        shape: [2, 2, 1] as [number, number, number],
      });
      // distinguishable from the files: every pixel 255
      const handed: SharedDataset = { key: key!, train: split(12), test: split(4), numClasses: 3 };
      const used: boolean[] = [];
      shareDatasets([handed], (_ds, loaded) => used.push(loaded));
      const loads = datasetLoads();
      const ds = await loadDataset(spec, 1);
      assert.equal(datasetLoads(), loads, 'nothing read');
      assert.equal(ds.train.pixels, handed.train.pixels);
      assert.ok(imagesOf(ds.train).every((v) => v === 1));
      assert.deepEqual(used, [false]);
    });
  });
});
