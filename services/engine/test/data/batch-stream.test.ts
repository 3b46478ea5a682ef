import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError } from '@supernetd/sdk';
import { BatchStream, imagesOf, type ArrayDataset } from '../../src/data/index.ts';

/** count images of h x w x c; image k has pixel values (k * 7 + i) % 97 / 96 and label k % classes. */
function dataset(count: number, h = 4, w = 5, c = 1, classes = 3): ArrayDataset {
  const size = h * w * c;
  const images = new Float32Array(count * size);
  for (let k = 0; k < count; k++) for (let i = 0; i < size; i++) images[k * size + i] = ((k * 7 + i) % 97) / 96;
  const labels = Int32Array.from({ length: count }, (_, k) => k % classes);
  return { pixels: images, index: identity(count), labels, count, shape: [h, w, c], numClasses: classes };
}

function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, k) => k);
}

/** Reads and disposes a batch. */
function take(stream: BatchStream): { x: Float32Array; y: Int32Array; shape: number[] } {
  const b = stream.next(tf);
  try {
    return { x: b.x.dataSync() as Float32Array, y: b.y.dataSync() as Int32Array, shape: b.x.shape };
  } finally {
    b.x.dispose();
    b.y.dispose();
  }
}

/** Index of an unaugmented image in `ds` equal to `x`. */
function indexOf(ds: ArrayDataset, x: Float32Array): number {
  const size = x.length;
  const images = imagesOf(ds);
  for (let k = 0; k < ds.count; k++) {
    if (images.subarray(k * size, (k + 1) * size).every((v, i) => v === x[i])) return k;
  }
  return -1;
}

function examples(ds: ArrayDataset, batch: { x: Float32Array }): number[] {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return Array.from({ length: batch.x.length / size }, (_, b) => indexOf(ds, batch.x.subarray(b * size, (b + 1) * size)));
}

describe('BatchStream', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('yields fixed-size seeded batches: each epoch a permutation, reshuffled, wrapping across epochs', () => {
    const ds = dataset(10);
    const s = new BatchStream(ds, { batchSize: 4, seed: 3, augment: false });
    assert.equal(s.stepsPerEpoch, 3);
    const before = tf.memory().numTensors;
    const seq: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = take(s);
      assert.deepEqual(b.shape, [4, 4, 5, 1]);
      const idx = examples(ds, b);
      assert.ok(idx.every((k) => k >= 0));
      assert.deepEqual(Array.from(b.y), idx.map((k) => k % 3));
      seq.push(...idx);
    }
    assert.equal(tf.memory().numTensors, before);
    const epoch1 = seq.slice(0, 10);
    const epoch2 = seq.slice(10, 20);
    assert.deepEqual([...epoch1].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual([...epoch2].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.notDeepEqual(epoch1, epoch2, 'reshuffled each epoch');

    const same = new BatchStream(ds, { batchSize: 4, seed: 3, augment: false });
    const other = new BatchStream(ds, { batchSize: 4, seed: 4, augment: false });
    assert.deepEqual(examples(ds, take(same)), seq.slice(0, 4));
    assert.notDeepEqual([...examples(ds, take(other)), ...examples(ds, take(other))], seq.slice(0, 8));
  });

  it('allows a batch larger than the dataset', () => {
    const ds = dataset(3);
    const s = new BatchStream(ds, { batchSize: 8, seed: 1, augment: false });
    assert.equal(s.stepsPerEpoch, 1);
    const idx = examples(ds, take(s));
    assert.equal(idx.length, 8);
    assert.deepEqual(idx.slice(0, 3).sort(), [0, 1, 2]);
    assert.deepEqual(idx.slice(3, 6).sort(), [0, 1, 2]);
  });

  for (const augment of [false, true]) {
    it(`restores the exact stream from state() (augment ${augment})`, () => {
      const ds = dataset(13, 6, 6, 3);
      const opts = { batchSize: 5, seed: 11, augment, flip: true };
      const a = new BatchStream(ds, opts);
      for (let i = 0; i < 4; i++) take(a); // mid second epoch
      const saved = JSON.parse(JSON.stringify(a.state())) as unknown;
      const expected = Array.from({ length: 7 }, () => take(a));

      const b = new BatchStream(ds, { ...opts, seed: 999 }); // the saved seed wins
      take(b);
      b.setState(saved);
      for (const e of expected) {
        const got = take(b);
        assert.deepEqual(Buffer.from(got.x.buffer), Buffer.from(e.x.buffer));
        assert.deepEqual(got.y, e.y);
      }
      // a fresh stream restored from the initial state equals a fresh stream
      const c = new BatchStream(ds, opts);
      const init = c.state();
      const first = take(c);
      const d = new BatchStream(ds, opts);
      take(d);
      d.setState(init);
      assert.deepEqual(take(d).x, first.x);
    });
  }

  it('rejects malformed state and state of another dataset', () => {
    const s = new BatchStream(dataset(10), { batchSize: 2, seed: 1, augment: false });
    const st = new BatchStream(dataset(12), { batchSize: 2, seed: 1, augment: false }).state();
    assert.throws(() => s.setState(st), /dataset of 12 examples, this one has 10/);
    assert.throws(() => s.setState({ v: 1 }), InvalidArgumentError);
    assert.throws(() => s.setState(null), InvalidArgumentError);
    assert.throws(() => s.setState({ ...s.state(), augRng: [1, 2, 3] }), InvalidArgumentError);
    assert.throws(() => s.setState({ ...s.state(), epoch: 1, cursor: 11 }), InvalidArgumentError);
    assert.throws(() => new BatchStream(dataset(10), { batchSize: 0, seed: 1, augment: false }), /batchSize must be a positive integer/);
  });

  it('augments by shifts of at most 2 pixels with zero fill, keeping shape and range', () => {
    const h = 8;
    const w = 8;
    // one image: a distinct value per pixel, all > 0, so shifts and flips can be recognised
    const images = Float32Array.from({ length: h * w }, (_, i) => (i + 1) / (h * w));
    const ds: ArrayDataset = { pixels: images, index: identity(1), labels: Int32Array.from([0]), count: 1, shape: [h, w, 1], numClasses: 1 };
    const at = (y: number, x: number) => (y >= 0 && y < h && x >= 0 && x < w ? (images[y * w + x] as number) : 0);
    const seen = new Set<string>();
    let flips = 0;
    for (const flip of [false, true]) {
      const s = new BatchStream(ds, { batchSize: 16, seed: 5, augment: true, flip });
      for (let rep = 0; rep < 4; rep++) {
        const b = take(s);
        assert.deepEqual(b.shape, [16, h, w, 1]);
        for (let k = 0; k < 16; k++) {
          const out = b.x.subarray(k * h * w, (k + 1) * h * w);
          assert.ok(out.every((v) => v >= 0 && v <= 1));
          let match: string | undefined;
          for (let dy = -2; dy <= 2 && !match; dy++) {
            for (let dx = -2; dx <= 2 && !match; dx++) {
              for (const m of flip ? [false, true] : [false]) {
                const ok = out.every((v, i) => {
                  const y = Math.floor(i / w);
                  const x = i % w;
                  return v === at(y + dy, (m ? w - 1 - x : x) + dx);
                });
                if (ok) {
                  match = `${dy},${dx},${m}`;
                  if (m) flips++;
                  break;
                }
              }
            }
          }
          assert.ok(match, `batch ${rep} image ${k} is not a shift of at most 2 pixels${flip ? ' (maybe mirrored)' : ''}`);
          seen.add(match);
        }
      }
    }
    assert.ok(seen.size > 15, `augmentation varies (${seen.size} distinct crops)`);
    assert.ok(flips > 10 && flips < 54, `mirrors about half of the flip-enabled images (${flips}/64)`);
  });

  it('leaves images untouched without augment, and creates only the two batch tensors', () => {
    const ds = dataset(6);
    const s = new BatchStream(ds, { batchSize: 6, seed: 2, augment: false });
    const before = tf.memory().numTensors;
    const b = s.next(tf);
    assert.equal(tf.memory().numTensors, before + 2);
    assert.equal(b.x.dtype, 'float32');
    assert.equal(b.y.dtype, 'int32');
    assert.deepEqual(examples(ds, { x: b.x.dataSync() as Float32Array }).sort(), [0, 1, 2, 3, 4, 5]);
    b.x.dispose();
    b.y.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('reads uint8 source pixels through the dataset order, as v / 255, with and without augment', () => {
    // source: 3 images of 2x2x1, image n has pixels 10n+1..10n+4; the dataset is source images 2, 0
    const pixels = Uint8Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4) + 1);
    const ds: ArrayDataset = { pixels, index: Int32Array.from([2, 0]), labels: Int32Array.from([1, 0]), count: 2, shape: [2, 2, 1], numClasses: 2 };
    assert.deepEqual(Array.from(imagesOf(ds)), [21, 22, 23, 24, 1, 2, 3, 4].map((v) => Math.fround(v / 255)));
    const plain = take(new BatchStream(ds, { batchSize: 2, seed: 3, augment: false }));
    const seen = examples(ds, plain).sort();
    assert.deepEqual(seen, [0, 1]);
    const aug = take(new BatchStream(ds, { batchSize: 8, seed: 3, augment: true }));
    const allowed = new Set([0, ...Array.from(pixels, (v) => Math.fround(v / 255))]);
    assert.ok(Array.from(aug.x).every((v) => allowed.has(v)), 'augmented values are source pixels / 255 or padding');
  });
});
