"""The thin adapters: HTTP smoke (local server), kubectl (fake runner), Automation API (fake
stack object), Prometheus response handling (local server)."""

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pulumi import automation as auto

from infra.release.adapters.http_smoke import HttpSmoke
from infra.release.adapters.kubectl import KubectlCluster, deployment_readiness
from infra.release.adapters.prometheus import (
    PrometheusMetrics,
    error_rate_query,
    p95_query,
    single_value,
)
from infra.release.adapters.pulumi_stack import AutomationStack
from infra.release.model import Color, find_service
from infra.release.record import Phase, Record

IMAGE = "registry.example/api:1.6.0"


class _Handler(BaseHTTPRequestHandler):
    """Serves `routes[path] = (status, body)`; records request paths."""

    routes: dict[str, tuple[int, bytes]] = {}
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, body = self.routes.get(self.path.split("?")[0], (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def http():
    """A localhost HTTP server for one test; yields (base_url, handler class)."""
    handler = type("Handler", (_Handler,), {"routes": {}, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def service(**overrides):
    entry = {"name": "api", "image": "registry.example/api", "tags": {"blue": "1", "green": "2"}}
    entry.update(
        {"activeColor": "blue", "healthPath": "/healthz", "allowPlainHttp": True, **overrides}
    )
    return find_service([entry], "api")


# -- smoke ----------------------------------------------------------------------------------


def test_smoke_passes_on_2xx_through_the_preview_url(http):
    base, handler = http
    handler.routes["/healthz"] = (200, b"ok")

    check = HttpSmoke("apps", url_template=base, timeout=2).probe(service())

    assert check.ok, check.detail
    assert handler.seen == ["/healthz"]


def test_smoke_fails_on_5xx_and_on_connection_errors(http):
    base, handler = http
    handler.routes["/healthz"] = (503, b"down")

    failed = HttpSmoke("apps", url_template=base, timeout=2).probe(service())
    refused = HttpSmoke("apps", url_template="http://127.0.0.1:9", timeout=2).probe(service())

    assert (failed.ok, failed.detail) == (False, f"GET {base}/healthz -> HTTP 503")
    assert not refused.ok


def test_default_preview_url_is_the_in_cluster_preview_service():
    smoke = HttpSmoke("apps")

    assert smoke.url(service(servicePort=8080, healthPath="/ready")) == (
        "http://api-preview.apps.svc.cluster.local:8080/ready"
    )


# -- kubectl --------------------------------------------------------------------------------


def deployment(**status):
    return {
        "metadata": {"name": "api-green", "generation": 4},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"image": IMAGE}]}}},
        "status": {
            "observedGeneration": 4,
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            **status,
        },
    }


@pytest.mark.parametrize(
    ("obj", "ok", "detail"),
    [
        (deployment(), True, "api-green 2/2 ready on registry.example/api:1.6.0"),
        (deployment(readyReplicas=1), False, "rolling out: updated 2/2, ready 1/2"),
        (deployment(observedGeneration=3), False, "not yet observed"),
        (deployment(replicas=3), False, "rolling out"),  # old pods still terminating
    ],
)
def test_deployment_readiness(obj, ok, detail):
    check = deployment_readiness(obj, IMAGE)

    assert check.ok is ok
    assert detail in check.detail


def test_deployment_with_another_image_or_no_replicas_is_not_ready():
    other = deployment_readiness(deployment(), "registry.example/api:1.5.0")
    empty = deployment()
    empty["spec"]["replicas"] = 0

    assert not other.ok and "expected registry.example/api:1.5.0" in other.detail
    assert deployment_readiness(empty, IMAGE).detail == "api-green is scaled to 0 replicas"


def test_kubectl_adapter_runs_get_deployment_json():
    calls = []

    def run(args, **kwargs):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, json.dumps(deployment()), "")

    check = KubectlCluster("apps", "prod", run=run).readiness("api", Color.GREEN, IMAGE)

    assert check.ok
    assert calls == [
        [
            "kubectl",
            "--namespace",
            "apps",
            "--context",
            "prod",
            "get",
            "deployment",
            "api-green",
            "--output",
            "json",
        ],
    ]


def test_kubectl_failure_is_not_ready():
    def run(args, **kwargs):
        return subprocess.CompletedProcess(args, 1, "", 'deployments "api-green" not found')

    check = KubectlCluster("apps", run=run).readiness("api", Color.GREEN, IMAGE)

    assert (check.ok, check.detail) == (False, 'kubectl failed: deployments "api-green" not found')


# -- Pulumi Automation API ------------------------------------------------------------------


class FakeCommand:
    """Stands in for the workspace's `PulumiCommand` (records the CLI arguments)."""

    def __init__(self, calls):
        self.calls = calls

    def run(self, args, cwd, additional_env, on_output=None, on_error=None):
        self.calls.append(("cli", *args))


class FakeWorkspace:
    def __init__(self, calls):
        self.pulumi_command = FakeCommand(calls)
        self.work_dir = "/project"
        self.env_vars = {}


class FakeAutoStack:
    """Stands in for `pulumi.automation.Stack` (the real one needs the pulumi CLI)."""

    name = "dev"

    def __init__(self, services, outputs=None):
        self.config = {"platform:services": auto.ConfigValue(json.dumps(services))}
        self.calls = []
        self.workspace = FakeWorkspace(self.calls)
        self._outputs = outputs or {}

    def outputs(self):
        return {k: auto.OutputValue(v, False) for k, v in self._outputs.items()}

    def get_config(self, key, *, path=False):
        return self.config[key]

    def get_all_config(self):
        return dict(self.config)

    def set_config(self, key, value, *, path=False):
        self.calls.append(("set", key, value.value, path))
        if not path:
            self.config[key] = value

    def remove_config(self, key, *, path=False):
        self.calls.append(("rm", key, path))

    def up(self, **kwargs):
        self.calls.append(("up",))


def test_automation_adapter_uses_path_keys_and_up():
    fake = FakeAutoStack([{"name": "web"}, {"name": "api", "trafficSplit": 10}])
    stack = AutomationStack(fake)

    stack.set_field(1, "tags.green", "1.10")
    stack.set_field(1, "trafficSplit", 50)
    stack.clear_field(1, "trafficSplit")
    stack.clear_field(1, "idleReplicas")  # absent: no `config rm`
    stack.apply()

    # Typed writes: the tag `1.10` stays text in the stack file (YAML would read 1.1).
    common = ("cli", "config", "set", "--path", "--type")
    assert fake.calls == [
        (*common, "string", "--plaintext", "--stack", "dev", "--",
         "platform:services[1].tags.green", "1.10"),
        (*common, "int", "--plaintext", "--stack", "dev", "--",
         "platform:services[1].trafficSplit", "50"),
        ("rm", "platform:services[1].trafficSplit", True),
        ("up",),
    ]  # fmt: skip
    assert stack.read_services()[1]["name"] == "api"


def test_automation_adapter_reads_the_live_release_fields_from_the_outputs():
    live = {"api": {"activeColor": "green", "tags": {"blue": "1.4", "green": "1.5"},
                    "trafficSplit": None, "idleReplicas": 0, "roleArn": "arn:x"}}  # fmt: skip
    stack = AutomationStack(FakeAutoStack([], outputs={"services": live}))

    assert stack.live_services() == {
        "api": {
            "activeColor": "green",
            "tags": {"blue": "1.4", "green": "1.5"},
            "trafficSplit": None,
            "idleReplicas": 0,
        }
    }
    assert AutomationStack(FakeAutoStack([])).live_services() == {}  # never deployed


def test_automation_adapter_keeps_the_record_under_the_release_namespace():
    stack = AutomationStack(FakeAutoStack([]))
    record = Record(Phase.CANARY, Color.BLUE, Color.GREEN, tag="1.6.0", step=10)

    assert stack.load("api") is None
    stack.save("api", record)

    assert stack.load("api") == record
    assert json.loads(stack._stack.config["release:api"].value)["phase"] == "canary"


# -- Prometheus -----------------------------------------------------------------------------


def vector(*values):
    return {"resultType": "vector", "result": [{"metric": {}, "value": [0, v]} for v in values]}


def test_single_value_handles_no_series_nan_and_values():
    assert single_value(vector()) is None
    assert single_value(vector("NaN")) is None
    assert single_value(vector("0.25")) == 0.25
    assert single_value(vector("+Inf")) == float("inf")  # p95 beyond the last bucket: a breach
    with pytest.raises(ValueError, match="expected one series"):
        single_value(vector("1", "2"))


def test_queries_select_service_and_colour_over_the_window():
    assert error_rate_query("api", Color.GREEN, 300) == (
        '(sum(rate(http_requests_total{service="api",color="green",code=~"5.."}[300s])) '
        'or vector(0)) / sum(rate(http_requests_total{service="api",color="green"}[300s]))'
    )
    assert p95_query("api", Color.BLUE, 59.6) == (
        "histogram_quantile(0.95, sum by (le) "
        '(rate(http_request_duration_seconds_bucket{service="api",color="blue"}[60s])))'
    )


def test_prometheus_error_response_raises(http):
    base, handler = http
    handler.routes["/api/v1/query"] = (200, b'{"status": "error", "error": "parse error"}')

    with pytest.raises(RuntimeError, match="Prometheus query failed: parse error"):
        PrometheusMetrics(base, timeout=2).query("up{")
