import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ElementType } from '../src/index.ts';
import { fromTensor, makeBatch, toTensor } from '../src/index.ts';

test('float32 tensors are little-endian and round-trip', () => {
  const values = new Float32Array([0, 0.25, -1, 3.5, 8, 1e-3]);
  const t = toTensor(values, [2, 3]);
  assert.equal(t.dtype, ElementType.FLOAT32);
  assert.deepEqual([...t.data.subarray(4, 8)], [0, 0, 0x80, 0x3e]);
  const back = fromTensor(t);
  assert.deepEqual(back.shape, [2, 3]);
  assert.deepEqual([...back.data], [...values]);
});

test('int32 and uint8 tensors', () => {
  const labels = toTensor(new Int32Array([1, -2]), [2]);
  assert.deepEqual([...labels.data], [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
  const pixels = toTensor(new Uint8Array([0, 255, 7]), [1, 3]);
  assert.equal(pixels.dtype, ElementType.UINT8);
  assert.equal(fromTensor(pixels).dtype, 'uint8');
});

test('bad shapes are refused with RangeError', () => {
  assert.throws(() => toTensor(new Float32Array(3), [2, 2]), RangeError);
  assert.throws(() => toTensor(new Float32Array(0), [0]), RangeError);
  assert.throws(() => makeBatch(new Uint8Array(2), [2, 1, 1, 1], [0]), RangeError);
  const labels = makeBatch(new Uint8Array(2), [2, 1, 1, 1], [3, 4]).labels;
  assert.equal(labels?.dtype, ElementType.INT32);
});
