"""NetworkPolicies of the observability namespaces (the VPC CNI enforces them).

Each namespace denies ingress by default and admits only the flows its parts need; egress
stays open (Prometheus scrapes everything, Alertmanager calls Slack, the exporter calls AWS).
Pods with host networking (node-exporter) are outside NetworkPolicy by design.
"""

from __future__ import annotations

from collections.abc import Sequence

import components.observability.logging as logging
import components.observability.tracing as tracing
from components.observability.args import ObservabilityArgs

__all__ = [
    "COLLECTOR_PODS",
    "ECK_OPERATOR_PODS",
    "ES_PODS",
    "GRAFANA_PODS",
    "JAEGER_PODS",
    "KIBANA_PODS",
    "NAMESPACE_LABEL",
    "OPERATOR_PODS",
    "policies",
]


NAMESPACE_LABEL = "kubernetes.io/metadata.name"
ES_PODS = {"common.k8s.elastic.co/type": "elasticsearch"}
KIBANA_PODS = {"common.k8s.elastic.co/type": "kibana"}
GRAFANA_PODS = {"app.kubernetes.io/name": "grafana"}
JAEGER_PODS = {"app.kubernetes.io/component": "all-in-one"}
COLLECTOR_PODS = {"app.kubernetes.io/name": "opentelemetry-collector"}
OPERATOR_PODS = {"app": "kube-prometheus-stack-operator"}
ECK_OPERATOR_PODS = {"app.kubernetes.io/name": "elastic-operator"}  # nameOverride default


def _namespaces(*names: str) -> list[dict]:
    return [{"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: n}}} for n in names]


def _cidrs(cidrs: Sequence[str]) -> list[dict]:
    return [{"ipBlock": {"cidr": c}} for c in cidrs]


def _policy(name: str, namespace: str, pods: dict, peers: list[dict] | None, ports=()) -> dict:
    """Ingress to `pods` from `peers` (None: deny all) on `ports` (empty: any port)."""
    rules = []
    if peers is not None:
        rule: dict = {"from": peers}
        if ports:
            rule["ports"] = [{"protocol": "TCP", "port": p} for p in ports]
        rules.append(rule)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": pods},
            "policyTypes": ["Ingress"],
            "ingress": rules,
        },
    }


def policies(args: ObservabilityArgs) -> dict[str, dict]:
    """Every policy (key -> manifest)."""
    ns = args.namespaces
    api_server_cidrs = args.control_plane_cidrs
    everyone = [{"namespaceSelector": {}}]
    same = [{"podSelector": {}}]
    monitoring = _namespaces(ns.monitoring)
    found = {
        "monitoring-deny": _policy("default-deny-ingress", ns.monitoring, {}, None),
        "monitoring-internal": _policy("allow-same-namespace", ns.monitoring, {}, same),
        # Every namespace's applications send traces to the collector.
        "monitoring-otlp": _policy(
            "allow-otlp", ns.monitoring, COLLECTOR_PODS, everyone, (4317, 4318)
        ),
        "monitoring-webhook": _policy(
            "allow-operator-webhook",
            ns.monitoring,
            OPERATOR_PODS,
            _cidrs(api_server_cidrs),
            (10250,),
        ),
        "agents-deny": _policy("default-deny-ingress", ns.agents, {}, None),
        "agents-scrape": _policy("allow-prometheus", ns.agents, {}, monitoring),
    }
    if args.logs:
        clients = _namespaces(ns.agents, ns.monitoring, ns.elastic_system)
        found |= {
            "logging-deny": _policy("default-deny-ingress", ns.logging, {}, None),
            "logging-internal": _policy("allow-same-namespace", ns.logging, {}, same),
            "logging-clients": _policy(
                "allow-elasticsearch-clients", ns.logging, ES_PODS, clients, (logging.HTTP_PORT,)
            ),
            "eck-deny": _policy("default-deny-ingress", ns.elastic_system, {}, None),
            "eck-webhook": _policy(
                "allow-operator-webhook",
                ns.elastic_system,
                ECK_OPERATOR_PODS,
                _cidrs(api_server_cidrs),
                (9443,),
            ),
        }
    if args.ui is not None:
        alb = _cidrs(args.ui.source_cidrs)
        found |= {
            "monitoring-ui": _policy(
                "allow-alb-to-grafana", ns.monitoring, GRAFANA_PODS, alb, (3000,)
            ),
            "tracing-ui": _policy(
                "allow-alb-to-jaeger", ns.monitoring, JAEGER_PODS, alb, (tracing.JAEGER_UI_PORT,)
            ),
        }
        if args.logs:
            found["logging-ui"] = _policy(
                "allow-alb-to-kibana", ns.logging, KIBANA_PODS, alb, (logging.KIBANA_PORT,)
            )
    return found
