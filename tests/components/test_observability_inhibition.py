"""Alertmanager's inhibition rules, proven against a real Alertmanager.

amtool cannot test inhibition, so a local Alertmanager (Debian's prometheus-alertmanager)
runs `alertmanager.config` and receives alerts through its API; the API reports each alert
as active or suppressed (and by what). Proven: a critical alert silences the warning of the
same subject only — the same node, the same database instance, the same service — never
the warning of a neighbour; a failing service silences its failing colour.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
import yaml

from components.observability import alertmanager
from components.observability.args import SlackAlerting
from tests import validators

BINARY = "/usr/bin/prometheus-alertmanager"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _call(url: str, body: list | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read()
    return json.loads(text) if text else None


@pytest.fixture(scope="module")
def alertmanager_url(tmp_path_factory):
    if not os.path.exists(BINARY):
        validators.missing("alertmanager", f"{BINARY} not installed")
    workdir = tmp_path_factory.mktemp("alertmanager")
    config = alertmanager.config(SlackAlerting(webhook_url="unused"))
    url_file = workdir / "webhook-url"
    url_file.write_text("http://127.0.0.1:9/never-called\n")  # nothing is sent in 30 s anyway
    text = yaml.safe_dump(config).replace(alertmanager.SLACK_URL_FILE, str(url_file))
    (workdir / "alertmanager.yml").write_text(text)
    port, cluster_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--cluster.listen-address=127.0.0.1:{cluster_port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("Alertmanager did not become ready") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


DB = "dimension_DBInstanceIdentifier"
ALERTS = [
    {"alertname": "NodeHighCpu", "instance": "node-1", "severity": "critical"},
    {"alertname": "NodeHighCpu", "instance": "node-1", "severity": "warning"},
    {"alertname": "NodeHighCpu", "instance": "node-2", "severity": "warning"},
    {"alertname": "AuroraHighCpu", DB: "db-1", "severity": "critical"},
    {"alertname": "AuroraHighCpu", DB: "db-1", "severity": "warning"},
    {"alertname": "AuroraHighCpu", DB: "db-2", "severity": "warning"},
    {"alertname": "ServiceHighErrorRate", "namespace": "apps", "service": "api",
     "severity": "critical"},
    {"alertname": "ServiceColorHighErrorRate", "namespace": "apps", "service": "api",
     "color": "green", "severity": "critical"},
    {"alertname": "ServiceColorHighErrorRate", "namespace": "apps", "service": "web",
     "color": "green", "severity": "critical"},
]  # fmt: skip
SUPPRESSED = {
    ("NodeHighCpu", "node-1", "warning"),
    ("AuroraHighCpu", "db-1", "warning"),
    ("ServiceColorHighErrorRate", "api", "critical"),
}


def _key(labels: dict) -> tuple[str, str, str]:
    subject = labels.get("instance") or labels.get(DB)
    return labels["alertname"], subject or labels["service"], labels["severity"]


def test_inhibition_silences_the_same_subject_only(alertmanager_url):
    _call(f"{alertmanager_url}/api/v2/alerts", [{"labels": a} for a in ALERTS])
    # Alertmanager lists an alert as soon as it is received and marks it suppressed only once
    # its inhibitor has been processed (asynchronously): poll until the states stop changing
    # for a moment, or the deadline passes (then the assertions below report what is wrong).
    deadline, stable, previous = time.monotonic() + 15, 0, None
    while time.monotonic() < deadline and stable < 5:
        listed = _call(f"{alertmanager_url}/api/v2/alerts")
        states = {_key(a["labels"]): a["status"]["state"] for a in listed}
        complete = len(listed) == len(ALERTS) and "unprocessed" not in states.values()
        stable = stable + 1 if complete and states == previous else 0
        previous = states
        time.sleep(0.2)
    assert len(states) == len(ALERTS)
    assert {key for key, state in states.items() if state == "suppressed"} == SUPPRESSED
    assert {key for key, state in states.items() if state == "active"} == (
        {_key(a) for a in ALERTS} - SUPPRESSED
    )
