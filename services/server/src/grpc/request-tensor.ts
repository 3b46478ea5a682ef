import { decodeTensor } from '@supernetd/api';
import type { DecodedTensor, Tensor } from '@supernetd/api';
import { InvalidArgumentError, ResourceExhaustedError } from '@supernetd/sdk';

/**
 * Decodes a Tensor of a request. `field` names it in errors (for example `batch.images`). Throws
 * InvalidArgumentError(INVALID_TENSOR) when it is missing, its dtype is unset or unknown, its shape
 * is empty or has a non-positive dimension, or its byte length is not product(shape) * bytes per
 * element; ResourceExhaustedError(LIMIT_EXCEEDED) when its shape holds more than `maxElements`
 * elements (checked before anything is copied).
 */
export function decodeRequestTensor(tensor: Tensor | undefined, field: string, maxElements: number): DecodedTensor {
  if (tensor === undefined) throw new InvalidArgumentError(`${field} is required`, 'INVALID_TENSOR');
  const elements = tensor.shape.reduce((a, d) => a * d, 1);
  if (tensor.shape.length > 0 && tensor.shape.every((d) => d > 0) && elements > maxElements) {
    throw new ResourceExhaustedError('LIMIT_EXCEEDED', `${field} has ${elements} elements; the limit max_tensor_elements is ${maxElements}`);
  }
  try {
    return decodeTensor(tensor, field);
  } catch (err) {
    if (err instanceof RangeError) throw new InvalidArgumentError(err.message, 'INVALID_TENSOR');
    throw err;
  }
}
