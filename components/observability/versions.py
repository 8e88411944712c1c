"""Every version the observability stack pins, in one file: edit this (and only this) on an
upgrade, then re-read each chart's values.yaml at the new tag (Helm silently ignores a values
key the chart does not have) and regenerate tests/fixtures/crds/.

Each chart's `images` are what it runs at its pin with the platform's values (read from the
chart at the pinned tag; tests/test_helm_render.py renders the chart and compares), so a bump
shows what actually changes in the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.cluster.versions import KUBERNETES_VERSIONS, supports

__all__ = [
    "CHARTS",
    "CLOUDWATCH_EXPORTER",
    "CURL_IMAGE",
    "ECK_OPERATOR",
    "ELASTIC_STACK_VERSION",
    "FLUENT_BIT",
    "JAEGER",
    "KUBE_PROMETHEUS_STACK",
    "OTEL_COLLECTOR",
    "OTEL_COLLECTOR_COMMAND",
    "OTEL_COLLECTOR_IMAGE",
    "Chart",
]


@dataclass(frozen=True)
class Chart:
    """A Helm chart pinned exactly, with the repository it comes from."""

    name: str
    version: str
    repository: str
    # Every container image the chart runs with the platform's values, as rendered.
    images: tuple[str, ...] = ()
    # The Kubernetes minors the chart says it supports at this version, (oldest, newest or
    # None when open-ended), read at its tag; None when it states none (NO_STATED_SUPPORT
    # then says why it is safe on every supported minor).
    supports: tuple[str, str | None] | None = None


# Its CRDs (the `crds` subchart) install before any template, so the PrometheusRules and
# PodMonitors created after this release always find them. Grafana is its subchart grafana
# 12.11.1 (with the dashboard sidecar); the webhook certificate Jobs run kube-webhook-certgen.
KUBE_PROMETHEUS_STACK = Chart(
    "kube-prometheus-stack",
    # renovate: datasource=helm depName=kube-prometheus-stack registryUrl=https://prometheus-community.github.io/helm-charts
    "88.5.3",
    "https://prometheus-community.github.io/helm-charts",
    images=(
        "quay.io/prometheus-operator/prometheus-operator:v0.93.1",
        "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1",
        "quay.io/prometheus/prometheus:v3.14.0-distroless",
        "quay.io/prometheus/alertmanager:v0.34.0",
        "docker.io/grafana/grafana:13.2.0",
        "quay.io/kiwigrid/k8s-sidecar:2.10.1",
        "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.20.0",
        "quay.io/prometheus/node-exporter:v1.12.1-distroless",
        "ghcr.io/jkroepke/kube-webhook-certgen:1.8.7",
    ),
    supports=("1.25", None),  # Chart.yaml kubeVersion ">=1.25.0-0"
)
# CRDs from its eck-operator-crds subchart (templates, so upgraded with the chart; kept on
# uninstall).
ECK_OPERATOR = Chart(
    "eck-operator",
    # renovate: datasource=helm depName=eck-operator registryUrl=https://helm.elastic.co
    "3.5.0",
    "https://helm.elastic.co",
    images=("docker.elastic.co/eck/eck-operator:3.5.0",),
    supports=("1.32", "1.36"),  # README "Supported versions: Kubernetes 1.32-1.36"
)
FLUENT_BIT = Chart(
    "fluent-bit",
    # renovate: datasource=helm depName=fluent-bit registryUrl=https://fluent.github.io/helm-charts
    "0.58.1",
    "https://fluent.github.io/helm-charts",
    images=("cr.fluentbit.io/fluent/fluent-bit:5.1.1",),
)
# Jaeger v2, configured only through `userconfig`; the index cleaner CronJob runs where
# traces go to Elasticsearch.
JAEGER = Chart(
    "jaeger",
    # renovate: datasource=helm depName=jaeger registryUrl=https://jaegertracing.github.io/helm-charts
    "4.11.1",
    "https://jaegertracing.github.io/helm-charts",
    images=("jaegertracing/jaeger:2.19.0", "jaegertracing/jaeger-es-index-cleaner:2.19.0"),
    supports=("1.21", None),  # Chart.yaml kubeVersion ">= 1.21-0"
)
# The OpenTelemetry k8s distribution at the chart's appVersion (images are no longer pushed to
# Docker Hub; the chart has no default image and refuses to install without a repository).
OTEL_COLLECTOR_IMAGE = {
    "repository": (
        "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s"
    ),
    # renovate: datasource=docker depName=ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s  # noqa: E501
    "tag": "0.158.0",
}
OTEL_COLLECTOR = Chart(
    "opentelemetry-collector",
    # renovate: datasource=helm depName=opentelemetry-collector registryUrl=https://open-telemetry.github.io/opentelemetry-helm-charts
    "0.170.0",
    "https://open-telemetry.github.io/opentelemetry-helm-charts",
    images=(f"{OTEL_COLLECTOR_IMAGE['repository']}:{OTEL_COLLECTOR_IMAGE['tag']}",),
    supports=("1.24", None),  # chart README "Prerequisites: Kubernetes 1.24+"
)
CLOUDWATCH_EXPORTER = Chart(
    "prometheus-yet-another-cloudwatch-exporter",
    # renovate: datasource=helm depName=prometheus-yet-another-cloudwatch-exporter registryUrl=https://prometheus-community.github.io/helm-charts
    "0.47.0",
    "https://prometheus-community.github.io/helm-charts",
    images=("quay.io/prometheuscommunity/yet-another-cloudwatch-exporter:v0.67.0",),
)

CHARTS = (
    KUBE_PROMETHEUS_STACK,
    ECK_OPERATOR,
    FLUENT_BIT,
    JAEGER,
    OTEL_COLLECTOR,
    CLOUDWATCH_EXPORTER,
)
# Charts whose Chart.yaml has no kubeVersion and whose README at the tag names no range.
NO_STATED_SUPPORT = {
    # With the platform's values it renders only GA APIs every supported minor serves (apps/v1,
    # v1, rbac/v1) plus the Prometheus operator's ServiceMonitor; the render tests validate each
    # object against the cluster minor's schema.
    FLUENT_BIT.name: "only GA APIs and a ServiceMonitor (render-tested per minor schema)",
    CLOUDWATCH_EXPORTER.name: "only GA APIs and a ServiceMonitor (render-tested per minor schema)",
}

# The version table's observability half: the charts per Kubernetes minor. One set serves
# every supported minor because each chart's stated range admits them all. The component
# installs CHARTS (the constants above) whatever the cluster's minor, so a row that differs
# needs the minor passed to ObservabilityArgs first; until then table_gaps holds every row to
# CHARTS.
CHARTS_BY_MINOR: dict[str, tuple[Chart, ...]] = {
    "1.33": CHARTS,
    "1.34": CHARTS,
    "1.35": CHARTS,
}


def table_gaps(minors: tuple[str, ...] = KUBERNETES_VERSIONS) -> list[str]:
    """What the observability table lacks for each supported minor (empty when complete): a
    missing row or chart, a chart without images, or a stated support range that leaves the
    minor out."""
    gaps = [
        f"{m}: pinned but not a supported minor" for m in sorted(set(CHARTS_BY_MINOR) - set(minors))
    ]
    for minor in minors:
        row = CHARTS_BY_MINOR.get(minor)
        if row is None:
            gaps.append(f"{minor}: no observability charts")
            continue
        if row != CHARTS:
            gaps.append(
                f"{minor}: differs from CHARTS, which the component installs on every minor"
            )
        names = {chart.name for chart in row}
        gaps += [f"{minor}: no {c.name} chart" for c in CHARTS if c.name not in names]
        for chart in row:
            if not chart.images:
                gaps.append(f"{minor}: {chart.name} {chart.version} lists no images")
            if chart.supports is None:
                if chart.name not in NO_STATED_SUPPORT:
                    gaps.append(f"{minor}: {chart.name} {chart.version} has no stated support")
            elif not supports(chart.supports, minor):
                gaps.append(
                    f"{minor}: {chart.name} {chart.version} supports {chart.supports}, not {minor}"
                )
    return gaps


# Elasticsearch and Kibana run as ECK custom resources; ECK 3.5.0's own eck-stack chart
# defaults to 9.5.0. Both must match (Kibana never newer than Elasticsearch).
# renovate: datasource=docker depName=docker.elastic.co/elasticsearch/elasticsearch
ELASTIC_STACK_VERSION = "9.5.0"
OTEL_COLLECTOR_COMMAND = "otelcol-k8s"
# The ILM bootstrap Job talks to Elasticsearch with curl (non-root image, uid 100).
# renovate: datasource=docker
CURL_IMAGE = "docker.io/curlimages/curl:8.17.0"
