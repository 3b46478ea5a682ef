"""Python client of supernetd.

The generated messages and stub live in ``supernetd.v1`` (``types_pb2``, ``supernet_service_pb2``,
``supernet_service_pb2_grpc``, ``error_reason_pb2``); this package adds a client with deadlines,
retries, bearer-token auth and readable errors, and numpy <-> Tensor conversions.
"""

from supernetd.client import DEFAULT_ADDRESS, Client, ExportedModel, RetryPolicy, flops, latency_ms, params
from supernetd.errors import ERROR_REASON_KEY, SupernetdError
from supernetd.tensors import from_tensor, make_batch, to_tensor
from supernetd.v1.error_reason_pb2 import ErrorReason

__all__ = [
    "DEFAULT_ADDRESS",
    "ERROR_REASON_KEY",
    "Client",
    "ErrorReason",
    "ExportedModel",
    "RetryPolicy",
    "SupernetdError",
    "flops",
    "from_tensor",
    "latency_ms",
    "make_batch",
    "params",
    "to_tensor",
]
