import { create } from '@bufbuild/protobuf';
import { InvalidArgumentError, ResourceExhaustedError } from '@supernetd/sdk';
import { ElementType, TensorSchema } from './gen/supernetd/v1/types_pb.ts';
import type { Tensor } from './gen/supernetd/v1/types_pb.ts';

/** Element types a Tensor message can carry, by their domain names. */
export type TensorDType = 'float32' | 'int32' | 'uint8';

/** A decoded tensor: dtype, shape and a typed array of product(shape) elements (a copy, aligned). */
export interface DecodedTensor {
  dtype: TensorDType;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<TensorDType, number>> = { float32: 4, int32: 4, uint8: 1 };

const DTYPE_OF: Partial<Record<ElementType, TensorDType>> = {
  [ElementType.FLOAT32]: 'float32',
  [ElementType.INT32]: 'int32',
  [ElementType.UINT8]: 'uint8',
};

const ELEMENT_TYPE_OF: Record<TensorDType, ElementType> = {
  float32: ElementType.FLOAT32,
  int32: ElementType.INT32,
  uint8: ElementType.UINT8,
};

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes and validates a Tensor message. `field` names it in errors (for example `batch.images`).
 * Throws InvalidArgumentError(INVALID_TENSOR) when the message is missing, the dtype is unset or
 * unknown, the shape is empty or has a non-positive dimension, or the byte length is not
 * product(shape) * bytes per element; ResourceExhaustedError(LIMIT_EXCEEDED) when `maxElements` is
 * given and the element count exceeds it.
 */
export function decodeTensor(tensor: Tensor | undefined, field: string, opts: { maxElements?: number } = {}): DecodedTensor {
  if (tensor === undefined) throw new InvalidArgumentError(`${field} is required`, 'INVALID_TENSOR');
  const dtype = DTYPE_OF[tensor.dtype];
  if (dtype === undefined) {
    const what = tensor.dtype === ElementType.UNSPECIFIED ? 'unset' : `unknown (${tensor.dtype})`;
    throw new InvalidArgumentError(`${field}.dtype is ${what}; expected FLOAT32, INT32 or UINT8`, 'INVALID_TENSOR');
  }
  if (tensor.shape.length === 0) throw new InvalidArgumentError(`${field}.shape is empty`, 'INVALID_TENSOR');
  let elements = 1;
  tensor.shape.forEach((d, i) => {
    if (!(d > 0)) throw new InvalidArgumentError(`${field}.shape[${i}] is ${d}; every dimension must be positive`, 'INVALID_TENSOR');
    elements *= d;
  });
  if (opts.maxElements !== undefined && elements > opts.maxElements) {
    throw new ResourceExhaustedError(
      'LIMIT_EXCEEDED',
      `${field} has ${elements} elements; the limit max_tensor_elements is ${opts.maxElements}`,
    );
  }
  const expected = elements * BYTES_PER_ELEMENT[dtype];
  if (tensor.data.byteLength !== expected) {
    throw new InvalidArgumentError(
      `${field}.data has ${tensor.data.byteLength} bytes; shape [${tensor.shape.join(', ')}] of ${dtype} needs ${expected}`,
      'INVALID_TENSOR',
    );
  }
  return { dtype, shape: [...tensor.shape], data: toTypedArray(dtype, tensor.data, elements) };
}

function toTypedArray(dtype: TensorDType, bytes: Uint8Array, elements: number): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'uint8') return new Uint8Array(bytes);
  const out = dtype === 'float32' ? new Float32Array(elements) : new Int32Array(elements);
  if (littleEndianHost) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < elements; i++) out[i] = dtype === 'float32' ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
  }
  return out;
}

/**
 * Encodes a typed array as a Tensor message (little-endian bytes). The dtype follows the array's
 * type. Throws InvalidArgumentError(INVALID_TENSOR) when the shape has a non-positive dimension or
 * its product differs from the array length.
 */
export function encodeTensor(data: Float32Array | Int32Array | Uint8Array, shape: readonly number[]): Tensor {
  const dtype: TensorDType = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'uint8';
  let elements = 1;
  for (const d of shape) {
    if (!(Number.isInteger(d) && d > 0)) throw new InvalidArgumentError(`shape [${shape.join(', ')}] has a non-positive dimension`, 'INVALID_TENSOR');
    elements *= d;
  }
  if (elements !== data.length) {
    throw new InvalidArgumentError(`shape [${shape.join(', ')}] has ${elements} elements but the data has ${data.length}`, 'INVALID_TENSOR');
  }
  let bytes: Uint8Array;
  if (littleEndianHost || dtype === 'uint8') {
    bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  } else {
    bytes = new Uint8Array(data.byteLength);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) {
      if (dtype === 'float32') view.setFloat32(i * 4, data[i] as number, true);
      else view.setInt32(i * 4, data[i] as number, true);
    }
  }
  return create(TensorSchema, { dtype: ELEMENT_TYPE_OF[dtype], shape: [...shape], data: bytes });
}
