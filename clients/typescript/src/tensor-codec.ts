// Typed arrays <-> the Tensor message (dtype, shape, little-endian bytes), for tensors.ts.
import { create } from '@bufbuild/protobuf';
import { ElementType, TensorSchema } from './gen/supernetd/v1/types_pb.js';
import type { Tensor } from './gen/supernetd/v1/types_pb.js';

/** Element types a Tensor message can carry. */
export type TensorDType = 'float32' | 'int32' | 'uint8';

/** A decoded tensor: dtype, shape and a typed array of product(shape) elements (a copy, aligned). */
export interface DecodedTensor {
  dtype: TensorDType;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

const BYTES_PER_ELEMENT: Readonly<Record<TensorDType, number>> = { float32: 4, int32: 4, uint8: 1 };

const DTYPE_OF: Partial<Record<ElementType, TensorDType>> = {
  [ElementType.FLOAT32]: 'float32',
  [ElementType.INT32]: 'int32',
  [ElementType.UINT8]: 'uint8',
};

const ELEMENT_TYPE_OF: Record<TensorDType, ElementType> = { float32: ElementType.FLOAT32, int32: ElementType.INT32, uint8: ElementType.UINT8 };

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes a Tensor message; `field` names it in errors. Throws RangeError when the dtype is unset or unknown, the shape is
 * empty or has a non-positive dimension, or the byte length is not product(shape) * bytes per element.
 */
export function decodeTensor(tensor: Tensor, field = 'tensor'): DecodedTensor {
  const dtype = DTYPE_OF[tensor.dtype];
  if (dtype === undefined) {
    const what = tensor.dtype === ElementType.UNSPECIFIED ? 'unset' : `unknown (${tensor.dtype})`;
    throw new RangeError(`${field}.dtype is ${what}; expected FLOAT32, INT32 or UINT8`);
  }
  if (tensor.shape.length === 0) throw new RangeError(`${field}.shape is empty`);
  let elements = 1;
  tensor.shape.forEach((d, i) => {
    if (!(d > 0)) throw new RangeError(`${field}.shape[${i}] is ${d}; every dimension must be positive`);
    elements *= d;
  });
  const expected = elements * BYTES_PER_ELEMENT[dtype];
  if (tensor.data.byteLength !== expected) {
    throw new RangeError(`${field}.data has ${tensor.data.byteLength} bytes; shape [${tensor.shape.join(', ')}] of ${dtype} needs ${expected}`);
  }
  const bytes = tensor.data;
  let data: Float32Array | Int32Array | Uint8Array;
  if (dtype === 'uint8') {
    data = new Uint8Array(bytes);
  } else {
    const out = dtype === 'float32' ? new Float32Array(elements) : new Int32Array(elements);
    if (littleEndianHost) {
      new Uint8Array(out.buffer).set(bytes);
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < elements; i++) out[i] = dtype === 'float32' ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
    }
    data = out;
  }
  return { dtype, shape: [...tensor.shape], data };
}

/**
 * Encodes a typed array as a Tensor message; the dtype follows the array's type. Throws
 * RangeError when the shape has a non-positive dimension or its product differs from the length.
 */
export function encodeTensor(data: Float32Array | Int32Array | Uint8Array, shape: readonly number[]): Tensor {
  const dtype: TensorDType = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'uint8';
  let elements = 1;
  for (const d of shape) {
    if (!(Number.isInteger(d) && d > 0)) throw new RangeError(`shape [${shape.join(', ')}] has a non-positive dimension`);
    elements *= d;
  }
  if (elements !== data.length) throw new RangeError(`shape [${shape.join(', ')}] has ${elements} elements but the data has ${data.length}`);
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
