import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imagesOf, loadDataset, type ArrayDataset } from '../../src/data/index.ts';
import { loadFashionMnist, parseRows } from '../../src/data/fashion-mnist.ts';

/** 52-bit content hashes (two FNV-1a variants over the float bits) of examples start..start+count. */
function hashes(ds: ArrayDataset, start = 0, count = ds.count, step = 1): number[] {
  const size = 28 * 28;
  const bits = new Uint32Array(imagesOf(ds).buffer);
  const out: number[] = [];
  for (let i = start; i < start + count; i += step) {
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let j = i * size; j < (i + 1) * size; j++) {
      const v = bits[j] as number;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
    }
    out.push((a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff));
  }
  return out;
}

function perClass(labels: Int32Array): number[] {
  const out = Array<number>(10).fill(0);
  for (const l of labels) (out[l] as number)++;
  return out;
}

describe('built-in fashion-mnist', () => {
  it('splits 60,000/10,000, 6,000/1,000 per class, 28x28x1 in [0, 1]', async () => {
    const { train, test } = await loadDataset({ name: 'fashion-mnist' }, 1);
    assert.equal(train.count, 60000);
    assert.equal(test.count, 10000);
    assert.deepEqual(train.shape, [28, 28, 1]);
    assert.equal(train.numClasses, 10);
    assert.equal(imagesOf(train).length, 60000 * 784);
    assert.deepEqual(perClass(train.labels), Array(10).fill(6000));
    assert.deepEqual(perClass(test.labels), Array(10).fill(1000));
    let min = Infinity;
    let max = -Infinity;
    for (const v of imagesOf(test)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
  });

  it('has the same split for every seed (only the order changes) and no test image in train', async () => {
    const a = await loadDataset({ name: 'fashion-mnist' }, 1);
    const b = await loadDataset({ name: 'fashion-mnist' }, 2);
    const again = await loadDataset({ name: 'fashion-mnist' }, 1);
    assert.deepEqual(hashes(again.test, 0, 50), hashes(a.test, 0, 50), 'same seed, same order');
    assert.notDeepEqual(hashes(b.test, 0, 50), hashes(a.test, 0, 50), 'other seed, other order');
    const testA = new Set(hashes(a.test));
    assert.deepEqual(new Set(hashes(b.test)), testA, 'test membership independent of the seed');
    const trainHashes = hashes(a.train);
    assert.ok(trainHashes.every((h) => !testA.has(h)), 'no test image has a copy in train');
    assert.equal(testA.size, 10000, 'test images are distinct');
  });

  it('class-balanced caps', async () => {
    const { train, test } = await loadDataset({ name: 'fashion-mnist', maxTrainExamples: 95, maxTestExamples: 20 }, 5);
    assert.equal(train.count, 95);
    assert.deepEqual(perClass(train.labels), [10, 10, 10, 10, 10, 9, 9, 9, 9, 9]);
    assert.deepEqual(perClass(test.labels), Array(10).fill(2));
    assert.equal(imagesOf(train).length, 95 * 784);
  });

  it('keeps the package file order: train first, test from the tail of each class', async () => {
    const { readFile } = await import('node:fs/promises');
    const { createRequire } = await import('node:module');
    const { dirname, join } = await import('node:path');
    const dir = join(dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')), 'src', 'clothes');
    const split = await loadFashionMnist();
    assert.equal(split.version, '1.1.0');
    // class 3 of the package: train keeps file order, test is the tail of unique images
    const c3 = parseRows(await readFile(join(dir, '3.json')), '3.json');
    assert.equal(c3.count, 7000);
    const trainStart = 3 * 6000 * 784;
    assert.deepEqual(split.train.pixels.subarray(trainStart, trainStart + 784), c3.pixels.subarray(0, 784));
    assert.deepEqual(split.test.pixels.subarray(4000 * 784 - 784, 4000 * 784), c3.pixels.subarray(6999 * 784, 7000 * 784));
  });
});
