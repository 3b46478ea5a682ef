import os

import grpc
import pytest

from search_loop import run_search
from supernetd import Client, ErrorReason, RetryPolicy, SupernetdError, flops
from supernetd.v1 import error_reason_pb2


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
