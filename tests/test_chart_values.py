"""Every Helm values key the platform sets exists in the chart at the pinned version.

Helm silently ignores a key the chart does not have: a typo (or a key renamed between chart
versions) would drop a setting — a security context, a replica count — without any error.
The indexes in tests/fixtures/charts/ are generated from each chart's values.yaml at the
pinned tag (extract.py there); a chart bump without regenerating them fails here first.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from components.observability.versions import JAEGER, OTEL_COLLECTOR
from components.observability.versions import KUBE_PROMETHEUS_STACK as KPS
from tests.chart_cache import chart_name
from tests.conftest import planned

FIXTURES = Path(__file__).parent / "fixtures" / "charts"
RELEASE = "kubernetes:helm.sh/v3:Release"

# Keys holding a Kubernetes object (its fields are the API's, not the chart's) or a map of
# command-line flags; the chart copies them through whole.
PASS_THROUGH = {"securityContext", "podSecurityContext", "containerSecurityContext", "resources",
                "extraArgs"}  # fmt: skip
# Keys whose subtree is the application's own configuration, not the chart's values.
FREE_FORM = {
    "kube-prometheus-stack": {"alertmanager.config", "grafana.grafana.ini"},
}
# Keys a chart's templates read although its values.yaml does not list them (read at the
# pinned tag; the template that reads each one is named).
TEMPLATE_ONLY = {
    "jaeger": {
        "jaeger.resources",  # templates/jaeger/jaeger-deploy.yaml: with .Values.jaeger.resources
        "jaeger.podLabels",  # jaeger-deploy.yaml: toYaml .Values.jaeger.podLabels
        "jaeger.strategy",  # jaeger-deploy.yaml: if .Values.jaeger.strategy (else Recreate)
        # values.yaml misspells it `topologySpreadContraints`; the template reads this one.
        "jaeger.topologySpreadConstraints",
    },
    "fluent-bit": {"serviceMonitor.interval"},  # templates/servicemonitor.yaml
    "prometheus-yet-another-cloudwatch-exporter": {"serviceMonitor.interval"},  # same
    # templates/pdb.yaml reads minAvailable / maxUnavailable next to `enabled`.
    "opentelemetry-collector": {"podDisruptionBudget.maxUnavailable"},
}


@cache
def chart_keys(chart: str, version: str) -> dict[str, str]:
    path = FIXTURES / f"{chart}-{version}.json"
    assert path.exists(), f"no values index for {chart} {version}: run extract.py (see its doc)"
    return json.loads(path.read_text())["keys"]


def unknown_keys(chart: str, version: str, values: dict) -> list[str]:
    keys = chart_keys(chart, version)
    free = FREE_FORM.get(chart, set()) | TEMPLATE_ONLY.get(chart, set())
    found = []

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if path in free or str(key) in PASS_THROUGH:
                continue
            kind = keys.get(path)
            if kind is None:
                found.append(path)
            elif kind == "map" and isinstance(value, dict):
                walk(value, path)

    walk(values, "")
    return found


def test_every_key_of_every_release_exists_in_its_chart(recording):
    releases = recording.of_type(RELEASE)
    assert releases
    problems = {
        f"{r.inputs['chart']} {r.inputs['version']}": unknown_keys(
            chart_name(r.inputs["chart"]), r.inputs["version"], r.inputs.get("values", {})
        )
        for r in releases
    }
    assert {name: keys for name, keys in problems.items() if keys} == {}


@pytest.mark.parametrize(
    "chart, version, values",
    [
        (KPS.name, KPS.version, {"prometheus": {"prometheusSpec": {"replica": 2}}}),
        (JAEGER.name, JAEGER.version, {"allInOne": {"enabled": True}}),  # removed in 4.2
        (OTEL_COLLECTOR.name, OTEL_COLLECTOR.version, {"podSecurityContexts": {}}),
    ],
    ids=["misspelt-replicas", "key-of-an-older-chart", "plural-key"],
)
def test_the_check_catches_a_key_the_chart_does_not_have(chart, version, values):
    assert unknown_keys(chart, version, values)


def test_the_committed_stacks_use_every_observability_chart():
    charts = {
        chart_name(r.inputs["chart"])
        for env in ("dev", "uat", "prod")
        for r in planned(env)[1].of_type(RELEASE)
    }
    indexed = {p.stem.rsplit("-", 1)[0] for p in FIXTURES.glob("*.json")}
    # Cluster Autoscaler is a supported `cluster.nodeAutoscaler` no committed stack picks
    # (uat and prod run Karpenter, dev none): its pins and indexes stay.
    assert indexed <= charts | {"cluster-autoscaler"}, "an index for a chart nothing installs"
    assert "cluster-autoscaler" not in charts
