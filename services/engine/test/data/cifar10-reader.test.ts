import assert from 'node:assert/strict';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCifar10 } from '../../src/data/cifar10-reader.ts';
import { imagesOf, loadDataset } from '../../src/data/index.ts';
import { cifarRecord, rejectsDataset, withTempDir } from './fixtures.ts';

const BATCHES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];

/** Record k: label k % 10, R = (k + p) % 256, G = p % 256, B = 255 - k. */
function record(k: number): Buffer {
  return cifarRecord(k % 10, (p) => (k + p) % 256, (p) => p % 256, () => 255 - k);
}

async function writeCifar(dir: string, perBatch = 2, testCount = 3): Promise<void> {
  let k = 0;
  for (const name of BATCHES) {
    await writeFile(join(dir, name), Buffer.concat(Array.from({ length: perBatch }, () => record(k++))));
  }
  await writeFile(join(dir, 'test_batch.bin'), Buffer.concat(Array.from({ length: testCount }, (_, i) => record(100 + i))));
}

describe('CIFAR-10 binary reader', () => {
  it('reads all batches in order and converts CHW to HWC', async () => {
    await withTempDir(async (dir) => {
      await writeCifar(dir);
      const { train, test } = await readCifar10(dir);
      assert.equal(train.count, 10);
      assert.equal(test.count, 3);
      assert.deepEqual(train.shape, [32, 32, 3]);
      assert.deepEqual(Array.from(train.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const k of [0, 7]) {
        for (const p of [0, 1, 33, 1023]) {
          const o = (k * 1024 + p) * 3;
          assert.deepEqual(Array.from(train.pixels.subarray(o, o + 3)), [(k + p) % 256, p % 256, 255 - k], `image ${k} pixel ${p}`);
        }
      }
      assert.equal(test.pixels[(2 * 1024 + 5) * 3 + 2], 255 - 102);
    });
  });

  it('finds the files in a cifar-10-batches-bin subdirectory and scales to [0, 1]', async () => {
    await withTempDir(async (dir) => {
      const nested = join(dir, 'cifar-10-batches-bin');
      await mkdir(nested);
      await writeCifar(nested);
      const { train, test } = await loadDataset({ format: 'cifar10', path: dir }, 1);
      assert.equal(train.numClasses, 10);
      assert.equal(test.count, 3);
      assert.ok(imagesOf(train).every((v) => v >= 0 && v <= 1));
    });
  });

  it('names a missing batch file', async () => {
    await withTempDir(async (dir) => {
      await writeCifar(dir);
      await unlink(join(dir, 'data_batch_4.bin'));
      await rejectsDataset(readCifar10(dir), /'data_batch_4\.bin' is missing/);
    });
  });

  it('rejects a truncated file and an out-of-range label', async () => {
    await withTempDir(async (dir) => {
      await writeCifar(dir);
      await writeFile(join(dir, 'test_batch.bin'), Buffer.concat([record(1), record(2).subarray(0, 100)]));
      await rejectsDataset(readCifar10(dir), /'test_batch\.bin' is truncated: 3173 bytes is not a whole number of 3073-byte records/);
    });
    await withTempDir(async (dir) => {
      await writeCifar(dir);
      await writeFile(join(dir, 'data_batch_2.bin'), cifarRecord(10, () => 0, () => 0, () => 0));
      await rejectsDataset(readCifar10(dir), /'data_batch_2\.bin' record 0 has label 10/);
    });
    await rejectsDataset(loadDataset({ format: 'cifar10', path: '/nonexistent/cifar' }, 1), /'\/nonexistent\/cifar' does not exist/);
  });
});
