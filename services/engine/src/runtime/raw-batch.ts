import type * as tfc from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@supernetd/sdk';
import type { Batch } from '@supernetd/sdk';
import type { RawTensor } from '../runtime-types.ts';

const DTYPES = new Set(['float32', 'int32', 'uint8']);

function checkRaw(t: RawTensor, what: string): number {
  if (t === null || typeof t !== 'object' || !DTYPES.has(t.dtype)) {
    throw new InvalidArgumentError(`${what}: dtype must be float32, int32 or uint8`, 'INVALID_TENSOR');
  }
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new InvalidArgumentError(`${what}: shape must be a list of non-negative integers`, 'INVALID_TENSOR');
  }
  const expected = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array }[t.dtype];
  if (!(t.data instanceof expected)) throw new InvalidArgumentError(`${what}: data does not match dtype ${t.dtype}`, 'INVALID_TENSOR');
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) {
    throw new InvalidArgumentError(
      `${what}: shape [${t.shape.join(', ')}] needs ${n * t.data.BYTES_PER_ELEMENT} bytes, got ${t.data.byteLength}`,
      'INVALID_TENSOR',
    );
  }
  return n;
}

/**
 * Validates and converts an inline batch (see EngineRuntime.batchFromRaw for the error reasons).
 * Images: [N, H, W, C] (or [N, H, W] when C is 1) float32 or uint8 (scaled by 1/255); labels [N]
 * int32 or uint8 in [0, numClasses).
 */
export function batchFromRaw(
  tf: typeof tfc,
  images: RawTensor,
  labels: RawTensor,
  inputShape: readonly [number, number, number],
  numClasses: number,
): Batch {
  checkRaw(images, 'images');
  checkRaw(labels, 'labels');
  const [h, w, c] = inputShape;
  const s = images.shape;
  const rankOk = s.length === 4 || (s.length === 3 && c === 1);
  if (!rankOk || s[1] !== h || s[2] !== w || (s.length === 4 && s[3] !== c)) {
    throw new InvalidArgumentError(`images: shape [${s.join(', ')}] must be [N, ${h}, ${w}, ${c}]`, 'SHAPE_MISMATCH');
  }
  const n = s[0] as number;
  if (n === 0) throw new InvalidArgumentError('images: the batch is empty', 'SHAPE_MISMATCH');
  if (images.dtype === 'int32') throw new InvalidArgumentError('images: dtype must be float32 or uint8', 'INVALID_TENSOR');
  if (labels.dtype === 'float32') throw new InvalidArgumentError('labels: dtype must be int32 or uint8', 'INVALID_TENSOR');
  if (labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new InvalidArgumentError(`labels: shape [${labels.shape.join(', ')}] must be [${n}] (one label per image)`, 'SHAPE_MISMATCH');
  }
  let x: Float32Array;
  if (images.dtype === 'uint8') {
    x = new Float32Array(images.data.length);
    for (let i = 0; i < x.length; i++) x[i] = (images.data[i] as number) / 255;
  } else {
    x = images.data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) throw new InvalidArgumentError(`images: element ${i} is ${x[i]}`, 'NON_FINITE_VALUE');
    }
  }
  const y = Int32Array.from(labels.data);
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (v < 0 || v >= numClasses) throw new InvalidArgumentError(`labels: label ${v} at ${i} is outside [0, ${numClasses})`);
  }
  return { x: tf.tensor4d(x, [n, h, w, c], 'float32'), y: tf.tensor1d(y, 'int32') };
}

/**
 * An inline batch in parts of at most `chunk` images (views, nothing copied). A batch whose images
 * and labels do not agree on the image count, or whose data does not match its shape, comes back
 * whole, so `batchFromRaw` reports what is wrong with it.
 */
export function* sliceRawBatch(images: RawTensor, labels: RawTensor, chunk: number): Generator<{ images: RawTensor; labels: RawTensor }> {
  const n = Array.isArray(images?.shape) ? images.shape[0] : undefined;
  const per = Array.isArray(images?.shape) ? images.shape.slice(1).reduce((a, b) => a * b, 1) : 0;
  const size = Math.max(1, Math.floor(chunk));
  const sliceable =
    typeof n === 'number' &&
    Number.isInteger(n) &&
    n > size &&
    ArrayBuffer.isView(images.data) &&
    ArrayBuffer.isView(labels?.data) &&
    images.data.length === n * per &&
    Array.isArray(labels.shape) &&
    labels.shape.length === 1 &&
    labels.shape[0] === n &&
    labels.data.length === n;
  if (!sliceable) {
    yield { images, labels };
    return;
  }
  for (let start = 0; start < n; start += size) {
    const count = Math.min(size, n - start);
    yield {
      images: { ...images, shape: [count, ...images.shape.slice(1)], data: images.data.subarray(start * per, (start + count) * per) } as RawTensor,
      labels: { ...labels, shape: [count], data: labels.data.subarray(start, start + count) } as RawTensor,
    };
  }
}
