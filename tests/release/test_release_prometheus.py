"""The Prometheus adapter against a real Prometheus server (Debian's /usr/bin/prometheus).

A local test app serves metrics for `api` blue, `api` green and a `worker` without traffic.
Every counter is `per_second * elapsed`, with one `elapsed` per scrape: all series of a target
grow in fixed proportion, so `rate()` ratios (error rate) and bucket shapes (p95) are exact
whatever the scrape timing and `rate()` extrapolation.

The labels come from the project's own objects, not from the test: each static target carries
the labels of the real pod template (`manifests.pod_template`) as Kubernetes service discovery
exposes them (`__meta_kubernetes_pod_label_<name>`), and each job relabels them with the
`relabelings` of the real PodMonitor (`manifests.pod_monitor`), translated to `relabel_configs`
the way the Prometheus Operator does. So the gates' selectors meet the labels the PodMonitor
really produces, and no `__meta_*` label survives into the series.

Expected values:
* green: 100 req/s, 20 of them 5xx -> error rate 0.20; buckets (cumulative per second)
  0.1:10 0.25:30 0.5:50 1:80 2.5:100 -> p95 rank 95 lies in (1, 2.5]: 1 + 1.5 * 15/20 = 2.125 s
* blue: 50 req/s, 5 of them 404, no 5xx -> 0.0; buckets 0.1:20 0.25:40 0.5:50 ->
  p95 rank 47.5 lies in (0.25, 0.5]: 0.25 + 0.25 * 7.5/10 = 0.4375 s
* worker: counters stay 0 -> no traffic -> no data (None)
"""

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from components.bluegreen import BlueGreenServiceArgs, validate
from components.bluegreen import manifests as m
from infra.release.actions import Sample
from infra.release.adapters.prometheus import PrometheusMetrics
from infra.release.gates import Thresholds, judge
from infra.release.model import Color
from tests import validators

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
WINDOW = 10.0
BUCKETS = ("0.1", "0.25", "0.5", "1", "2.5", "+Inf")
TARGETS = {
    # path: (per-second requests by code, per-second cumulative bucket counts, service, color)
    "/api-green": ({"200": 80, "500": 15, "503": 5}, (10, 30, 50, 80, 100, 100), "api", "green"),
    "/api-blue": ({"200": 45, "404": 5}, (20, 40, 50, 50, 50, 50), "api", "blue"),
    "/worker-blue": ({"200": 0}, (0, 0, 0, 0, 0, 0), "worker", "blue"),
}
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
TAGS = {
    "api": {"blue": "1.4.2", "green": "1.5.0"},
    "worker": {"blue": "2.0.1", "green": "2.0.1"},
}


def exposition(codes: dict[str, int], buckets: tuple[int, ...], elapsed: float) -> str:
    """Prometheus text format with every series at `per_second * elapsed`."""
    lines = ["# TYPE http_requests_total counter"]
    lines += [f'http_requests_total{{code="{c}"}} {n * elapsed!r}' for c, n in codes.items()]
    lines.append("# TYPE http_request_duration_seconds histogram")
    lines += [
        f'http_request_duration_seconds_bucket{{le="{le}"}} {n * elapsed!r}'
        for le, n in zip(BUCKETS, buckets, strict=True)
    ]
    lines.append(f"http_request_duration_seconds_sum {0.5 * buckets[-1] * elapsed!r}")
    lines.append(f"http_request_duration_seconds_count {buckets[-1] * elapsed!r}")
    return "\n".join(lines) + "\n"


class MetricsApp(BaseHTTPRequestHandler):
    """The scraped test app; `started` is set per server class."""

    started = 0.0

    def do_GET(self) -> None:
        target = TARGETS.get(self.path)
        if target is None:
            self.send_error(404)
            return
        body = exposition(target[0], target[1], time.monotonic() - self.started).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Keep test output quiet."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_args(service: str) -> BlueGreenServiceArgs:
    """The component's inputs for `service`, as a stack would give them."""
    args = BlueGreenServiceArgs(
        service_name=service,
        namespace="apps",
        image=f"{REGISTRY}/{service}",
        tags=TAGS[service],
        alb_source_cidrs=("10.0.0.0/22", "10.0.4.0/22"),
        prometheus_pod_monitor=True,
    )
    assert validate(args) == []
    return args


def snake_case(key: str) -> str:
    """`sourceLabels` -> `source_labels` (PodMonitor field -> Prometheus config key)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def relabel_configs(monitor: dict[str, Any]) -> list[dict[str, Any]]:
    """The PodMonitor's own `relabelings` as the Prometheus Operator renders them."""
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    configs = []
    for relabeling in endpoint["relabelings"]:
        config = {snake_case(key): value for key, value in relabeling.items()}
        if "action" in config:
            config["action"] = config["action"].lower()
        configs.append(config)
    return configs


def discovered_pod_labels(args: BlueGreenServiceArgs, color: str) -> dict[str, str]:
    """The pod template's labels as kubernetes_sd exposes them to relabelling."""
    pod_labels = m.pod_template(args, color)["metadata"]["labels"]
    return {
        f"__meta_kubernetes_pod_label_{re.sub('[^A-Za-z0-9_]', '_', name)}": value
        for name, value in pod_labels.items()
    }


def prometheus_config(app_port: int) -> str:
    jobs = []
    for path, (_, _, service, color) in TARGETS.items():
        args = service_args(service)
        jobs.append(
            {
                "job_name": path.strip("/"),
                "metrics_path": path,
                "static_configs": [
                    {
                        "targets": [f"127.0.0.1:{app_port}"],
                        "labels": discovered_pod_labels(args, color),
                    }
                ],
                "relabel_configs": relabel_configs(m.pod_monitor(args)),
            }
        )
    interval = {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    return yaml.safe_dump({"global": interval, "scrape_configs": jobs}, sort_keys=False)


def api(base_url: str, path: str, **params: str) -> Any:
    """`data` of a Prometheus HTTP API call."""
    url = f"{base_url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """A real Prometheus scraping the test app every second; yields its base URL."""
    if not os.path.exists(PROMETHEUS):
        validators.missing("prometheus", f"{PROMETHEUS} not installed")
    handler = type("App", (MetricsApp,), {"started": time.monotonic()})
    app = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    workdir = tmp_path_factory.mktemp("prometheus")
    config = workdir / "prometheus.yml"
    config.write_text(prometheus_config(app.server_address[1]))
    if shutil.which(PROMTOOL):
        subprocess.run(
            [PROMTOOL, "check", "config", str(config)], check=True, timeout=30, capture_output=True
        )
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is None and ready(url), 30, "Prometheus /-/ready")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        app.shutdown()
        app.server_close()


@pytest.fixture(scope="module")
def samples(prometheus) -> dict[str, Sample]:
    """Adapter samples once both api colours have data in the window."""
    metrics = PrometheusMetrics(prometheus, timeout=5)

    def both() -> dict[str, Sample] | None:
        got = {c: metrics.sample("api", Color(c), WINDOW) for c in ("green", "blue")}
        complete = all(s.error_rate is not None and s.p95_seconds is not None for s in got.values())
        return got if complete else None

    return wait_until(both, 30, "rate() data for api green and blue")


def test_error_rate_of_each_colour(samples):
    assert samples["green"].error_rate == pytest.approx(0.20, rel=1e-6)
    assert samples["blue"].error_rate == pytest.approx(0.0, abs=1e-12)  # 404s are not errors


def test_p95_of_each_colour(samples):
    assert samples["green"].p95_seconds == pytest.approx(2.125, rel=1e-6)
    assert samples["blue"].p95_seconds == pytest.approx(0.4375, rel=1e-6)


def test_gate_breaches_for_green_and_passes_for_blue(samples):
    limits = Thresholds()

    green = judge(samples["green"], limits, final=True)
    blue = judge(samples["blue"], limits, final=True)

    assert green.gate == "error-rate"
    assert green.summary == "error rate 20.00% > threshold 10.00%"
    assert blue.passed, blue.summary


def test_latency_gate_alone_breaches_for_green(samples):
    lenient = Thresholds(max_error_rate=0.5)

    verdict = judge(samples["green"], lenient, final=True)

    assert verdict.gate == "latency-p95"
    assert verdict.summary == "p95 latency 2.125s > threshold 2s"


def test_no_traffic_and_unknown_series_are_no_data(prometheus, samples):
    metrics = PrometheusMetrics(prometheus, timeout=5)

    assert metrics.sample("worker", Color.BLUE, WINDOW) == Sample(None, None)  # rate 0: NaN
    assert metrics.sample("nope", Color.GREEN, WINDOW) == Sample(None, None)  # no series


def test_pod_monitor_relabelling_yields_service_colour_and_version(prometheus, samples):
    series = api(prometheus, "query", query="up")["result"]

    metrics = [one["metric"] for one in series]
    labels = {
        metric["job"]: {k: v for k, v in metric.items() if k not in ("job", "instance")}
        for metric in metrics
    }
    assert labels == {
        path.strip("/"): {
            "__name__": "up",
            "service": service,
            "color": color,
            "version": TAGS[service][color],
        }
        for path, (_, _, service, color) in TARGETS.items()
    }
    assert all("instance" in metric for metric in metrics)
    assert all(one["value"][1] == "1" for one in series)


def test_no_discovery_label_leaks_into_the_series(prometheus, samples):
    names = api(prometheus, "labels")
    targets = api(prometheus, "targets", state="active")["activeTargets"]

    assert {"service", "color", "version"} <= set(names)
    assert not [name for name in names if name.startswith("__meta")]
    for target in targets:
        assert "__meta_kubernetes_pod_label_app" in target["discoveredLabels"]
        assert not [name for name in target["labels"] if name.startswith("__")]
