"""Conversions between numpy arrays and ``supernetd.v1.Tensor`` messages."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from supernetd.v1 import types_pb2

_WIRE_DTYPES = {
    types_pb2.ELEMENT_TYPE_FLOAT32: np.dtype("<f4"),
    types_pb2.ELEMENT_TYPE_INT32: np.dtype("<i4"),
    types_pb2.ELEMENT_TYPE_UINT8: np.dtype("u1"),
}


def _element_type(array: np.ndarray) -> tuple[int, np.ndarray]:
    kind = array.dtype.kind
    if array.dtype == np.uint8:
        return types_pb2.ELEMENT_TYPE_UINT8, array
    if kind == "f":
        return types_pb2.ELEMENT_TYPE_FLOAT32, array.astype("<f4", copy=False)
    if kind in "iub":
        if array.size and (array.min() < np.iinfo(np.int32).min or array.max() > np.iinfo(np.int32).max):
            raise ValueError(f"integer values of dtype {array.dtype} do not fit in int32")
        return types_pb2.ELEMENT_TYPE_INT32, array.astype("<i4", copy=False)
    raise TypeError(f"cannot send dtype {array.dtype}: use a float, integer or uint8 array")


def to_tensor(array: npt.ArrayLike) -> types_pb2.Tensor:
    """Encodes an array as a Tensor: uint8 stays UINT8, floats become FLOAT32, other integers INT32.

    Raises ValueError for a 0-d or empty array or integers outside int32, TypeError for other dtypes.
    """
    arr = np.asarray(array)
    if arr.ndim == 0 or arr.size == 0:
        raise ValueError(f"a tensor needs at least one dimension and one element; got shape {arr.shape}")
    dtype, wire = _element_type(arr)
    return types_pb2.Tensor(dtype=dtype, shape=list(wire.shape), data=np.ascontiguousarray(wire).tobytes())


def from_tensor(tensor: types_pb2.Tensor) -> np.ndarray:
    """Decodes a Tensor into a new array of shape ``tensor.shape`` (float32, int32 or uint8).

    Raises ValueError when the dtype is unset or unknown or the byte length disagrees with the shape.
    """
    wire = _WIRE_DTYPES.get(tensor.dtype)
    if wire is None:
        raise ValueError(f"unsupported tensor dtype {tensor.dtype}")
    shape = tuple(tensor.shape)
    expected = int(np.prod(shape, dtype=np.int64)) * wire.itemsize
    if len(tensor.data) != expected:
        raise ValueError(f"tensor of shape {list(shape)} and dtype {wire} needs {expected} bytes, has {len(tensor.data)}")
    return np.frombuffer(tensor.data, dtype=wire).astype(wire.newbyteorder("="), copy=True).reshape(shape)


def make_batch(images: npt.ArrayLike, labels: npt.ArrayLike) -> types_pb2.Batch:
    """Builds a Batch from NHWC images (uint8 pixels or normalised floats) and integer class labels."""
    label_array = np.asarray(labels)
    if label_array.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got {label_array.dtype}")
    return types_pb2.Batch(images=to_tensor(images), labels=to_tensor(label_array.astype(np.int32)))
