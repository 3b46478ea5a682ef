import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/select-backend.ts';
import { copyBox, runOf } from '../../src/backend/kernels/copy-box.ts';

// Slice and PadV2 on `wasm` go through row copies (kernels/copy-box.ts); they must give exactly what
// `cpu` gives, on every rank and on boxes that merge several axes into one run or none.

/** A deterministic pseudo-random integer in [0, n). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.sin(i * 0.37 + seed) * 10;
  return out;
}

interface Case {
  shape: number[];
  begin: number[];
  size: number[];
  paddings: [number, number][];
  constant: number;
}

function cases(): Case[] {
  const r = rng(7);
  const out: Case[] = [];
  // the training shapes: leftmost slices of weights and vectors, and their pads back
  const fixed: [number[], number[]][] = [
    [[192, 32], [48, 8]],
    [[3, 3, 16, 1], [3, 3, 8, 1]],
    [[3, 3, 1, 240], [3, 3, 1, 96]],
    [[384], [96]],
    [[160, 480], [80, 240]],
    [[96, 320], [24, 320]],
  ];
  for (const [full, part] of fixed) {
    out.push({ shape: full, begin: full.map(() => 0), size: part, paddings: full.map((d, i) => [0, d - part[i]!]), constant: 0 });
  }
  for (let k = 0; k < 60; k++) {
    const rank = 1 + r(5);
    const shape = Array.from({ length: rank }, () => 1 + r(9));
    const begin = shape.map((d) => r(d));
    const size = shape.map((d, i) => (r(4) === 0 ? -1 : 1 + r(d - begin[i]!)));
    const paddings = shape.map(() => [r(4), r(4)] as [number, number]);
    out.push({ shape, begin, size, paddings, constant: r(3) === 0 ? 2.5 : 0 });
  }
  // an empty box, and a last axis of 1 over many rows (copyBoxPays says no: the backend's kernel)
  out.push({ shape: [4, 5], begin: [1, 2], size: [0, 3], paddings: [[0, 0], [1, 1]], constant: 0 });
  out.push({ shape: [300, 300, 1], begin: [0, 0, 0], size: [200, 300, 1], paddings: [[0, 0], [0, 0], [0, 3]], constant: 1 });
  return out;
}

function run(c: Case): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor(values(c.shape.reduce((a, b) => a * b, 1), c.shape.length), c.shape);
    const s = tf.slice(x, c.begin, c.size);
    const p = tf.pad(x, c.paddings, c.constant);
    // the gradient of a slice is a pad
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.slice(v, c.begin, c.size), 3)))(x);
    const xi = tf.tensor(Int32Array.from(values(x.size, 1), (v) => Math.trunc(v)), c.shape, 'int32');
    const si = tf.slice(xi, c.begin, c.size);
    return [s, p, g, si];
  }).map((t) => {
    const d = Float32Array.from(t.dataSync());
    t.dispose();
    return d;
  });
}

after(() => initBackend('wasm'));

describe('Slice and PadV2 by row copies on wasm', () => {
  test('give exactly what cpu gives, on ranks 1 to 5', async () => {
    const all = cases();
    await initBackend('cpu');
    const want = all.map(run);
    await initBackend('wasm', { threads: 2 });
    const before = tf.memory().numTensors;
    all.forEach((c, i) => {
      const got = run(c);
      for (let j = 0; j < got.length; j++) {
        assert.deepEqual(Buffer.from(got[j]!.buffer), Buffer.from(want[i]![j]!.buffer), `${JSON.stringify(c)} output ${j}`);
      }
    });
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  });

  test('copyBox merges the axes a box spans whole into one run', () => {
    assert.equal(runOf([4, 5, 6], [4, 5, 6], [2, 5, 6]).run, 60);
    assert.equal(runOf([4, 5, 6], [4, 5, 9], [2, 5, 6]).run, 6);
    assert.equal(runOf([3, 3, 16, 1], [3, 3, 8, 1], [3, 3, 8, 1]).run, 8);
    // against an index-per-element copy
    const r = rng(3);
    for (let k = 0; k < 200; k++) {
      const rank = 1 + r(4);
      const src = Array.from({ length: rank }, () => 1 + r(6));
      const box = src.map((d) => 1 + r(d));
      const srcStart = src.map((d, i) => r(d - box[i]! + 1));
      const dst = box.map((b) => b + r(3));
      const dstStart = dst.map((d, i) => r(d - box[i]! + 1));
      const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const heap = new Float32Array(10 + n(src) + n(dst));
      heap.set(values(n(src), k), 10);
      const dstOff = 10 + n(src);
      copyBox(heap, 10, src, srcStart, dstOff, dst, dstStart, box);
      const want = new Float32Array(n(dst));
      const strides = (s: number[]) => s.map((_, i) => n(s.slice(i + 1)));
      const ss = strides(src);
      const ds = strides(dst);
      for (let e = 0; e < n(box); e++) {
        let rest = e;
        let si = 0;
        let di = 0;
        for (let a = 0; a < rank; a++) {
          const inner = n(box.slice(a + 1));
          const i = Math.floor(rest / inner);
          rest %= inner;
          si += (srcStart[a]! + i) * ss[a]!;
          di += (dstStart[a]! + i) * ds[a]!;
        }
        want[di] = heap[10 + si]!;
      }
      assert.deepEqual(heap.subarray(dstOff), want, JSON.stringify({ src, box, srcStart, dst, dstStart }));
    }
  });
});
