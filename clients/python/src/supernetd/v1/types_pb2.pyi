import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ElementType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ELEMENT_TYPE_UNSPECIFIED: _ClassVar[ElementType]
    ELEMENT_TYPE_FLOAT32: _ClassVar[ElementType]
    ELEMENT_TYPE_INT32: _ClassVar[ElementType]
    ELEMENT_TYPE_UINT8: _ClassVar[ElementType]

class ConstraintKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSTRAINT_KIND_UNSPECIFIED: _ClassVar[ConstraintKind]
    CONSTRAINT_KIND_FLOPS: _ClassVar[ConstraintKind]
    CONSTRAINT_KIND_PARAMS: _ClassVar[ConstraintKind]
    CONSTRAINT_KIND_LATENCY: _ClassVar[ConstraintKind]

class DatasetFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATASET_FORMAT_UNSPECIFIED: _ClassVar[DatasetFormat]
    DATASET_FORMAT_IDX: _ClassVar[DatasetFormat]
    DATASET_FORMAT_CIFAR10: _ClassVar[DatasetFormat]
    DATASET_FORMAT_NPY: _ClassVar[DatasetFormat]

class OptimizerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPTIMIZER_KIND_UNSPECIFIED: _ClassVar[OptimizerKind]
    OPTIMIZER_KIND_SGD: _ClassVar[OptimizerKind]
    OPTIMIZER_KIND_ADAM: _ClassVar[OptimizerKind]

class LrScheduleKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LR_SCHEDULE_KIND_UNSPECIFIED: _ClassVar[LrScheduleKind]
    LR_SCHEDULE_KIND_COSINE: _ClassVar[LrScheduleKind]
    LR_SCHEDULE_KIND_STEP: _ClassVar[LrScheduleKind]
    LR_SCHEDULE_KIND_CONSTANT: _ClassVar[LrScheduleKind]

class RetrainInit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETRAIN_INIT_UNSPECIFIED: _ClassVar[RetrainInit]
    RETRAIN_INIT_SCRATCH: _ClassVar[RetrainInit]
    RETRAIN_INIT_INHERITED: _ClassVar[RetrainInit]

class ExperimentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPERIMENT_STATE_UNSPECIFIED: _ClassVar[ExperimentState]
    EXPERIMENT_STATE_READY: _ClassVar[ExperimentState]
    EXPERIMENT_STATE_TRAINING: _ClassVar[ExperimentState]
    EXPERIMENT_STATE_FAILED: _ClassVar[ExperimentState]
ELEMENT_TYPE_UNSPECIFIED: ElementType
ELEMENT_TYPE_FLOAT32: ElementType
ELEMENT_TYPE_INT32: ElementType
ELEMENT_TYPE_UINT8: ElementType
CONSTRAINT_KIND_UNSPECIFIED: ConstraintKind
CONSTRAINT_KIND_FLOPS: ConstraintKind
CONSTRAINT_KIND_PARAMS: ConstraintKind
CONSTRAINT_KIND_LATENCY: ConstraintKind
DATASET_FORMAT_UNSPECIFIED: DatasetFormat
DATASET_FORMAT_IDX: DatasetFormat
DATASET_FORMAT_CIFAR10: DatasetFormat
DATASET_FORMAT_NPY: DatasetFormat
OPTIMIZER_KIND_UNSPECIFIED: OptimizerKind
OPTIMIZER_KIND_SGD: OptimizerKind
OPTIMIZER_KIND_ADAM: OptimizerKind
LR_SCHEDULE_KIND_UNSPECIFIED: LrScheduleKind
LR_SCHEDULE_KIND_COSINE: LrScheduleKind
LR_SCHEDULE_KIND_STEP: LrScheduleKind
LR_SCHEDULE_KIND_CONSTANT: LrScheduleKind
RETRAIN_INIT_UNSPECIFIED: RetrainInit
RETRAIN_INIT_SCRATCH: RetrainInit
RETRAIN_INIT_INHERITED: RetrainInit
EXPERIMENT_STATE_UNSPECIFIED: ExperimentState
EXPERIMENT_STATE_READY: ExperimentState
EXPERIMENT_STATE_TRAINING: ExperimentState
EXPERIMENT_STATE_FAILED: ExperimentState

class Tensor(_message.Message):
    __slots__ = ("dtype", "shape", "data")
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    dtype: ElementType
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    def __init__(self, dtype: _Optional[_Union[ElementType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("images", "labels")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    images: Tensor
    labels: Tensor
    def __init__(self, images: _Optional[_Union[Tensor, _Mapping]] = ..., labels: _Optional[_Union[Tensor, _Mapping]] = ...) -> None: ...

class Constraint(_message.Message):
    __slots__ = ("kind", "target", "tolerance")
    KIND_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    kind: ConstraintKind
    target: float
    tolerance: float
    def __init__(self, kind: _Optional[_Union[ConstraintKind, str]] = ..., target: _Optional[float] = ..., tolerance: _Optional[float] = ...) -> None: ...

class ChannelIndices(_message.Message):
    __slots__ = ("indices",)
    INDICES_FIELD_NUMBER: _ClassVar[int]
    indices: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, indices: _Optional[_Iterable[int]] = ...) -> None: ...

class Architecture(_message.Message):
    __slots__ = ("resolution", "widths", "channel_indices", "ops")
    class WidthsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ChannelIndicesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ChannelIndices
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ChannelIndices, _Mapping]] = ...) -> None: ...
    class OpsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    WIDTHS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_INDICES_FIELD_NUMBER: _ClassVar[int]
    OPS_FIELD_NUMBER: _ClassVar[int]
    resolution: int
    widths: _containers.ScalarMap[str, int]
    channel_indices: _containers.MessageMap[str, ChannelIndices]
    ops: _containers.ScalarMap[str, int]
    def __init__(self, resolution: _Optional[int] = ..., widths: _Optional[_Mapping[str, int]] = ..., channel_indices: _Optional[_Mapping[str, ChannelIndices]] = ..., ops: _Optional[_Mapping[str, int]] = ...) -> None: ...

class Cost(_message.Message):
    __slots__ = ("flops", "params", "latency_ms")
    FLOPS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    flops: float
    params: float
    latency_ms: float
    def __init__(self, flops: _Optional[float] = ..., params: _Optional[float] = ..., latency_ms: _Optional[float] = ...) -> None: ...

class Subnet(_message.Message):
    __slots__ = ("id", "architecture", "cost", "source", "score")
    ID_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    id: str
    architecture: Architecture
    cost: Cost
    source: str
    score: float
    def __init__(self, id: _Optional[str] = ..., architecture: _Optional[_Union[Architecture, _Mapping]] = ..., cost: _Optional[_Union[Cost, _Mapping]] = ..., source: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class SearchSpace(_message.Message):
    __slots__ = ("preset", "overrides")
    PRESET_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    preset: str
    overrides: _struct_pb2.Struct
    def __init__(self, preset: _Optional[str] = ..., overrides: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class StrategySpec(_message.Message):
    __slots__ = ("id", "config")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    id: str
    config: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DatasetRef(_message.Message):
    __slots__ = ("name", "path", "format", "max_train_examples", "max_test_examples", "augment")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MAX_TRAIN_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    MAX_TEST_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    AUGMENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    format: DatasetFormat
    max_train_examples: int
    max_test_examples: int
    augment: bool
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., format: _Optional[_Union[DatasetFormat, str]] = ..., max_train_examples: _Optional[int] = ..., max_test_examples: _Optional[int] = ..., augment: _Optional[bool] = ...) -> None: ...

class TrainingConfig(_message.Message):
    __slots__ = ("dataset", "batch_size", "total_steps", "optimizer", "learning_rate", "momentum", "nesterov", "weight_decay", "schedule", "warmup_steps", "step_size", "gamma", "label_smoothing", "seed", "checkpoint_interval")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    MOMENTUM_FIELD_NUMBER: _ClassVar[int]
    NESTEROV_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    STEP_SIZE_FIELD_NUMBER: _ClassVar[int]
    GAMMA_FIELD_NUMBER: _ClassVar[int]
    LABEL_SMOOTHING_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    dataset: DatasetRef
    batch_size: int
    total_steps: int
    optimizer: OptimizerKind
    learning_rate: float
    momentum: float
    nesterov: bool
    weight_decay: float
    schedule: LrScheduleKind
    warmup_steps: int
    step_size: int
    gamma: float
    label_smoothing: float
    seed: int
    checkpoint_interval: int
    def __init__(self, dataset: _Optional[_Union[DatasetRef, _Mapping]] = ..., batch_size: _Optional[int] = ..., total_steps: _Optional[int] = ..., optimizer: _Optional[_Union[OptimizerKind, str]] = ..., learning_rate: _Optional[float] = ..., momentum: _Optional[float] = ..., nesterov: _Optional[bool] = ..., weight_decay: _Optional[float] = ..., schedule: _Optional[_Union[LrScheduleKind, str]] = ..., warmup_steps: _Optional[int] = ..., step_size: _Optional[int] = ..., gamma: _Optional[float] = ..., label_smoothing: _Optional[float] = ..., seed: _Optional[int] = ..., checkpoint_interval: _Optional[int] = ...) -> None: ...

class ExperimentSpec(_message.Message):
    __slots__ = ("display_name", "search_space", "strategy", "training", "retrain")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SEARCH_SPACE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FIELD_NUMBER: _ClassVar[int]
    RETRAIN_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    search_space: SearchSpace
    strategy: StrategySpec
    training: TrainingConfig
    retrain: RetrainSpec
    def __init__(self, display_name: _Optional[str] = ..., search_space: _Optional[_Union[SearchSpace, _Mapping]] = ..., strategy: _Optional[_Union[StrategySpec, _Mapping]] = ..., training: _Optional[_Union[TrainingConfig, _Mapping]] = ..., retrain: _Optional[_Union[RetrainSpec, _Mapping]] = ...) -> None: ...

class RetrainSpec(_message.Message):
    __slots__ = ("source_experiment_id", "subnet_id", "architecture", "init", "source_architecture", "source_checkpoint_step")
    SOURCE_EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    INIT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CHECKPOINT_STEP_FIELD_NUMBER: _ClassVar[int]
    source_experiment_id: str
    subnet_id: str
    architecture: Architecture
    init: RetrainInit
    source_architecture: Architecture
    source_checkpoint_step: int
    def __init__(self, source_experiment_id: _Optional[str] = ..., subnet_id: _Optional[str] = ..., architecture: _Optional[_Union[Architecture, _Mapping]] = ..., init: _Optional[_Union[RetrainInit, str]] = ..., source_architecture: _Optional[_Union[Architecture, _Mapping]] = ..., source_checkpoint_step: _Optional[int] = ...) -> None: ...

class Experiment(_message.Message):
    __slots__ = ("id", "spec", "state", "step", "checkpoint_step", "last_losses", "metric_count", "phase", "error", "create_time", "update_time", "backend", "device")
    class LastLossesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_STEP_FIELD_NUMBER: _ClassVar[int]
    LAST_LOSSES_FIELD_NUMBER: _ClassVar[int]
    METRIC_COUNT_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    id: str
    spec: ExperimentSpec
    state: ExperimentState
    step: int
    checkpoint_step: int
    last_losses: _containers.ScalarMap[str, float]
    metric_count: int
    phase: str
    error: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    backend: str
    device: str
    def __init__(self, id: _Optional[str] = ..., spec: _Optional[_Union[ExperimentSpec, _Mapping]] = ..., state: _Optional[_Union[ExperimentState, str]] = ..., step: _Optional[int] = ..., checkpoint_step: _Optional[int] = ..., last_losses: _Optional[_Mapping[str, float]] = ..., metric_count: _Optional[int] = ..., phase: _Optional[str] = ..., error: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., backend: _Optional[str] = ..., device: _Optional[str] = ...) -> None: ...

class MetricRecord(_message.Message):
    __slots__ = ("sequence", "subnet_id", "values", "client_id", "time")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    subnet_id: str
    values: _containers.ScalarMap[str, float]
    client_id: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, sequence: _Optional[int] = ..., subnet_id: _Optional[str] = ..., values: _Optional[_Mapping[str, float]] = ..., client_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
