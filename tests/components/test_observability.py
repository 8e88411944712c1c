"""Observability as a component on its own: its rules refuse bad input before registering,
and the level decides what is registered (the whole-stack tests cover the composition)."""

from __future__ import annotations

from collections import Counter

import pulumi_kubernetes as k8s
import pytest

from components.alb import AlbGroup
from components.iam import PodIdentityCluster
from components.observability import (
    DataStoreThresholds,
    Observability,
    ObservabilityArgs,
    SlackAlerting,
    UiExposure,
)
from infra.offline import mockengine
from infra.offline.mockengine import ACCOUNT_ID, run_program

CLUSTER_ARN = f"arn:aws:eks:eu-west-1:{ACCOUNT_ID}:cluster/test"
IDENTITY = PodIdentityCluster(cluster_name="test", cluster_arn=CLUSTER_ARN, account_id=ACCOUNT_ID)
SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"


def _args(**changes) -> ObservabilityArgs:
    base = dict(
        cluster_name="test",
        region="eu-west-1",
        k8s_provider=k8s.Provider("k8s", kubeconfig="{}"),
        control_plane_cidrs=["10.0.0.0/16"],
        identity=IDENTITY,
        level="basic",
        prometheus_retention="3d",
        prometheus_storage_gib=10,
        alert_thresholds=DataStoreThresholds(aurora_connections=400),
    )
    return ObservabilityArgs(**{**base, **changes})


def _run(**changes) -> mockengine.Recording:
    return run_program(
        lambda: Observability("obs", _args(**changes)),
        stack="test",
        config={"aws:region": "eu-west-1"},
    )


def _ui(scheme: str = "internal") -> UiExposure:
    return UiExposure(
        alb=AlbGroup(name="test-internal", scheme=scheme),
        certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/x",
        domain="ops.example.com",
        source_cidrs=("10.0.0.0/20",),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"level": "Full"}, "level 'Full': one of basic, enhanced, full"),
        ({"prometheus_retention": "1.5d"}, "prometheus_retention '1.5d'"),
        ({"prometheus_retention": "0"}, "a Prometheus duration"),
        ({"prometheus_storage_gib": 0}, "prometheus_storage_gib 0"),
        ({"level": "enhanced"}, "elasticsearch_storage_gib 0"),
        ({"log_retention_days": 0}, "log_retention_days 0"),
        ({"alerting": SlackAlerting(webhook_url=SLACK, critical_channel="alerts")}, "'#alerts"),
        ({"alerting": SlackAlerting(webhook_url="https://example.com/hook")}, "incoming-webhook"),
        ({"ui": _ui("internet-facing")}, "internal ALB only"),
        ({"alert_thresholds": DataStoreThresholds(aurora_connections=0)}, "aurora_connections"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, str) else None,
)
def test_invalid_args_fail_before_anything_is_registered(changes, message):
    with pytest.raises(ValueError, match=message):
        _run(**changes)
    assert mockengine.last_run.monitor is not None
    assert [r.type for r in mockengine.last_run.monitor.recorded] == ["pulumi:providers:kubernetes"]


def test_basic_runs_no_logs_pipeline_and_enhanced_does():
    def charts(recording):
        return {r.inputs["chart"] for r in recording.of_type("kubernetes:helm.sh/v3:Release")}

    basic = charts(_run())
    enhanced = charts(_run(level="enhanced", elasticsearch_storage_gib=30))
    assert {"eck-operator", "fluent-bit"} & basic == set()
    assert {"eck-operator", "fluent-bit"} <= enhanced
    assert {"kube-prometheus-stack", "jaeger", "opentelemetry-collector"} <= basic


def test_every_in_cluster_object_waits_for_what_the_cluster_says_comes_first():
    def program():
        gate = k8s.core.v1.ConfigMap("controllers-ready", metadata={"name": "gate"})
        Observability("obs", _args(cluster_ready=[gate]))

    recording = run_program(program, stack="test", config={"aws:region": "eu-west-1"})
    gate = recording.one("kubernetes:core/v1:ConfigMap", "controllers-ready")
    in_cluster = [
        r for r in recording.resources if r.type.startswith("kubernetes:") and r.parent != ""
        and r.name != "controllers-ready" and not r.type.startswith("pulumi:providers")
    ]  # fmt: skip
    assert in_cluster
    for resource in in_cluster:
        assert gate.urn in resource.dependencies, resource.name


def test_without_the_cloudwatch_exporter_nothing_of_aws_is_registered():
    """The local stack's shape: no IRSA role and no exporter, everything else unchanged."""
    with_exporter, without = _run(), _run(cloudwatch_exporter=False)

    def types(recording):
        return sorted(r.type for r in recording.resources)

    def charts(recording):
        return {r.inputs["chart"] for r in recording.of_type("kubernetes:helm.sh/v3:Release")}

    assert any(t.startswith("aws:") for t in types(with_exporter))
    assert [t for t in types(without) if t.startswith("aws:")] == []
    assert charts(with_exporter) - charts(without) == {"prometheus-yet-another-cloudwatch-exporter"}
    # Exactly the exporter's role (and its policy) and its release go; nothing else changes.
    dropped = Counter(types(with_exporter)) - Counter(types(without))
    assert Counter(types(without)) - Counter(types(with_exporter)) == Counter()
    assert dropped["kubernetes:helm.sh/v3:Release"] == 1
    assert {t for t in dropped if not t.startswith("aws:")} == {"kubernetes:helm.sh/v3:Release"}
