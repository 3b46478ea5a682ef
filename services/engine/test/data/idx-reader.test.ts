import assert from 'node:assert/strict';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { imagesOf, loadDataset } from '../../src/data/index.ts';
import { readIdx } from '../../src/data/idx-reader.ts';
import { gz, idxBytes, makeImages, rejectsDataset, withTempDir } from './fixtures.ts';

const H = 5;
const W = 4;

async function writeIdx(dir: string, opts: { gzip?: boolean; nTrain?: number; nTest?: number } = {}): Promise<void> {
  const files: Record<string, Buffer> = {};
  for (const [prefix, n] of [['train', opts.nTrain ?? 12], ['t10k', opts.nTest ?? 6]] as const) {
    const { pixels, labels } = makeImages(n, H, W);
    files[`${prefix}-images-idx3-ubyte`] = idxBytes([n, H, W], pixels);
    files[`${prefix}-labels-idx1-ubyte`] = idxBytes([n], labels);
  }
  for (const [name, data] of Object.entries(files)) {
    await writeFile(join(dir, opts.gzip ? `${name}.gz` : name), opts.gzip ? gz(data) : data);
  }
}

describe('IDX reader', () => {
  it('reads images and labels in file order, HWC with one channel', async () => {
    await withTempDir(async (dir) => {
      await writeIdx(dir);
      const { train, test } = await readIdx(dir);
      assert.equal(train.count, 12);
      assert.equal(test.count, 6);
      assert.deepEqual(train.shape, [H, W, 1]);
      const ref = makeImages(12, H, W);
      assert.deepEqual(Array.from(train.pixels), Array.from(ref.pixels));
      assert.deepEqual(Array.from(train.labels), Array.from(ref.labels));
    });
  });

  it('reads gzipped files the same as plain ones', async () => {
    const plain = await withTempDir(async (dir) => {
      await writeIdx(dir);
      return loadDataset({ format: 'idx', path: dir }, 3);
    });
    const zipped = await withTempDir(async (dir) => {
      await writeIdx(dir, { gzip: true });
      return loadDataset({ format: 'idx', path: dir }, 3);
    });
    assert.deepEqual(imagesOf(zipped.train), imagesOf(plain.train));
    assert.deepEqual(zipped.test.labels, plain.test.labels);
    assert.equal(plain.train.numClasses, 3);
    // loadDataset reorders but keeps every (image, label) pair, scaled by 1/255
    const ref = makeImages(12, H, W);
    const size = H * W;
    const byContent = new Map<string, number>();
    for (let n = 0; n < 12; n++) byContent.set(Array.from(ref.pixels.subarray(n * size, (n + 1) * size), (v) => Math.fround(v / 255)).join(), n);
    const seen = new Set<number>();
    for (let k = 0; k < plain.train.count; k++) {
      const src = byContent.get(Array.from(imagesOf(plain.train, k, 1)).join());
      assert.ok(src !== undefined, `train image ${k} is not one of the file's images`);
      assert.equal(plain.train.labels[k], ref.labels[src]);
      seen.add(src);
    }
    assert.equal(seen.size, 12);
  });

  it('names a missing file', async () => {
    await withTempDir(async (dir) => {
      await writeIdx(dir);
      await unlink(join(dir, 't10k-labels-idx1-ubyte'));
      await rejectsDataset(readIdx(dir), /'t10k-labels-idx1-ubyte' is missing/);
    });
  });

  it('rejects a missing directory and a missing path', async () => {
    await rejectsDataset(readIdx('/nonexistent/supernetd-idx'), /does not exist/);
    await rejectsDataset(loadDataset({ format: 'idx' }, 1), /dataset\.path is required for format 'idx'/);
  });

  it('rejects bad magic, unsupported type, truncated data, trailing data and count mismatch', async () => {
    const cases: [string, Buffer, RegExp][] = [
      ['train-images-idx3-ubyte', Buffer.from([1, 2, 8, 3, 0, 0, 0, 1]), /'train-images-idx3-ubyte' has a bad magic number/],
      ['train-images-idx3-ubyte', idxBytes([12, H, W], new Uint8Array(12 * H * W * 4), 0x0d), /'train-images-idx3-ubyte' has element type 0x0d/],
      ['train-images-idx3-ubyte', idxBytes([12, H, W], new Uint8Array(12 * H * W - 1)), /'train-images-idx3-ubyte' is truncated/],
      ['train-labels-idx1-ubyte', idxBytes([12], new Uint8Array(13)), /'train-labels-idx1-ubyte' has 1 bytes after the data/],
      ['train-labels-idx1-ubyte', idxBytes([11], new Uint8Array(11)), /count mismatch: 'train-images-idx3-ubyte' has 12 images but 'train-labels-idx1-ubyte' has 11 labels/],
      ['train-labels-idx1-ubyte', idxBytes([12, 1], new Uint8Array(12)), /rank 2; labels need rank 1/],
      ['t10k-images-idx3-ubyte', Buffer.from([0, 0, 8]), /'t10k-images-idx3-ubyte' has a bad magic number/],
    ];
    for (const [name, bytes, pattern] of cases) {
      await withTempDir(async (dir) => {
        await writeIdx(dir);
        await writeFile(join(dir, name), bytes);
        await rejectsDataset(readIdx(dir), pattern);
      });
    }
  });

  it('rejects corrupt gzip, naming the file', async () => {
    await withTempDir(async (dir) => {
      await writeIdx(dir, { gzip: true });
      await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), Buffer.from('not gzip'));
      await rejectsDataset(readIdx(dir), /'train-labels-idx1-ubyte\.gz' .* not valid gzip/);
    });
  });
});
