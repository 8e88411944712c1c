"""In-cluster observability, as a package:

    versions.py      every pinned chart, image and stack version: edit on upgrades
    args.py          ObservabilityArgs, the three levels (SHAPES) and the rules inputs follow
    alerts.py        the alert rules (PrometheusRule groups; promtool-tested)
    alertmanager.py  routing: critical and warning to their own Slack channels
    prometheus.py    kube-prometheus-stack values (Prometheus, Alertmanager, Grafana)
    logging.py       ECK, Elasticsearch, Kibana, index lifecycle, Fluent Bit
    tracing.py       OpenTelemetry collector and Jaeger v2
    cloudwatch.py    AWS data-store metrics (yet-another-cloudwatch-exporter)
    dashboards.py    Grafana dashboards from dashboards/*.json
    network.py       NetworkPolicies of the observability namespaces
    ui.py            the UIs on the internal ALB
    component.py     Observability, which registers all of it in order

Everything but `component.py` is pure (dicts in, dicts out) and imports no Kubernetes SDK, so
the settings layer and the tests use the rules and builders directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.observability.alerts import DataStoreThresholds
from components.observability.args import (
    LEVELS,
    SHAPES,
    Namespaces,
    ObservabilityArgs,
    Placement,
    SlackAlerting,
    Toleration,
    UiExposure,
    validate,
)

if TYPE_CHECKING:
    from components.observability.component import Observability

__all__ = [
    "LEVELS",
    "SHAPES",
    "DataStoreThresholds",
    "Namespaces",
    "Observability",
    "ObservabilityArgs",
    "Placement",
    "SlackAlerting",
    "Toleration",
    "UiExposure",
    "validate",
]


def __getattr__(name: str):
    if name == "Observability":
        from components.observability.component import Observability

        return Observability
    raise AttributeError(name)
