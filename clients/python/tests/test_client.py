import os
import time

import grpc
import pytest

from search_loop import run_search
from supernetd import Client, ErrorReason, RetryPolicy, SupernetdError, flops
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


def test_unavailable_is_retried_then_raised():
    # Port 1 on loopback refuses connections: every attempt fails with UNAVAILABLE.
    attempts = []

    class CountingPolicy(RetryPolicy):
        def backoff(self, retry: int) -> float:
            attempts.append(retry)
            return 0.0

    with Client("127.0.0.1:1", retry=CountingPolicy(max_attempts=3), timeout=5) as client:
        with pytest.raises(SupernetdError) as caught:
            client.list_strategies()
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert attempts == [0, 1]


def test_call_without_the_token_is_unauthenticated(server_address):
    if not os.environ.get("SUPERNETD_TOKEN"):
        pytest.skip("the server was started without a token")
    with Client(server_address, token="") as client:
        with pytest.raises(SupernetdError) as caught:
            client.list_experiments()
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.reason == error_reason_pb2.ERROR_REASON_UNAUTHENTICATED
