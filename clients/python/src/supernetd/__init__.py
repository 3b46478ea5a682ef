"""Python client of supernetd.

The generated messages and stub live in ``supernetd.v1`` (``types_pb2``, ``supernet_service_pb2``,
``supernet_service_pb2_grpc``, ``error_reason_pb2``); this package adds a client with deadlines,
gRPC retries of the safe calls, request ids, bearer-token auth and readable errors, and numpy <-> Tensor conversions.
"""

from supernetd.client import (
    DEFAULT_ADDRESS,
    RETRIED_METHODS,
    Client,
    ExportedModel,
    RetryPolicy,
    flops,
    latency_ms,
    new_request_id,
    params,
)
from supernetd.errors import ERROR_DOMAIN, FieldViolation, SupernetdError
from supernetd.tensors import from_tensor, make_batch, to_tensor
from supernetd.v1.error_reason_pb2 import ErrorReason

__all__ = [
    "DEFAULT_ADDRESS",
    "ERROR_DOMAIN",
    "RETRIED_METHODS",
    "Client",
    "ErrorReason",
    "ExportedModel",
    "FieldViolation",
    "RetryPolicy",
    "SupernetdError",
    "flops",
    "from_tensor",
    "latency_ms",
    "make_batch",
    "new_request_id",
    "params",
    "to_tensor",
]
