"""A thin, typed layer over the generated SupernetService stub."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, TypeVar

import grpc
import numpy.typing as npt
from google.protobuf import struct_pb2

from supernetd.errors import SupernetdError
from supernetd.tensors import make_batch
from supernetd.v1 import supernet_service_pb2 as pb
from supernetd.v1 import supernet_service_pb2_grpc as pb_grpc
from supernetd.v1 import types_pb2

_T = TypeVar("_T")

#: Address used when neither an argument nor SUPERNETD_ADDR says otherwise.
DEFAULT_ADDRESS = "127.0.0.1:50051"


_SERVICE = "supernetd.v1.SupernetService"

#: Calls gRPC may retry: the idempotent ones, and those that carry a request_id (the client fills
#: one per call, and a retry resends the same message, so the server applies it once). Train is
#: never retried: a repeat would train again.
RETRIED_METHODS = (
    "GetExperiment",
    "ListExperiments",
    "ListStrategies",
    "SampleSubnet",
    "ListMetrics",
    "Evaluate",
    "ExportSubnet",
    "CreateExperiment",
    "DeleteExperiment",
    "ReportMetric",
    "TrainStep",
)


@dataclass(frozen=True)
class RetryPolicy:
    """gRPC's own retries (the channel's service config ``retryPolicy``) of calls that fail with
    UNAVAILABLE, with exponential back-off and jitter, for the calls in ``RETRIED_METHODS``.

    ``max_attempts`` counts the first try (gRPC caps it at 5); 1 disables retries.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0

    def service_config(self) -> dict[str, Any]:
        """The service config (``grpc.service_config`` channel option) carrying this policy."""
        if self.max_attempts <= 1:
            return {"methodConfig": []}
        return {
            "methodConfig": [
                {
                    "name": [{"service": _SERVICE, "method": m} for m in RETRIED_METHODS],
                    "retryPolicy": {
                        "maxAttempts": self.max_attempts,
                        "initialBackoff": f"{self.initial_backoff}s",
                        "maxBackoff": f"{self.max_backoff}s",
                        "backoffMultiplier": self.multiplier,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }


def new_request_id() -> str:
    """A fresh request id (a UUID), as the client makes for each call that takes one."""
    return str(uuid.uuid4())


@dataclass
class ExportedModel:
    """An exported subnet: the export header and every file's bytes, checked against their SHA-256."""

    header: pb.ExportHeader
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def subnet(self) -> types_pb2.Subnet:
        return self.header.subnet

    def write(self, directory: str | os.PathLike[str]) -> list[str]:
        """Writes the files under ``directory`` (created if needed) and returns their paths.

        Raises ValueError when a file's path would land outside ``directory``.
        """
        root = os.path.abspath(directory)
        os.makedirs(root, exist_ok=True)
        written = []
        for name, data in self.files.items():
            path = os.path.abspath(os.path.join(root, name))
            if os.path.commonpath([root, path]) != root:
                raise ValueError(f"export path escapes the directory: {name}")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as out:
                out.write(data)
            written.append(path)
        return written


def _constraint(kind: int, target: float, tolerance: Optional[float]) -> types_pb2.Constraint:
    c = types_pb2.Constraint(kind=kind, target=target)
    if tolerance is not None:
        c.tolerance = tolerance  # explicit presence: 0 is sent as 0
    return c


def flops(target: float, tolerance: Optional[float] = None) -> types_pb2.Constraint:
    """A FLOPs (multiply-accumulate) budget; ``tolerance`` None leaves the strategy's default, 0 asks for no slack."""
    return _constraint(types_pb2.CONSTRAINT_KIND_FLOPS, target, tolerance)


def params(target: float, tolerance: Optional[float] = None) -> types_pb2.Constraint:
    """A parameter-count budget; ``tolerance`` None leaves the strategy's default, 0 asks for no slack."""
    return _constraint(types_pb2.CONSTRAINT_KIND_PARAMS, target, tolerance)


def latency_ms(target: float, tolerance: Optional[float] = None) -> types_pb2.Constraint:
    """A latency budget in milliseconds; ``tolerance`` None leaves the strategy's default, 0 asks for no slack."""
    return _constraint(types_pb2.CONSTRAINT_KIND_LATENCY, target, tolerance)


def _struct(value: Optional[Mapping[str, Any]]) -> Optional[struct_pb2.Struct]:
    if value is None:
        return None
    out = struct_pb2.Struct()
    out.update(dict(value))
    return out


class Client:
    """Client of one supernetd server.

    Every call gets ``timeout`` seconds unless it passes its own. gRPC itself retries the calls in
    ``RETRIED_METHODS`` on UNAVAILABLE per ``retry`` (the channel's service config); CreateExperiment,
    DeleteExperiment, ReportMetric and TrainStep carry a ``request_id`` (a fresh UUID unless the
    caller passes one, the same on every retry), so the server applies each at most once. A failed
    call raises :class:`SupernetdError` carrying the gRPC code and the server's error details.

    Args:
        address: ``host:port``; default ``$SUPERNETD_ADDR`` or ``127.0.0.1:50051``.
        token: bearer token sent as ``authorization: Bearer <token>``; default ``$SUPERNETD_TOKEN``.
        tls: use TLS; ``root_certificates`` (PEM bytes) overrides the system roots. By default TLS
            is on when ``$SUPERNETD_TLS_CA`` names a PEM file of trusted certificates.
        timeout: default deadline in seconds of every call; ``train`` streams get none by default.
    """

    def __init__(
        self,
        address: Optional[str] = None,
        *,
        token: Optional[str] = None,
        tls: Optional[bool] = None,
        root_certificates: Optional[bytes] = None,
        timeout: float = 120.0,
        retry: RetryPolicy = RetryPolicy(),
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self.address = address or os.environ.get("SUPERNETD_ADDR") or DEFAULT_ADDRESS
        token = token if token is not None else os.environ.get("SUPERNETD_TOKEN") or None
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        self.timeout = timeout
        self.retry = retry
        channel_options = [
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            ("grpc.enable_retries", 1),
            ("grpc.service_config", json.dumps(retry.service_config())),
            *options,
        ]
        ca_file = os.environ.get("SUPERNETD_TLS_CA")
        if tls is None:
            tls = bool(ca_file)
        if tls and root_certificates is None and ca_file:
            with open(ca_file, "rb") as pem:
                root_certificates = pem.read()
        if tls:
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.secure_channel(self.address, credentials, options=channel_options)
        else:
            self._channel = grpc.insecure_channel(self.address, options=channel_options)
        #: The generated stub, for calls the wrapper does not cover.
        self.stub = pb_grpc.SupernetServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _unary(self, method: Callable[..., _T], request: Any, timeout: Optional[float]) -> _T:
        deadline = self.timeout if timeout is None else timeout
        try:
            return method(request, timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as error:
            raise SupernetdError.from_rpc_error(error) from None

    # -- experiments ------------------------------------------------------------------------

    def create_experiment(
        self,
        *,
        experiment_id: str = "",
        search_space: str = "mbv2-small",
        search_space_overrides: Optional[Mapping[str, Any]] = None,
        strategy: str = "uniform",
        strategy_config: Optional[Mapping[str, Any]] = None,
        training: Optional[types_pb2.TrainingConfig] = None,
        display_name: str = "",
        request_id: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> types_pb2.Experiment:
        """Creates an experiment and returns it with defaults filled in. ``request_id`` (default: a
        fresh UUID) makes a repeat of this call return the same experiment instead of a second one."""
        spec = types_pb2.ExperimentSpec(
            display_name=display_name,
            search_space=types_pb2.SearchSpace(preset=search_space, overrides=_struct(search_space_overrides)),
            strategy=types_pb2.StrategySpec(id=strategy, config=_struct(strategy_config)),
            training=training,
        )
        request = pb.CreateExperimentRequest(
            experiment_id=experiment_id, spec=spec, request_id=request_id or new_request_id()
        )
        return self._unary(self.stub.CreateExperiment, request, timeout).experiment

    def get_experiment(self, experiment_id: str, *, timeout: Optional[float] = None) -> types_pb2.Experiment:
        """Returns one experiment; NOT_FOUND / ERROR_REASON_EXPERIMENT_NOT_FOUND if it does not exist."""
        return self._unary(self.stub.GetExperiment, pb.GetExperimentRequest(experiment_id=experiment_id), timeout).experiment

    def list_experiments(self, *, timeout: Optional[float] = None) -> list[types_pb2.Experiment]:
        """Returns every experiment, following pages."""
        out: list[types_pb2.Experiment] = []
        token = ""
        while True:
            page = self._unary(self.stub.ListExperiments, pb.ListExperimentsRequest(page_token=token), timeout)
            out.extend(page.experiments)
            token = page.next_page_token
            if not token:
                return out

    def delete_experiment(
        self, experiment_id: str, *, request_id: Optional[str] = None, timeout: Optional[float] = None
    ) -> None:
        """Deletes an experiment and everything stored for it (``request_id``: see create_experiment)."""
        request = pb.DeleteExperimentRequest(experiment_id=experiment_id, request_id=request_id or new_request_id())
        self._unary(self.stub.DeleteExperiment, request, timeout)

    def list_strategies(self, *, timeout: Optional[float] = None) -> list[pb.StrategyInfo]:
        """Returns the registered search strategies."""
        return list(self._unary(self.stub.ListStrategies, pb.ListStrategiesRequest(), timeout).strategies)

    # -- the search loop --------------------------------------------------------------------

    def sample_subnet(
        self,
        experiment_id: str,
        constraint: Optional[types_pb2.Constraint] = None,
        *,
        count: int = 1,
        purpose: int = pb.SAMPLE_PURPOSE_UNSPECIFIED,
        client_id: str = "",
        timeout: Optional[float] = None,
    ) -> list[types_pb2.Subnet]:
        """Asks the strategy for ``count`` subnets that fit ``constraint`` (any subnet when None)."""
        request = pb.SampleSubnetRequest(
            experiment_id=experiment_id, constraint=constraint, count=count, purpose=purpose, client_id=client_id
        )
        return list(self._unary(self.stub.SampleSubnet, request, timeout).subnets)

    def report_metric(
        self,
        experiment_id: str,
        subnet_id: str,
        metrics: Mapping[str, float],
        *,
        client_id: str = "",
        request_id: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> int:
        """Stores a measurement of a subnet durably and returns its sequence number in the log.

        ``request_id`` (default: a fresh UUID) identifies the measurement: a repeat with the same id
        is answered with the first sequence and stored once.
        """
        request = pb.ReportMetricRequest(
            experiment_id=experiment_id,
            subnet_id=subnet_id,
            metrics=dict(metrics),
            client_id=client_id,
            request_id=request_id or new_request_id(),
        )
        return self._unary(self.stub.ReportMetric, request, timeout).sequence

    def list_metrics(
        self, experiment_id: str, *, page_size: int = 0, timeout: Optional[float] = None
    ) -> list[types_pb2.MetricRecord]:
        """Returns the experiment's whole metric log, following pages of ``page_size`` (0: the
        server's default)."""
        out: list[types_pb2.MetricRecord] = []
        token = ""
        while True:
            request = pb.ListMetricsRequest(experiment_id=experiment_id, page_size=page_size, page_token=token)
            page = self._unary(self.stub.ListMetrics, request, timeout)
            out.extend(page.records)
            token = page.next_page_token
            if not token:
                return out

    def train_step(
        self,
        experiment_id: str,
        images: Optional[npt.ArrayLike] = None,
        labels: Optional[npt.ArrayLike] = None,
        *,
        steps: Optional[int] = None,
        request_id: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> pb.TrainStepResponse:
        """One step on an inline batch (``images`` NHWC, ``labels`` [N]), or ``steps`` steps on the
        experiment's dataset. ``request_id`` (default: a fresh UUID): a repeat returns the first
        response without training again."""
        if (images is None) != (labels is None):
            raise ValueError("pass images and labels together")
        if images is not None and steps is not None:
            raise ValueError("pass either a batch or steps, not both")
        if images is not None:
            request = pb.TrainStepRequest(experiment_id=experiment_id, batch=make_batch(images, labels))
        elif steps is not None:
            request = pb.TrainStepRequest(experiment_id=experiment_id, steps=steps)
        else:
            raise ValueError("pass a batch (images, labels) or steps")
        request.request_id = request_id or new_request_id()
        return self._unary(self.stub.TrainStep, request, timeout)

    def train(
        self, experiment_id: str, steps: int, *, progress_interval: int = 0, timeout: Optional[float] = None
    ) -> Iterator[pb.TrainResponse]:
        """Trains on the experiment's dataset, yielding progress events; not retried."""
        request = pb.TrainRequest(experiment_id=experiment_id, steps=steps, progress_interval=progress_interval)
        try:
            yield from self.stub.Train(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise SupernetdError.from_rpc_error(error) from None

    def evaluate(
        self,
        experiment_id: str,
        *,
        subnet_id: Optional[str] = None,
        constraint: Optional[types_pb2.Constraint] = None,
        images: Optional[npt.ArrayLike] = None,
        labels: Optional[npt.ArrayLike] = None,
        max_examples: int = 0,
        timeout: Optional[float] = None,
    ) -> pb.EvaluateResponse:
        """Measures a subnet's accuracy and loss on the test split or on an inline batch."""
        request = pb.EvaluateRequest(experiment_id=experiment_id, max_examples=max_examples)
        if subnet_id is not None:
            request.subnet_id = subnet_id
        elif constraint is not None:
            request.constraint.CopyFrom(constraint)
        if images is not None and labels is not None:
            request.batch.CopyFrom(make_batch(images, labels))
        return self._unary(self.stub.Evaluate, request, timeout)

    def export_subnet(
        self,
        experiment_id: str,
        *,
        subnet_id: Optional[str] = None,
        constraint: Optional[types_pb2.Constraint] = None,
        skip_bn_recalibration: bool = False,
        timeout: Optional[float] = None,
    ) -> ExportedModel:
        """Exports a subnet (by id, or the strategy's choice for ``constraint``) as a TF.js model.

        Raises SupernetdError for a failed call and ValueError when a file's size or SHA-256 does
        not match the header.
        """
        if (subnet_id is None) == (constraint is None):
            raise ValueError("pass exactly one of subnet_id and constraint")
        request = pb.ExportSubnetRequest(
            experiment_id=experiment_id,
            format=pb.EXPORT_FORMAT_TFJS_LAYERS,
            skip_bn_recalibration=skip_bn_recalibration,
        )
        if subnet_id is not None:
            request.subnet_id = subnet_id
        else:
            request.constraint.CopyFrom(constraint)
        deadline = self.timeout if timeout is None else timeout
        try:
            return self._collect_export(request, deadline)
        except grpc.RpcError as error:
            raise SupernetdError.from_rpc_error(error) from None

    def _collect_export(self, request: pb.ExportSubnetRequest, timeout: float) -> ExportedModel:
        header: Optional[pb.ExportHeader] = None
        parts: dict[str, bytearray] = {}
        for message in self.stub.ExportSubnet(request, timeout=timeout, metadata=self._metadata):
            if message.HasField("header"):
                header = message.header
                parts = {f.path: bytearray() for f in header.files}
            elif message.HasField("chunk"):
                chunk = message.chunk
                buffer = parts.setdefault(chunk.path, bytearray())
                if chunk.offset != len(buffer):
                    raise ValueError(f"export chunk of {chunk.path} at offset {chunk.offset}, expected {len(buffer)}")
                buffer.extend(chunk.data)
        if header is None:
            raise ValueError("export stream ended without a header")
        model = ExportedModel(header=header)
        for described in header.files:
            data = bytes(parts.get(described.path, b""))
            if len(data) != described.size or hashlib.sha256(data).hexdigest() != described.sha256:
                raise ValueError(f"exported file {described.path} does not match its size or SHA-256")
            model.files[described.path] = data
        return model
