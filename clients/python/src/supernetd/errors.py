"""Readable errors for failed supernetd calls, from the standard ``google.rpc.Status`` details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from supernetd.v1 import error_reason_pb2

#: The ``google.rpc.ErrorInfo.domain`` of every supernetd error.
ERROR_DOMAIN = "supernetd.dev"


@dataclass(frozen=True)
class FieldViolation:
    """One ``google.rpc.BadRequest.FieldViolation``: the request field (proto path) and what is wrong."""

    field: str
    description: str


class SupernetdError(Exception):
    """A supernetd call failed.

    Built from the ``google.rpc.Status`` the server sends in ``grpc-status-details-bin``,
    decoded with grpcio-status (``rpc_status.from_call``).

    Attributes:
        code: the gRPC status code (``grpc.StatusCode``).
        reason: the ``supernetd.v1.ErrorReason`` value of the status's ``ErrorInfo``
            (``ERROR_REASON_UNSPECIFIED`` when there was none, for example when the connection
            itself failed).
        reason_name: the reason as sent, e.g. ``ERROR_REASON_EXPERIMENT_NOT_FOUND``; kept verbatim
            so a reason added by a newer server is still visible.
        domain: ``ErrorInfo.domain`` (``supernetd.dev``), empty without details.
        metadata: ``ErrorInfo.metadata``: ``field`` (the request field's proto path), ``limit``
            and ``limitValue`` (a limit's name and value), where they apply.
        field_violations: ``BadRequest`` field violations (INVALID_ARGUMENT).
        request_id: the id the server logged the call under (``RequestInfo``), empty without one.
        message: the server's human-readable message.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: int,
        message: str,
        reason_name: Optional[str] = None,
        *,
        domain: str = "",
        metadata: Optional[dict[str, str]] = None,
        field_violations: tuple[FieldViolation, ...] = (),
        request_id: str = "",
    ) -> None:
        self.code = code
        self.reason = reason
        self.reason_name = reason_name or error_reason_pb2.ErrorReason.Name(reason)
        self.message = message
        self.domain = domain
        self.metadata = dict(metadata or {})
        self.field_violations = field_violations
        self.request_id = request_id
        super().__init__(f"{code.name} ({self.reason_name}): {message}")

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> SupernetdError:
        """Builds the error from a failed call's status and its ``google.rpc.Status`` details."""
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = (error.details() if hasattr(error, "details") else None) or str(error)
        status = None
        if hasattr(error, "trailing_metadata"):
            try:
                status = rpc_status.from_call(error)  # type: ignore[arg-type]
            except ValueError:
                status = None  # details that disagree with the status line: ignore them
        reason_name, domain, metadata, request_id = "", "", {}, ""
        violations: list[FieldViolation] = []
        for detail in status.details if status is not None else ():
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR) and not reason_name:
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason_name, domain, metadata = info.reason, info.domain, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
            elif detail.Is(error_details_pb2.RequestInfo.DESCRIPTOR):
                info_r = error_details_pb2.RequestInfo()
                detail.Unpack(info_r)
                request_id = info_r.request_id
        try:
            reason = error_reason_pb2.ErrorReason.Value(reason_name) if reason_name else 0
        except ValueError:
            reason = error_reason_pb2.ERROR_REASON_UNSPECIFIED
        return cls(
            code,
            reason,
            message,
            reason_name or None,
            domain=domain,
            metadata=metadata,
            field_violations=tuple(violations),
            request_id=request_id,
        )
