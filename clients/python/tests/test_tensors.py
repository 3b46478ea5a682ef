import numpy as np
import pytest

from supernetd import from_tensor, make_batch, to_tensor
from supernetd.v1 import types_pb2


def test_float_round_trip_little_endian():
    array = np.arange(6, dtype=np.float64).reshape(2, 3) / 4
    tensor = to_tensor(array)
    assert tensor.dtype == types_pb2.ELEMENT_TYPE_FLOAT32
    assert list(tensor.shape) == [2, 3]
    assert tensor.data[4:8] == b"\x00\x00\x80>"  # 0.25 as little-endian float32
    np.testing.assert_array_equal(from_tensor(tensor), array.astype(np.float32))


def test_uint8_and_int32():
    pixels = np.array([[0, 255]], dtype=np.uint8)
    assert to_tensor(pixels).dtype == types_pb2.ELEMENT_TYPE_UINT8
    np.testing.assert_array_equal(from_tensor(to_tensor(pixels)), pixels)
    labels = to_tensor(np.array([1, -2, 3], dtype=np.int64))
    assert labels.dtype == types_pb2.ELEMENT_TYPE_INT32
    assert labels.data == b"\x01\x00\x00\x00\xfe\xff\xff\xff\x03\x00\x00\x00"


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        to_tensor(np.zeros((0, 3)))
    with pytest.raises(ValueError):
        to_tensor(np.array([2**40]))
    with pytest.raises(ValueError):
        from_tensor(types_pb2.Tensor(dtype=types_pb2.ELEMENT_TYPE_FLOAT32, shape=[2], data=b"\x00" * 4))
    with pytest.raises(TypeError):
        make_batch(np.zeros((1, 2, 2, 1), np.uint8), np.array([0.5]))


def test_batch_labels_are_int32():
    batch = make_batch(np.zeros((2, 4, 4, 1), np.uint8), np.array([3, 4], dtype=np.uint8))
    assert batch.labels.dtype == types_pb2.ELEMENT_TYPE_INT32
    assert list(batch.images.shape) == [2, 4, 4, 1]
