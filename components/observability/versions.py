"""Every version the observability stack pins, in one file: edit this (and only this) on an
upgrade, then re-read each chart's values.yaml at the new tag (Helm silently ignores a values
key the chart does not have) and regenerate tests/fixtures/crds/.

Each chart's `images` are what it runs at its pin with the platform's values (read from the
chart at the pinned tag; tests/test_helm_render.py renders the chart and compares), so a bump
shows what actually changes in the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

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
)
# CRDs from its eck-operator-crds subchart (templates, so upgraded with the chart; kept on
# uninstall).
ECK_OPERATOR = Chart(
    "eck-operator",
    # renovate: datasource=helm depName=eck-operator registryUrl=https://helm.elastic.co
    "3.5.0",
    "https://helm.elastic.co",
    images=("docker.elastic.co/eck/eck-operator:3.5.0",),
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

# Elasticsearch and Kibana run as ECK custom resources; ECK 3.5.0's own eck-stack chart
# defaults to 9.5.0. Both must match (Kibana never newer than Elasticsearch).
# renovate: datasource=docker depName=docker.elastic.co/elasticsearch/elasticsearch
ELASTIC_STACK_VERSION = "9.5.0"
OTEL_COLLECTOR_COMMAND = "otelcol-k8s"
# The ILM bootstrap Job talks to Elasticsearch with curl (non-root image, uid 100).
# renovate: datasource=docker
CURL_IMAGE = "docker.io/curlimages/curl:8.17.0"
