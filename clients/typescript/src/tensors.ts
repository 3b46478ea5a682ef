import { create } from '@bufbuild/protobuf';
import { BatchSchema, decodeTensor, encodeTensor } from './proto.ts';
import type { Batch, DecodedTensor, Tensor } from './proto.ts';

/**
 * Encodes a typed array as a Tensor (row-major, little-endian): Float32Array is FLOAT32,
 * Int32Array INT32, Uint8Array UINT8. Throws RangeError when a dimension is not positive or the
 * shape's product differs from the array length.
 */
export function toTensor(data: Float32Array | Int32Array | Uint8Array, shape: readonly number[]): Tensor {
  try {
    return encodeTensor(data, shape);
  } catch (err) {
    throw new RangeError((err as Error).message);
  }
}

/**
 * Decodes a Tensor into its dtype, shape and a new typed array. Throws RangeError when the dtype is
 * unset or unknown, or the byte length disagrees with the shape.
 */
export function fromTensor(tensor: Tensor): DecodedTensor {
  try {
    return decodeTensor(tensor, 'tensor');
  } catch (err) {
    throw new RangeError((err as Error).message);
  }
}

/**
 * A Batch of NHWC images (uint8 pixels, or float32 already normalised) of shape `imageShape` and
 * one class label per image. Throws RangeError when the label count is not imageShape[0].
 */
export function makeBatch(
  images: Float32Array | Uint8Array,
  imageShape: readonly number[],
  labels: Int32Array | readonly number[],
): Batch {
  const labelArray = labels instanceof Int32Array ? labels : Int32Array.from(labels);
  if (imageShape[0] !== labelArray.length) {
    throw new RangeError(`${labelArray.length} labels for images of shape [${imageShape.join(', ')}]`);
  }
  return create(BatchSchema, { images: toTensor(images, imageShape), labels: toTensor(labelArray, [labelArray.length]) });
}
