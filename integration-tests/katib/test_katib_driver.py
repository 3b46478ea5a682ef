"""Replays the Kubeflow Katib controller's Suggestion calls against a real supernetd.

Kubernetes cannot run on the build machines, so this driver plays the controller
(pkg/controller.v1beta1/suggestion/suggestionclient of Katib v0.19.0) with Katib's own generated
Python stubs from PyPI (kubeflow-katib 0.19.0): ValidateAlgorithmSettings first, then
GetSuggestions with the request numbers growing, every trial so far re-sent on every call,
observations arriving out of order, each call under Katib's 60 s deadline, the algorithm settings of
the previous reply merged back in as the controller does, and a server restart on the same data
directory halfway. What the server did is checked through the supernetd API (ListMetrics,
GetExperiment, ListExperiments), not through the Katib replies alone.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_tools import protoc
from kubeflow.katib import katib_api_pb2 as katib
from kubeflow.katib import katib_api_pb2_grpc as katib_grpc

ROOT = Path(__file__).resolve().parents[2]
KATIB_DEADLINE_S = 60  # the controller's timeout on every call
KATIB_NAME = "replay-nas"
OBJECTIVE = "Validation-Accuracy"
BUDGETS = [8e5, 1.6e6]
SETTINGS = {
    "preset": "mbv1-small",
    "strategy": "pss",
    "dataset": "fashion-mnist",
    "training": '{"dataset": {"max_train_examples": 256, "max_test_examples": 64}, "batch_size": 16, "total_steps": 40}',
    "budgets": ",".join(f"{b:g}" for b in BUDGETS),
    "train_steps_per_call": "10",
}
# the parameters of every assignment, without latency_ms (no latency table here)
ASSIGNMENT_NAMES = ["experiment_id", "subnet_id", "architecture", "budget", "flops", "params"]
# how long the driver waits for a condition the server reaches by itself (a hang guard, not a timing check)
HANG_GUARD_S = 600


def _supernetd_stubs():
    """supernetd's own protos compiled for this venv's protobuf runtime (the one Katib's stubs need)."""
    out = Path(tempfile.mkdtemp(prefix="supernetd-katib-pb-"))
    protos = sorted(str(p) for p in (ROOT / "proto" / "supernetd" / "v1").glob("*.proto"))
    # the request rules (buf.validate options) the protos import, compiled beside them
    validate = ROOT / "third_party" / "bufbuild"
    protos.append(str(validate / "buf" / "validate" / "validate.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    rc = protoc.main(
        ["protoc", f"-I{ROOT / 'proto'}", f"-I{validate}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}", *protos]
    )
    assert rc == 0, "protoc failed on proto/supernetd/v1"
    sys.path.insert(0, str(out))
    from supernetd.v1 import supernet_service_pb2 as pb  # noqa: E402
    from supernetd.v1 import supernet_service_pb2_grpc as pb_grpc  # noqa: E402

    return pb, pb_grpc


PB, PB_GRPC = _supernetd_stubs()


class Server:
    """`supernetd serve --katib-port 0` as a child process on loopback, with its own data directory."""

    def __init__(self, data_dir: Path, log: Path):
        self.data_dir = data_dir
        self.log = log
        self.proc = None
        self.address = None
        self.katib_address = None

    def start(self):
        cmd = [
            "node", "--import", "tsx", "services/server/src/cli.ts", "serve",
            "--host", "127.0.0.1", "--port", "0", "--katib-port", "0",
            "--data-dir", str(self.data_dir), "--log-level", "info", "--backend", "wasm",
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=open(self.log, "a"), text=True)
        for line in self.proc.stdout:
            m = re.match(r"supernetd listening on (\S+)", line)
            if m:
                self.address = m.group(1)
            m = re.match(r"supernetd katib suggestion service on port (\d+)", line)
            if m:
                self.katib_address = f"127.0.0.1:{m.group(1)}"
                break
        assert self.katib_address, f"server did not start; see {self.log}:\n{self.log.read_text()[-4000:]}"
        return self

    def stop(self):
        """SIGTERM: the server checkpoints and exits 0."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=HANG_GUARD_S) == 0, f"server exit; see {self.log}"
        self.proc.stdout.close()

    def katib(self):
        channel = grpc.insecure_channel(self.katib_address)
        return channel, katib_grpc.SuggestionStub(channel), health_pb2_grpc.HealthStub(channel)

    def api(self):
        channel = grpc.insecure_channel(self.address)
        return channel, PB_GRPC.SupernetServiceStub(channel)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "data", tmp_path / "server.log").start()
    yield s
    if s.proc.poll() is None:
        s.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for the calls that change nothing (health, rejected settings)."""
    d = tmp_path_factory.mktemp("shared")
    s = Server(d / "data", d / "server.log").start()
    yield s
    s.stop()


def experiment(settings=None, name=KATIB_NAME):
    """The Experiment as the controller converts it (ConvertExperiment), NAS style: no parameters."""
    settings = SETTINGS if settings is None else settings
    return katib.Experiment(
        name=name,
        spec=katib.ExperimentSpec(
            objective=katib.ObjectiveSpec(type=katib.MAXIMIZE, objective_metric_name=OBJECTIVE, goal=0.99),
            algorithm=katib.AlgorithmSpec(
                algorithm_name="supernetd",
                algorithm_settings=[katib.AlgorithmSetting(name=k, value=v) for k, v in settings.items()],
            ),
            parallel_trial_count=3,
            max_trial_count=12,
            nas_config=katib.NasConfig(graph_config=katib.GraphConfig(num_layers=6, input_sizes=[28, 28, 1], output_sizes=[10])),
        ),
    )


class Controller:
    """The suggestion client's bookkeeping: requests, suggestion count, trials, status settings."""

    def __init__(self):
        self.trials = {}  # name -> katib.Trial, in creation order
        self.total = 0  # Suggestion.spec.requests
        self.status_settings = {}  # Suggestion.status.algorithmSettings
        self.budget_of = {}  # trial name -> budget the reply named

    def settings(self):
        # appendAlgorithmSettingsFromSuggestion: status settings overwrite or extend the Experiment's
        merged = dict(SETTINGS)
        merged.update(self.status_settings)
        return merged

    def request_more(self, stub, count):
        self.total += count
        req = katib.GetSuggestionsRequest(
            experiment=experiment(self.settings()),
            trials=list(self.trials.values()),
            current_request_number=count,
            total_request_number=self.total,
        )
        reply = stub.GetSuggestions(req, timeout=KATIB_DEADLINE_S)
        # the controller errors unless the reply holds exactly current_request_number assignments
        assert len(reply.parameter_assignments) == count
        for s in reply.algorithm.algorithm_settings:
            self.status_settings[s.name] = s.value
        for j, pa in enumerate(reply.parameter_assignments):
            params = {a.name: a.value for a in pa.assignments}
            assert [a.name for a in pa.assignments] == ASSIGNMENT_NAMES
            assert pa.trial_name and pa.trial_name not in self.trials
            assert re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", pa.trial_name), pa.trial_name
            assert pa.labels["supernetd/subnet-id"] == params["subnet_id"]
            # round-robin over the budgets by the assignment's position in the Katib experiment
            budget = BUDGETS[(self.total - count + j) % len(BUDGETS)]
            assert float(params["budget"]) == budget
            assert 0 < float(params["flops"]) <= budget, (params["flops"], budget)
            assert float(params["params"]) > 0
            assert '"resolution"' in params["architecture"]
            self.trials[pa.trial_name] = katib.Trial(
                name=pa.trial_name,
                spec=katib.TrialSpec(
                    objective=katib.ObjectiveSpec(type=katib.MAXIMIZE, objective_metric_name=OBJECTIVE),
                    parameter_assignments=katib.TrialSpec.ParameterAssignments(
                        assignments=[katib.ParameterAssignment(name=a.name, value=a.value) for a in pa.assignments]
                    ),
                    labels=dict(pa.labels),
                ),
                status=katib.TrialStatus(condition=katib.TrialStatus.RUNNING),
            )
            self.budget_of[pa.trial_name] = budget
        return reply

    def finish(self, name, condition, accuracy=None):
        t = self.trials[name]
        t.status.condition = condition
        if accuracy is not None:
            t.status.observation.CopyFrom(
                katib.Observation(metrics=[katib.Metric(name=OBJECTIVE, value=f"{accuracy}"), katib.Metric(name="loss", value="0.9")])
            )


def katib_metrics(api_stub, experiment_id):
    """client_id -> list of metric records the server stored for Katib trials (ListMetrics, all pages)."""
    out, after = {}, 0
    while True:
        page = api_stub.ListMetrics(PB.ListMetricsRequest(experiment_id=experiment_id, after_sequence=after, limit=1000), timeout=60)
        if not page.records:
            return out
        for r in page.records:
            if r.client_id.startswith("katib:"):
                out.setdefault(r.client_id, []).append(r)
            after = r.sequence


def test_health_answers_for_katibs_service_name(shared_server):
    channel, _, health = shared_server.katib()
    with channel:
        for name in ("manager.v1beta1.Suggestion", ""):
            res = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=KATIB_DEADLINE_S)
            assert res.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    "change, named",
    [
        ({"strategy": "no-such-strategy"}, "strategy"),
        ({"preset": "no-such-preset"}, "preset"),
        ({"budgets": "8e5,,1e6"}, "budgets"),
        ({"budgets": "-3"}, "budgets"),
        ({"constraint_kind": "watts"}, "constraint_kind"),
        ({"constraint_kind": "latency"}, "constraint_kind"),
        ({"training": "{not json"}, "training"),
        ({"training": '{"batch_size": -1}'}, "training"),
        ({"strategy_config": "[1]"}, "strategy_config"),
        ({"strategy_config": '{"costKinds": ["latency"]}'}, "strategy_config"),
        ({"dataset": "imagenet-22k"}, "dataset"),
        ({"experiment_id": "no-such-experiment"}, "experiment_id"),
        ({"train_steps_per_call": "1.5"}, "train_steps_per_call"),
        ({"learning_rate": "0.1"}, "learning_rate"),
    ],
)
def test_bad_settings_are_invalid_argument_naming_the_setting(shared_server, change, named):
    channel, stub, _ = shared_server.katib()
    with channel:
        settings = dict(SETTINGS)
        settings.update(change)
        with pytest.raises(grpc.RpcError) as e:
            stub.ValidateAlgorithmSettings(katib.ValidateAlgorithmSettingsRequest(experiment=experiment(settings)), timeout=KATIB_DEADLINE_S)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert f"'{named}'" in e.value.details(), e.value.details()
        # GetSuggestions refuses the same settings, and creates nothing
        with pytest.raises(grpc.RpcError) as e2:
            stub.GetSuggestions(
                katib.GetSuggestionsRequest(experiment=experiment(settings), current_request_number=1, total_request_number=1),
                timeout=KATIB_DEADLINE_S,
            )
        assert e2.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
    api_channel, api = shared_server.api()
    with api_channel:
        assert list(api.ListExperiments(PB.ListExperimentsRequest(), timeout=60).experiments) == []


def test_controller_call_pattern_with_a_restart(server):
    ctl = Controller()
    channel, stub, _ = server.katib()
    # the controller validates the settings when it creates the Suggestion
    stub.ValidateAlgorithmSettings(katib.ValidateAlgorithmSettingsRequest(experiment=experiment()), timeout=KATIB_DEADLINE_S)

    # call 1: parallel_trial_count trials
    first = ctl.request_more(stub, 3)
    experiment_id = ctl.status_settings["experiment_id"]
    assert experiment_id == "katib-" + KATIB_NAME
    t = list(ctl.trials)

    # trials finish out of order: the third first; the first fails (no observation)
    ctl.finish(t[2], katib.TrialStatus.SUCCEEDED, 0.42)
    ctl.finish(t[0], katib.TrialStatus.FAILED)
    ctl.request_more(stub, 2)  # call 2: every trial re-sent, one new observation
    ctl.request_more(stub, 1)  # call 3: the same trials again: nothing new to apply
    t = list(ctl.trials)
    ctl.finish(t[4], katib.TrialStatus.SUCCEEDED, 0.55)
    ctl.finish(t[1], katib.TrialStatus.EARLYSTOPPED, 0.31)

    api_channel, api = server.api()
    before = katib_metrics(api, experiment_id)
    assert sorted(before) == [f"katib:{t[2]}"]
    api_channel.close()
    channel.close()

    # the suggestion pod restarts on its volume (ResumePolicy FromVolume)
    server.stop()
    server.start()
    channel, stub, _ = server.katib()
    api_channel, api = server.api()

    ctl.request_more(stub, 2)  # call 4 after the restart: t[4] and t[1] (handed out before it) are applied
    t = list(ctl.trials)
    assert ctl.status_settings["experiment_id"] == experiment_id
    ctl.finish(t[6], katib.TrialStatus.SUCCEEDED, 0.6)
    ctl.finish(t[3], katib.TrialStatus.SUCCEEDED, 0.5)
    ctl.finish(t[5], katib.TrialStatus.SUCCEEDED, 0.47)
    ctl.request_more(stub, 3)  # call 5
    ctl.request_more(stub, 1)  # call 6: everything re-sent once more

    # each final trial with an observation is in the metric log exactly once, with its value as accuracy
    applied = katib_metrics(api, experiment_id)
    expected = {t[2]: 0.42, t[4]: 0.55, t[1]: 0.31, t[6]: 0.6, t[3]: 0.5, t[5]: 0.47}
    assert sorted(applied) == sorted(f"katib:{n}" for n in expected)
    for name, acc in expected.items():
        (record,) = applied[f"katib:{name}"]
        subnet = dict((a.name, a.value) for a in ctl.trials[name].spec.parameter_assignments.assignments)["subnet_id"]
        assert record.subnet_id == subnet
        assert record.values["accuracy"] == pytest.approx(acc)
        assert record.values[OBJECTIVE] == pytest.approx(acc)
        assert record.values["observed_loss"] == pytest.approx(0.9)
    assert f"katib:{t[0]}" not in applied  # FAILED: nothing to report

    # one supernetd experiment for the Katib experiment, across the restart
    ids = [e.id for e in api.ListExperiments(PB.ListExperimentsRequest(), timeout=60).experiments]
    assert ids == [experiment_id]
    assert len(first.parameter_assignments) == 3 and len(ctl.trials) == 12

    # the supernet trains in the background between calls (10 steps a call, up to total_steps 40)
    deadline = time.monotonic() + HANG_GUARD_S
    while api.GetExperiment(PB.GetExperimentRequest(experiment_id=experiment_id), timeout=60).experiment.step < 10:
        assert time.monotonic() < deadline, "no background training round finished"
        time.sleep(0.5)
    channel.close()
    api_channel.close()


def test_the_documented_experiment_validates(shared_server):
    """examples/katib/experiment.yaml: its settings pass, and its trial parameters are assigned ones."""
    doc = yaml.safe_load((ROOT / "examples" / "katib" / "experiment.yaml").read_text())
    spec = doc["spec"]
    exp = katib.Experiment(
        name=doc["metadata"]["name"],
        spec=katib.ExperimentSpec(
            objective=katib.ObjectiveSpec(
                type=katib.MAXIMIZE if spec["objective"]["type"] == "maximize" else katib.MINIMIZE,
                objective_metric_name=spec["objective"]["objectiveMetricName"],
            ),
            algorithm=katib.AlgorithmSpec(
                algorithm_name=spec["algorithm"]["algorithmName"],
                algorithm_settings=[katib.AlgorithmSetting(name=s["name"], value=s["value"]) for s in spec["algorithm"]["algorithmSettings"]],
            ),
        ),
    )
    channel, stub, _ = shared_server.katib()
    with channel:
        stub.ValidateAlgorithmSettings(katib.ValidateAlgorithmSettingsRequest(experiment=exp), timeout=KATIB_DEADLINE_S)
    for p in spec["trialTemplate"]["trialParameters"]:
        assert p["reference"] in ASSIGNMENT_NAMES, p
    command = " ".join(spec["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"])
    # Katib's validator: every trial parameter is substituted somewhere in the template
    for p in spec["trialTemplate"]["trialParameters"]:
        assert "${trialParameters.%s}" % p["name"] in command
