import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { ElementType, TensorSchema, encodeTensor } from '@supernetd/api';
import type { Tensor } from '@supernetd/api';
import { decodeRequestTensor } from '../src/grpc/request-tensor.ts';

const decodeTensor = (t: Tensor | undefined, field: string, opts: { maxElements?: number } = {}) =>
  decodeRequestTensor(t, field, opts.maxElements ?? Number.MAX_SAFE_INTEGER);

test('round trip of every dtype, little-endian on the wire', () => {
  const f = encodeTensor(new Float32Array([1.5, -2, 3.25, 0]), [2, 2]);
  assert.equal(f.dtype, ElementType.FLOAT32);
  assert.deepEqual([...f.data.subarray(0, 4)], [0, 0, 0xc0, 0x3f], '1.5f little-endian');
  assert.deepEqual(decodeTensor(f, 'x'), { dtype: 'float32', shape: [2, 2], data: new Float32Array([1.5, -2, 3.25, 0]) });
  const i = encodeTensor(new Int32Array([7, -1]), [2]);
  assert.deepEqual([...i.data], [7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(decodeTensor(i, 'y').data, new Int32Array([7, -1]));
  const u = encodeTensor(new Uint8Array([0, 255, 9]), [3, 1]);
  assert.deepEqual(decodeTensor(u, 'z'), { dtype: 'uint8', shape: [3, 1], data: new Uint8Array([0, 255, 9]) });
});

test('decoding an unaligned byte view copies into an aligned typed array', () => {
  const bytes = new Uint8Array(9);
  bytes.set(new Uint8Array(new Float32Array([4, 5]).buffer), 1);
  const t = create(TensorSchema, { dtype: ElementType.FLOAT32, shape: [2], data: bytes.subarray(1) });
  assert.deepEqual(decodeTensor(t, 'x').data, new Float32Array([4, 5]));
});

test('malformed tensors are refused with INVALID_TENSOR naming the field', () => {
  const bad = (t: Parameters<typeof create<typeof TensorSchema>>[1], re: RegExp) =>
    assert.throws(() => decodeTensor(create(TensorSchema, t), 'batch.images'), (e: Error & { reason?: string; code?: string }) => {
      assert.equal(e.reason, 'INVALID_TENSOR');
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.match(e.message, re);
      return true;
    });
  bad({ dtype: ElementType.UNSPECIFIED, shape: [1], data: new Uint8Array(4) }, /batch\.images\.dtype is unset/);
  bad({ dtype: 42 as ElementType, shape: [1], data: new Uint8Array(4) }, /dtype is unknown \(42\)/);
  bad({ dtype: ElementType.FLOAT32, shape: [], data: new Uint8Array(4) }, /shape is empty/);
  bad({ dtype: ElementType.FLOAT32, shape: [2, -1], data: new Uint8Array(4) }, /shape\[1\] is -1/);
  bad({ dtype: ElementType.INT32, shape: [3], data: new Uint8Array(8) }, /has 8 bytes; shape \[3\] of int32 needs 12/);
  assert.throws(() => decodeTensor(undefined, 'batch.labels'), /batch\.labels is required/);
  assert.throws(() => encodeTensor(new Float32Array(3), [2, 2]), /4 elements but the data has 3/);
});

test('the element limit is RESOURCE_EXHAUSTED / LIMIT_EXCEEDED naming it', () => {
  const t = encodeTensor(new Uint8Array(100), [10, 10]);
  assert.throws(() => decodeTensor(t, 'x', { maxElements: 99 }), (e: Error & { reason?: string; code?: string }) => {
    assert.equal(e.code, 'RESOURCE_EXHAUSTED');
    assert.equal(e.reason, 'LIMIT_EXCEEDED');
    assert.match(e.message, /100 elements; the limit max_tensor_elements is 99/);
    return true;
  });
});
