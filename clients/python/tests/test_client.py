import os
import time
from concurrent import futures

import grpc
import pytest

from search_loop import run_search
from supernetd import ERROR_DOMAIN, Client, ErrorReason, FieldViolation, RetryPolicy, SupernetdError, flops
from supernetd.v1 import error_reason_pb2, supernet_service_pb2, types_pb2


def test_search_loop_exports_a_model_per_budget(server_address, tmp_path):
    with Client(server_address) as client:
        written = run_search(client, str(tmp_path), train_steps=1, batch_size=8, budgets=1)
    (files,) = written.values()
    names = sorted(p.rsplit("/", 1)[-1] for p in files)
    assert "model.json" in names
    assert all((tmp_path / p).stat().st_size > 0 for p in files)


def test_unknown_experiment_is_not_found_with_reason(server_address):
    with Client(server_address) as client:
        with pytest.raises(SupernetdError) as caught:
            client.get_experiment("no-such-experiment")
    error = caught.value
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.reason == error_reason_pb2.ERROR_REASON_EXPERIMENT_NOT_FOUND
    assert error.reason == ErrorReason.Value("ERROR_REASON_EXPERIMENT_NOT_FOUND")
    assert error.reason_name == "ERROR_REASON_EXPERIMENT_NOT_FOUND"
    assert "ERROR_REASON_EXPERIMENT_NOT_FOUND" in str(error)


def test_unsatisfiable_budget_names_its_reason(server_address):
    with Client(server_address) as client:
        experiment = client.create_experiment()
        try:
            with pytest.raises(SupernetdError) as caught:
                client.sample_subnet(experiment.id, flops(1.0))
            assert caught.value.reason == error_reason_pb2.ERROR_REASON_CONSTRAINT_UNSATISFIABLE
        finally:
            client.delete_experiment(experiment.id)


def test_sample_count_over_the_limit_is_invalid_argument(server_address):
    with Client(server_address) as client:
        experiment = client.create_experiment()
        try:
            with pytest.raises(SupernetdError) as caught:
                client.sample_subnet(experiment.id, count=65)
            assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
            assert caught.value.reason == error_reason_pb2.ERROR_REASON_INVALID_ARGUMENT
        finally:
            client.delete_experiment(experiment.id)


def test_training_while_a_train_stream_runs_is_aborted(server_address):
    token = os.environ.get("SUPERNETD_TOKEN")
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    with Client(server_address) as client:
        experiment = client.create_experiment(training=types_pb2.TrainingConfig(batch_size=8))
        request = supernet_service_pb2.TrainRequest(experiment_id=experiment.id, steps=100_000, progress_interval=1)
        stream = client.stub.Train(request, metadata=metadata)
        try:
            next(stream)  # training is running
            with pytest.raises(SupernetdError) as caught:
                client.train_step(experiment.id, steps=1)
            # A concurrency conflict that a retry after the other call resolves: ABORTED, not RESOURCE_EXHAUSTED.
            assert caught.value.code == grpc.StatusCode.ABORTED
            assert caught.value.reason == error_reason_pb2.ERROR_REASON_TRAINING_IN_PROGRESS
        finally:
            stream.cancel()
            deadline = time.monotonic() + 60
            while client.get_experiment(experiment.id).state == types_pb2.EXPERIMENT_STATE_TRAINING:
                assert time.monotonic() < deadline, "training did not stop after the stream was cancelled"
                time.sleep(0.1)
            client.delete_experiment(experiment.id)


def test_error_details_are_decoded_from_the_standard_status(server_address):
    with Client(server_address) as client:
        with pytest.raises(SupernetdError) as caught:
            client.get_experiment("no-such-experiment")
        error = caught.value
        assert error.domain == ERROR_DOMAIN
        assert error.metadata == {"field": "experiment_id"}
        assert error.request_id, "RequestInfo names the id the server logged the call under"
        experiment = client.create_experiment()
        try:
            with pytest.raises(SupernetdError) as caught:
                client.sample_subnet(experiment.id, count=65)
            error = caught.value
            assert error.reason_name == "ERROR_REASON_INVALID_ARGUMENT"
            assert error.metadata == {"field": "count", "limitValue": "64"}
            assert error.field_violations == (FieldViolation("count", error.message),)
        finally:
            client.delete_experiment(experiment.id)


def test_retry_policy_comes_from_the_service_config():
    config = RetryPolicy(max_attempts=4).service_config()
    (method_config,) = config["methodConfig"]
    names = {n["method"] for n in method_config["name"]}
    assert {"ReportMetric", "TrainStep", "CreateExperiment", "DeleteExperiment", "GetExperiment", "SampleSubnet"} <= names
    assert "Train" not in names, "a repeated Train would train again"
    assert method_config["retryPolicy"]["maxAttempts"] == 4
    assert method_config["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert RetryPolicy(max_attempts=1).service_config() == {"methodConfig": []}


class _LossyProxy:
    """A gRPC server in front of the real one that forwards ReportMetric and, the first time,
    drops the server's reply and answers UNAVAILABLE: a reply lost after the metric was stored."""

    _METHOD = "/supernetd.v1.SupernetService/ReportMetric"

    def __init__(self, upstream: str) -> None:
        ca = os.environ.get("SUPERNETD_TLS_CA")
        if ca:
            with open(ca, "rb") as pem:
                creds = grpc.ssl_channel_credentials(root_certificates=pem.read())
            self._upstream = grpc.secure_channel(upstream, creds)
        else:
            self._upstream = grpc.insecure_channel(upstream)
        self._forward = self._upstream.unary_unary(self._METHOD)
        self.request_ids: list[str] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handler = grpc.method_handlers_generic_handler(
            "supernetd.v1.SupernetService", {"ReportMetric": grpc.unary_unary_rpc_method_handler(self._report)}
        )
        self._server.add_generic_rpc_handlers((handler,))
        self.address = f"127.0.0.1:{self._server.add_insecure_port('127.0.0.1:0')}"
        self._server.start()

    def _report(self, raw: bytes, context: grpc.ServicerContext) -> bytes:
        self.request_ids.append(supernet_service_pb2.ReportMetricRequest.FromString(raw).request_id)
        metadata = [(k, v) for k, v in context.invocation_metadata() if k == "authorization"]
        reply = self._forward(raw, metadata=metadata, timeout=60)
        if len(self.request_ids) == 1:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the reply was lost")
        return reply

    def close(self) -> None:
        self._server.stop(None)
        self._upstream.close()


def test_report_metric_retried_by_grpc_is_applied_once(server_address):
    proxy = _LossyProxy(server_address)
    try:
        with Client(server_address) as direct, Client(proxy.address, tls=False) as lossy:
            experiment = direct.create_experiment()
            try:
                (subnet,) = direct.sample_subnet(experiment.id)
                sequence = lossy.report_metric(experiment.id, subnet.id, {"accuracy": 0.5})
                # gRPC retried the call (the service config's retryPolicy) with the same request id
                assert len(proxy.request_ids) == 2
                assert proxy.request_ids[0] and proxy.request_ids[0] == proxy.request_ids[1]
                records = direct.list_metrics(experiment.id)
                assert [r.sequence for r in records] == [sequence], "stored once, answered with its sequence"
                # a caller's own retry with the same id is answered the same way
                again = direct.report_metric(experiment.id, subnet.id, {"accuracy": 0.5}, request_id=proxy.request_ids[0])
                assert again == sequence
                assert len(direct.list_metrics(experiment.id)) == 1
                with pytest.raises(SupernetdError) as caught:
                    direct.report_metric(experiment.id, subnet.id, {"accuracy": 0.9}, request_id=proxy.request_ids[0])
                assert caught.value.code == grpc.StatusCode.ALREADY_EXISTS
                assert caught.value.reason_name == "ERROR_REASON_REQUEST_ID_REUSED"
                assert caught.value.metadata["field"] == "request_id"
            finally:
                direct.delete_experiment(experiment.id)
    finally:
        proxy.close()


def test_call_without_the_token_is_unauthenticated(server_address):
    if not os.environ.get("SUPERNETD_TOKEN"):
        pytest.skip("the server was started without a token")
    with Client(server_address, token="") as client:
        with pytest.raises(SupernetdError) as caught:
            client.list_experiments()
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.reason == error_reason_pb2.ERROR_REASON_UNAUTHENTICATED


def test_an_explicit_zero_is_sent_and_kept_and_an_absent_field_takes_the_default(server_address):
    assert not flops(1e9).HasField("tolerance")
    assert flops(1e9, 0.0).HasField("tolerance")
    with Client(server_address) as client:
        plain = client.create_experiment(
            training=types_pb2.TrainingConfig(momentum=0.0, nesterov=False, weight_decay=0.0)
        )
        default = client.create_experiment()
        try:
            t = plain.spec.training
            assert t.HasField("momentum") and t.momentum == 0.0
            assert t.HasField("nesterov") and t.nesterov is False
            assert t.HasField("weight_decay") and t.weight_decay == 0.0
            d = default.spec.training
            assert (d.momentum, d.nesterov, d.weight_decay) == (0.9, True, 1e-4)
            (subnet,) = client.sample_subnet(default.id, flops(1e12, 0.0))
            assert subnet.cost.flops <= 1e12
        finally:
            client.delete_experiment(plain.id)
            client.delete_experiment(default.id)
