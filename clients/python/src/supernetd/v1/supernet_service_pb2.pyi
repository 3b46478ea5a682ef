from supernetd.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SamplePurpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAMPLE_PURPOSE_UNSPECIFIED: _ClassVar[SamplePurpose]
    SAMPLE_PURPOSE_TRAIN: _ClassVar[SamplePurpose]
    SAMPLE_PURPOSE_EVAL: _ClassVar[SamplePurpose]
    SAMPLE_PURPOSE_DEPLOY: _ClassVar[SamplePurpose]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_TFJS_LAYERS: _ClassVar[ExportFormat]
SAMPLE_PURPOSE_UNSPECIFIED: SamplePurpose
SAMPLE_PURPOSE_TRAIN: SamplePurpose
SAMPLE_PURPOSE_EVAL: SamplePurpose
SAMPLE_PURPOSE_DEPLOY: SamplePurpose
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_TFJS_LAYERS: ExportFormat

class CreateExperimentRequest(_message.Message):
    __slots__ = ("experiment_id", "spec", "request_id")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    spec: _types_pb2.ExperimentSpec
    request_id: str
    def __init__(self, experiment_id: _Optional[str] = ..., spec: _Optional[_Union[_types_pb2.ExperimentSpec, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: _types_pb2.Experiment
    def __init__(self, experiment: _Optional[_Union[_types_pb2.Experiment, _Mapping]] = ...) -> None: ...

class GetExperimentRequest(_message.Message):
    __slots__ = ("experiment_id",)
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    def __init__(self, experiment_id: _Optional[str] = ...) -> None: ...

class GetExperimentResponse(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: _types_pb2.Experiment
    def __init__(self, experiment: _Optional[_Union[_types_pb2.Experiment, _Mapping]] = ...) -> None: ...

class ListExperimentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListExperimentsResponse(_message.Message):
    __slots__ = ("experiments", "next_page_token")
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experiments: _containers.RepeatedCompositeFieldContainer[_types_pb2.Experiment]
    next_page_token: str
    def __init__(self, experiments: _Optional[_Iterable[_Union[_types_pb2.Experiment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteExperimentRequest(_message.Message):
    __slots__ = ("experiment_id", "request_id")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    request_id: str
    def __init__(self, experiment_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeleteExperimentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListStrategiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StrategyInfo(_message.Message):
    __slots__ = ("id", "description", "origin", "config_schema_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CONFIG_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    description: str
    origin: str
    config_schema_json: str
    def __init__(self, id: _Optional[str] = ..., description: _Optional[str] = ..., origin: _Optional[str] = ..., config_schema_json: _Optional[str] = ...) -> None: ...

class ListStrategiesResponse(_message.Message):
    __slots__ = ("strategies",)
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    strategies: _containers.RepeatedCompositeFieldContainer[StrategyInfo]
    def __init__(self, strategies: _Optional[_Iterable[_Union[StrategyInfo, _Mapping]]] = ...) -> None: ...

class SampleSubnetRequest(_message.Message):
    __slots__ = ("experiment_id", "constraint", "count", "client_id", "purpose")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    constraint: _types_pb2.Constraint
    count: int
    client_id: str
    purpose: SamplePurpose
    def __init__(self, experiment_id: _Optional[str] = ..., constraint: _Optional[_Union[_types_pb2.Constraint, _Mapping]] = ..., count: _Optional[int] = ..., client_id: _Optional[str] = ..., purpose: _Optional[_Union[SamplePurpose, str]] = ...) -> None: ...

class SampleSubnetResponse(_message.Message):
    __slots__ = ("subnets",)
    SUBNETS_FIELD_NUMBER: _ClassVar[int]
    subnets: _containers.RepeatedCompositeFieldContainer[_types_pb2.Subnet]
    def __init__(self, subnets: _Optional[_Iterable[_Union[_types_pb2.Subnet, _Mapping]]] = ...) -> None: ...

class ReportMetricRequest(_message.Message):
    __slots__ = ("experiment_id", "subnet_id", "metrics", "client_id", "request_id")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    subnet_id: str
    metrics: _containers.ScalarMap[str, float]
    client_id: str
    request_id: str
    def __init__(self, experiment_id: _Optional[str] = ..., subnet_id: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., client_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReportMetricResponse(_message.Message):
    __slots__ = ("sequence",)
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ...) -> None: ...

class ListMetricsRequest(_message.Message):
    __slots__ = ("experiment_id", "after_sequence", "limit", "page_size", "page_token")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    after_sequence: int
    limit: int
    page_size: int
    page_token: str
    def __init__(self, experiment_id: _Optional[str] = ..., after_sequence: _Optional[int] = ..., limit: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMetricsResponse(_message.Message):
    __slots__ = ("records", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_types_pb2.MetricRecord]
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[_types_pb2.MetricRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class TrainStepRequest(_message.Message):
    __slots__ = ("experiment_id", "batch", "steps", "request_id")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    batch: _types_pb2.Batch
    steps: int
    request_id: str
    def __init__(self, experiment_id: _Optional[str] = ..., batch: _Optional[_Union[_types_pb2.Batch, _Mapping]] = ..., steps: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class TrainStepResponse(_message.Message):
    __slots__ = ("step", "losses", "learning_rate", "subnets")
    class LossesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    SUBNETS_FIELD_NUMBER: _ClassVar[int]
    step: int
    losses: _containers.ScalarMap[str, float]
    learning_rate: float
    subnets: _containers.RepeatedCompositeFieldContainer[_types_pb2.Subnet]
    def __init__(self, step: _Optional[int] = ..., losses: _Optional[_Mapping[str, float]] = ..., learning_rate: _Optional[float] = ..., subnets: _Optional[_Iterable[_Union[_types_pb2.Subnet, _Mapping]]] = ...) -> None: ...

class TrainRequest(_message.Message):
    __slots__ = ("experiment_id", "steps", "progress_interval")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    steps: int
    progress_interval: int
    def __init__(self, experiment_id: _Optional[str] = ..., steps: _Optional[int] = ..., progress_interval: _Optional[int] = ...) -> None: ...

class TrainResponse(_message.Message):
    __slots__ = ("step", "target_step", "losses", "learning_rate", "examples_per_second", "eta_seconds", "phase", "done", "checkpoint_step")
    class LossesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEP_FIELD_NUMBER: _ClassVar[int]
    TARGET_STEP_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_STEP_FIELD_NUMBER: _ClassVar[int]
    step: int
    target_step: int
    losses: _containers.ScalarMap[str, float]
    learning_rate: float
    examples_per_second: float
    eta_seconds: float
    phase: str
    done: bool
    checkpoint_step: int
    def __init__(self, step: _Optional[int] = ..., target_step: _Optional[int] = ..., losses: _Optional[_Mapping[str, float]] = ..., learning_rate: _Optional[float] = ..., examples_per_second: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., phase: _Optional[str] = ..., done: _Optional[bool] = ..., checkpoint_step: _Optional[int] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("experiment_id", "subnet_id", "architecture", "constraint", "batch", "max_examples", "skip_bn_recalibration")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINT_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    MAX_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    SKIP_BN_RECALIBRATION_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    subnet_id: str
    architecture: _types_pb2.Architecture
    constraint: _types_pb2.Constraint
    batch: _types_pb2.Batch
    max_examples: int
    skip_bn_recalibration: bool
    def __init__(self, experiment_id: _Optional[str] = ..., subnet_id: _Optional[str] = ..., architecture: _Optional[_Union[_types_pb2.Architecture, _Mapping]] = ..., constraint: _Optional[_Union[_types_pb2.Constraint, _Mapping]] = ..., batch: _Optional[_Union[_types_pb2.Batch, _Mapping]] = ..., max_examples: _Optional[int] = ..., skip_bn_recalibration: _Optional[bool] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("subnet", "accuracy", "loss", "examples")
    SUBNET_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    subnet: _types_pb2.Subnet
    accuracy: float
    loss: float
    examples: int
    def __init__(self, subnet: _Optional[_Union[_types_pb2.Subnet, _Mapping]] = ..., accuracy: _Optional[float] = ..., loss: _Optional[float] = ..., examples: _Optional[int] = ...) -> None: ...

class ExportSubnetRequest(_message.Message):
    __slots__ = ("experiment_id", "subnet_id", "architecture", "constraint", "format", "skip_bn_recalibration", "chunk_size")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SKIP_BN_RECALIBRATION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    subnet_id: str
    architecture: _types_pb2.Architecture
    constraint: _types_pb2.Constraint
    format: ExportFormat
    skip_bn_recalibration: bool
    chunk_size: int
    def __init__(self, experiment_id: _Optional[str] = ..., subnet_id: _Optional[str] = ..., architecture: _Optional[_Union[_types_pb2.Architecture, _Mapping]] = ..., constraint: _Optional[_Union[_types_pb2.Constraint, _Mapping]] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., skip_bn_recalibration: _Optional[bool] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class ExportedFile(_message.Message):
    __slots__ = ("path", "size", "sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    size: int
    sha256: str
    def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class ExportHeader(_message.Message):
    __slots__ = ("subnet", "files", "format")
    SUBNET_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    subnet: _types_pb2.Subnet
    files: _containers.RepeatedCompositeFieldContainer[ExportedFile]
    format: ExportFormat
    def __init__(self, subnet: _Optional[_Union[_types_pb2.Subnet, _Mapping]] = ..., files: _Optional[_Iterable[_Union[ExportedFile, _Mapping]]] = ..., format: _Optional[_Union[ExportFormat, str]] = ...) -> None: ...

class ExportChunk(_message.Message):
    __slots__ = ("path", "offset", "data")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    path: str
    offset: int
    data: bytes
    def __init__(self, path: _Optional[str] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class ExportSubnetResponse(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: ExportHeader
    chunk: ExportChunk
    def __init__(self, header: _Optional[_Union[ExportHeader, _Mapping]] = ..., chunk: _Optional[_Union[ExportChunk, _Mapping]] = ...) -> None: ...
