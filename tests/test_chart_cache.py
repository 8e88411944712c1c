"""The chart cache the render tests read: its source list matches the pins, it is found where
the docs say, and filling it accepts only archives whose digest the repository's index signs.

The fill runs against a Helm repository served from this machine (127.0.0.1) with a chart of
our own, so it needs no network.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from tests import chart_cache
from tests.chart_cache import ChartSource, GitSource


def test_every_pinned_chart_has_a_source_and_every_source_a_pin():
    assert chart_cache.source_problems(chart_cache.pinned()) == []


def test_the_source_check_catches_a_pin_without_an_entry_and_an_entry_without_a_pin():
    pins = chart_cache.pinned()
    bumped = {(n, "99.0.0" if n == "fluent-bit" else v, r) for n, v, r in pins}
    problems = chart_cache.source_problems(bumped)
    assert any("pinned but not in SOURCES: fluent-bit 99.0.0" in p for p in problems)
    assert any("in SOURCES but pinned nowhere: fluent-bit 0.58.1" in p for p in problems)


def test_the_pins_cover_every_kubernetes_minor_and_both_versions_modules():
    names = {name for name, _, _ in chart_cache.pinned()}
    assert {"aws-load-balancer-controller", "cluster-autoscaler", "kube-prometheus-stack"} <= names
    autoscalers = {v for n, v, _ in chart_cache.pinned() if n == "cluster-autoscaler"}
    assert len(autoscalers) == 3  # one per supported minor


def test_the_cache_is_found_where_the_docs_say(tmp_path, monkeypatch):
    monkeypatch.delenv(chart_cache.ENV, raising=False)
    assert chart_cache.cache_dir() == Path("~/.cache/platform/charts").expanduser()
    monkeypatch.setenv(chart_cache.ENV, str(tmp_path))
    assert chart_cache.locate("probe", "0.1.0") is None
    (tmp_path / "probe-0.1.0").mkdir()
    assert chart_cache.locate("probe", "0.1.0") is None  # a directory without Chart.yaml
    (tmp_path / "probe-0.1.0" / "Chart.yaml").write_text("name: probe\n")
    assert chart_cache.locate("probe", "0.1.0") == tmp_path / "probe-0.1.0"
    (tmp_path / "probe-0.1.0.tgz").write_bytes(b"archive")
    assert chart_cache.locate("probe", "0.1.0") == tmp_path / "probe-0.1.0.tgz"


def test_missing_charts_skip_with_one_message_unless_they_are_required():
    assert chart_cache.verdict([], {}) is None
    action, message = chart_cache.verdict(["jaeger-4.11.1", "fluent-bit-0.58.1"], {})
    assert action == "skip"
    for needed in ("jaeger-4.11.1", "fluent-bit-0.58.1", "python -m tests.chart_cache",
                   chart_cache.ENV, chart_cache.REQUIRE):  # fmt: skip
        assert needed in message
    assert chart_cache.verdict(["jaeger-4.11.1"], {chart_cache.REQUIRE: "1"})[0] == "fail"


# -- filling it from a Helm repository ---------------------------------------------------------
@pytest.fixture
def repository(tmp_path):
    """A Helm repository on 127.0.0.1 holding one chart of our own: (url, its directory)."""
    chart = tmp_path / "src" / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\n"
    )
    served = tmp_path / "served"
    served.mkdir()
    archive = Path(helm.package(chart, destination=served))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    index = {
        "apiVersion": "v1",
        "entries": {
            "probe": [
                {
                    "name": "probe",
                    "version": "0.1.0",
                    "digest": digest,
                    "urls": [f"charts/{archive.name}"],
                }
            ]
        },
    }
    (served / "charts").mkdir()
    archive.rename(served / "charts" / archive.name)
    (served / "index.yaml").write_text(yaml.safe_dump(index))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def _source(url: str, version: str = "0.1.0") -> ChartSource:
    return ChartSource("probe", version, url, GitSource("example/probe", "v0.1.0", "probe"))


def test_fill_downloads_a_verified_archive_helm_can_load(repository, tmp_path):
    url, _ = repository
    cache = tmp_path / "cache"
    assert chart_cache.fill(cache, (_source(url),)) == []
    archive = chart_cache.locate("probe", "0.1.0", cache)
    assert archive == cache / "probe-0.1.0.tgz"
    with helm.Chart.load(archive) as chart:
        assert (chart.name, chart.version) == ("probe", "0.1.0")
    assert chart_cache.fill(cache, (_source(url),)) == []  # already there: nothing to do


def test_fill_refuses_an_archive_whose_digest_does_not_match(repository, tmp_path):
    url, served = repository
    archive = next((served / "charts").glob("*.tgz"))
    archive.write_bytes(archive.read_bytes() + b"tampered")
    cache = tmp_path / "cache"
    problems = chart_cache.fill(cache, (_source(url),))
    assert len(problems) == 1 and "sha256" in problems[0]
    assert chart_cache.locate("probe", "0.1.0", cache) is None
    assert not list(cache.glob("*"))  # no partial file left behind


def test_fill_reports_a_version_the_repository_does_not_have(repository, tmp_path):
    url, _ = repository
    problems = chart_cache.fill(tmp_path / "cache", (_source(url, "0.2.0"),))
    assert problems == [f"probe-0.2.0: {url} has no probe 0.2.0"]


# -- filling it from an OCI registry (Karpenter) ---------------------------------------------
@pytest.fixture
def registry(repository):
    """An OCI registry on 127.0.0.1 serving the probe chart the way ECR Public does: the
    manifest needs an anonymous bearer token, the chart is a blob named by its digest."""
    _, served = repository
    archive = next((served / "charts").glob("*.tgz"))
    state = {"blob": archive.read_bytes()}
    digest = "sha256:" + hashlib.sha256(state["blob"]).hexdigest()
    manifest = json.dumps(
        {"layers": [{"mediaType": chart_cache.HELM_CHART_LAYER, "digest": digest}]}
    ).encode()

    class Registry(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            port = self.server.server_address[1]
            if self.path.startswith("/token"):
                body, code = b'{"token": "anonymous"}', 200
            elif self.headers.get("Authorization") != "Bearer anonymous":
                body, code = b"", 401
            elif self.path == "/v2/charts/probe/manifests/0.1.0":
                body, code = manifest, 200
            elif self.path == f"/v2/charts/probe/blobs/{digest}":
                body, code = state["blob"], 200
            else:
                body, code = b"", 404
            self.send_response(code)
            if code == 401:
                realm = f"http://127.0.0.1:{port}/token"
                self.send_header(
                    "WWW-Authenticate",
                    f'Bearer realm="{realm}",service="probe",scope="repository:charts/probe:pull"',
                )
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def test_an_oci_chart_is_pulled_with_an_anonymous_token_and_its_digest_checked(registry, tmp_path):
    host, state = registry
    entry = _source(f"oci://{host}/charts/probe")
    archive = chart_cache.fetch_oci(entry, tmp_path / "cache", scheme="http")
    assert archive == tmp_path / "cache" / "probe-0.1.0.tgz"
    with helm.Chart.load(archive) as chart:
        assert (chart.name, chart.version) == ("probe", "0.1.0")
    state["blob"] += b"tampered"
    with pytest.raises(ValueError, match="blob is not sha256:"):
        chart_cache.fetch_oci(entry, tmp_path / "other", scheme="http")
    assert not (tmp_path / "other").exists()


def test_karpenter_is_pinned_as_oci_charts_of_one_version_with_its_release_tag():
    pins = {(n, v, r) for n, v, r in chart_cache.pinned() if n.startswith("karpenter")}
    assert pins == {
        ("karpenter", "1.14.1", "oci://public.ecr.aws/karpenter/karpenter"),
        ("karpenter-crd", "1.14.1", "oci://public.ecr.aws/karpenter/karpenter-crd"),
    }
    assert chart_cache.source("karpenter", "1.14.1").git.tag == "v1.14.1"
