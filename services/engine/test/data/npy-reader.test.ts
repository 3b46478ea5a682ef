import assert from 'node:assert/strict';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '@supernetd/sdk';
import { imagesOf, loadDataset } from '../../src/data/index.ts';
import { parseNpy, readNpy } from '../../src/data/npy-reader.ts';
import { npyBytes, rejectsDataset, withTempDir } from './fixtures.ts';

const N_TRAIN = 8;
const N_TEST = 4;
const H = 3;
const W = 2;

function pixels(n: number, c: number, float: boolean): number[] {
  return Array.from({ length: n * H * W * c }, (_, i) => (float ? ((i * 13) % 101) / 100 : (i * 29) % 256));
}

async function writeNpy(
  dir: string,
  opts: { xDescr?: string; yDescr?: string; channels?: number; yColumn?: boolean; version?: 1 | 2 | 3 } = {},
): Promise<void> {
  const xDescr = opts.xDescr ?? '|u1';
  const yDescr = opts.yDescr ?? '<i8';
  const float = xDescr.endsWith('f4') || xDescr.endsWith('f8');
  for (const [split, n] of [['train', N_TRAIN], ['test', N_TEST]] as const) {
    const shape = opts.channels ? [n, H, W, opts.channels] : [n, H, W];
    await writeFile(join(dir, `x_${split}.npy`), npyBytes(xDescr, shape, pixels(n, opts.channels ?? 1, float), { version: opts.version ?? 1 }));
    const labels = Array.from({ length: n }, (_, i) => i % 4);
    await writeFile(join(dir, `y_${split}.npy`), npyBytes(yDescr, opts.yColumn ? [n, 1] : [n], labels, { version: opts.version ?? 1 }));
  }
}

describe('NPY reader', () => {
  for (const xDescr of ['|u1', '<f4', '<f8', '<i4', '<i8']) {
    it(`reads images of dtype ${xDescr}`, async () => {
      await withTempDir(async (dir) => {
        await writeNpy(dir, { xDescr });
        const ds = await loadDataset({ format: 'npy', path: dir }, 0);
        assert.equal(ds.train.count, N_TRAIN);
        assert.deepEqual(ds.train.shape, [H, W, 1]);
        assert.equal(ds.train.numClasses, 4);
        const raw = await readNpy(dir);
        const float = xDescr.endsWith('f4') || xDescr.endsWith('f8');
        const expected = pixels(N_TRAIN, 1, float).map((v) => Math.fround(v));
        assert.deepEqual(Array.from(raw.train.pixels), expected);
        assert.equal(raw.train.pixels instanceof Float32Array, float, 'floats stay floats, integers are bytes to scale');
        // integer pixels are scaled by 1/255, floats used as they are
        const multiset = (a: ArrayLike<number>) => Array.from(a).sort((p, q) => p - q);
        assert.deepEqual(multiset(imagesOf(ds.train)), multiset(expected.map((v) => (float ? v : Math.fround(v / 255)))));
      });
    });
  }

  for (const yDescr of ['|u1', '<i4', '<i8', '<f4', '<f8']) {
    it(`reads labels of dtype ${yDescr}, shape [N] and [N,1]`, async () => {
      for (const yColumn of [false, true]) {
        await withTempDir(async (dir) => {
          await writeNpy(dir, { yDescr, yColumn });
          const { train } = await readNpy(dir);
          assert.deepEqual(Array.from(train.labels), Array.from({ length: N_TRAIN }, (_, i) => i % 4));
        });
      }
    });
  }

  for (const version of [1, 2, 3] as const) {
    it(`parses format version ${version} headers with channels`, async () => {
      await withTempDir(async (dir) => {
        await writeNpy(dir, { version, channels: 3, xDescr: '<f4' });
        const { train, test } = await readNpy(dir);
        assert.deepEqual(train.shape, [H, W, 3]);
        assert.equal(test.count, N_TEST);
      });
    });
  }

  it('reads data that starts at an unaligned offset', async () => {
    await withTempDir(async (dir) => {
      for (const split of ['train', 'test']) {
        await writeFile(join(dir, `x_${split}.npy`), npyBytes('<f4', [2, 1, 2], [0.25, 0.5, 0.75, 1], { unaligned: true }));
        await writeFile(join(dir, `y_${split}.npy`), npyBytes('<i8', [2], [1, 0], { unaligned: true }));
      }
      const raw = await readFile(join(dir, 'x_train.npy'));
      assert.equal((raw.indexOf(0x0a) + 1) % 4, 3, 'fixture data offset is unaligned');
      const { train } = await readNpy(dir);
      assert.deepEqual(Array.from(train.pixels), [0.25, 0.5, 0.75, 1]);
      assert.deepEqual(Array.from(train.labels), [1, 0]);
    });
  });

  it('rejects unsupported dtypes, Fortran order, bad magic and truncation, naming the file', () => {
    const ok = npyBytes('<f4', [2, 2], [1, 2, 3, 4]);
    assert.deepEqual(parseNpy(ok, 'a.npy').shape, [2, 2]);
    const bad = (b: Uint8Array, pattern: RegExp) =>
      assert.throws(() => parseNpy(b, 'x_train.npy'), (err: unknown) => err instanceof InvalidArgumentError && err.reason === 'INVALID_DATASET' && pattern.test(err.message));
    bad(npyBytes('>f4', [2], [1, 2]), /'x_train\.npy' has unsupported dtype '>f4'/);
    bad(npyBytes('<f2', [2], [1, 2]), /'x_train\.npy' has unsupported dtype '<f2'/);
    bad(npyBytes('<c8', [2], [1, 2]), /unsupported dtype '<c8'/);
    bad(npyBytes('<f4', [2], [1, 2], { fortran: true }), /'x_train\.npy' is in Fortran order/);
    bad(Buffer.from('PK\x03\x04 this is an npz'), /'x_train\.npy' is not an NPY file \(bad magic\)/);
    bad(ok.subarray(0, ok.length - 3), /'x_train\.npy' is truncated: shape \(2, 2\) of <f4 needs 16 data bytes, found 13/);
    bad(ok.subarray(0, 12), /truncated in its NPY header/);
  });

  it('rejects count mismatch, wrong ranks, non-finite pixels, bad labels and missing files', async () => {
    await withTempDir(async (dir) => {
      await writeNpy(dir);
      await writeFile(join(dir, 'y_test.npy'), npyBytes('<i8', [N_TEST + 1], Array(N_TEST + 1).fill(0)));
      await rejectsDataset(readNpy(dir), /count mismatch: 'x_test\.npy' has 4 images but 'y_test\.npy' has 5 labels/);
    });
    await withTempDir(async (dir) => {
      await writeNpy(dir);
      await writeFile(join(dir, 'x_train.npy'), npyBytes('|u1', [N_TRAIN, H * W], Array(N_TRAIN * H * W).fill(0)));
      await rejectsDataset(readNpy(dir), /'x_train\.npy' has shape \(8, 6\); images need \[N,H,W\] or \[N,H,W,C\]/);
    });
    await withTempDir(async (dir) => {
      await writeNpy(dir);
      await writeFile(join(dir, 'y_train.npy'), npyBytes('<i8', [N_TRAIN, 2], Array(N_TRAIN * 2).fill(0)));
      await rejectsDataset(readNpy(dir), /'y_train\.npy' has shape \(8, 2\); labels need \[N\] or \[N,1\]/);
    });
    await withTempDir(async (dir) => {
      await writeNpy(dir, { xDescr: '<f4' });
      const values = pixels(N_TEST, 1, true);
      values[5] = Number.NaN;
      await writeFile(join(dir, 'x_test.npy'), npyBytes('<f4', [N_TEST, H, W], values));
      await rejectsDataset(readNpy(dir), /'x_test\.npy' has a non-finite pixel value at element 5/);
    });
    await withTempDir(async (dir) => {
      await writeNpy(dir);
      await writeFile(join(dir, 'y_train.npy'), npyBytes('<f4', [N_TRAIN], [0, 1, 0.5, 0, 0, 0, 0, 0]));
      await rejectsDataset(readNpy(dir), /'y_train\.npy' has label 0\.5 at element 2/);
    });
    await withTempDir(async (dir) => {
      await writeNpy(dir);
      await writeFile(join(dir, 'y_train.npy'), npyBytes('<i4', [N_TRAIN], [0, 1, -1, 0, 0, 0, 0, 0]));
      await rejectsDataset(readNpy(dir), /'y_train\.npy' has label -1/);
    });
    await withTempDir(async (dir) => {
      await writeNpy(dir);
      await writeFile(join(dir, 'x_train.npy'), npyBytes('<i4', [N_TRAIN, H, W], Array(N_TRAIN * H * W).fill(300)));
      await rejectsDataset(readNpy(dir), /'x_train\.npy' has integer pixel value 300/);
    });
    await withTempDir(async (dir) => {
      await writeNpy(dir);
      await unlink(join(dir, 'x_test.npy'));
      await rejectsDataset(readNpy(dir), /'x_test\.npy' is missing/);
    });
  });
});
