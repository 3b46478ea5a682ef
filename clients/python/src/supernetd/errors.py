"""Readable errors for failed supernetd calls."""

from __future__ import annotations

import grpc

from supernetd.v1 import error_reason_pb2

#: Trailing metadata key in which the server names the ErrorReason of a failed call.
ERROR_REASON_KEY = "supernetd-error-reason"


class SupernetdError(Exception):
    """A supernetd call failed.

    Attributes:
        code: the gRPC status code (``grpc.StatusCode``).
        reason: the ``supernetd.v1.ErrorReason`` value from the trailing metadata
            ``supernetd-error-reason`` (``ERROR_REASON_UNSPECIFIED`` when the server sent none,
            for example when the connection itself failed).
        reason_name: the reason's enum name as sent, e.g. ``ERROR_REASON_EXPERIMENT_NOT_FOUND``;
            kept verbatim so a reason added by a newer server is still visible.
        message: the server's human-readable message.
    """

    def __init__(self, code: grpc.StatusCode, reason: int, message: str, reason_name: str | None = None) -> None:
        self.code = code
        self.reason = reason
        self.reason_name = reason_name or error_reason_pb2.ErrorReason.Name(reason)
        self.message = message
        super().__init__(f"{code.name} ({self.reason_name}): {message}")

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> SupernetdError:
        """Builds the error from a failed call's status and trailing metadata."""
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = (error.details() if hasattr(error, "details") else None) or str(error)
        trailers = (error.trailing_metadata() if hasattr(error, "trailing_metadata") else None) or ()
        reason_name = ""
        for key, value in trailers:
            if key == ERROR_REASON_KEY:
                reason_name = value.decode() if isinstance(value, bytes) else value
                break
        try:
            reason = error_reason_pb2.ErrorReason.Value(reason_name) if reason_name else 0
        except ValueError:
            reason = error_reason_pb2.ERROR_REASON_UNSPECIFIED
        return cls(code, reason, details, reason_name or None)
