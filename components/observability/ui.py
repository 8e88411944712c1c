"""Grafana, Kibana and the Jaeger UI as rules on the shared internal ALB (never public).

They join the internal IngressGroup with the group-wide settings from `components.alb`, so
the monitoring UIs add rules to the ALB the internal services already pay for, not a new one.
Without `ObservabilityArgs.ui` there is no Ingress at all: `kubectl port-forward`
(docs/observability.md) is then the way in.
"""

from __future__ import annotations

import components.observability.logging as logging
import components.observability.prometheus as prometheus
import components.observability.tracing as tracing
from components.alb import ALB, RESERVED_ORDER, group_annotations
from components.observability.args import ObservabilityArgs

__all__ = [
    "UI_ORDER",
    "ingresses",
]

# Exact hosts, after the services' exact hosts and before any wildcard host, host-less path
# rule or catch-all (components.alb.rule_order); no service may take their requests.
UI_ORDER = RESERVED_ORDER


def _ingress(args: ObservabilityArgs, ui: str, namespace: str, service: str, port: int,
             health: str, **extra: str) -> dict:  # fmt: skip
    assert args.ui is not None
    host = args.ui.hostnames()[ui]
    annotations = {
        **group_annotations(args.ui.alb, order=UI_ORDER, tls=True),
        f"{ALB}/certificate-arn": args.ui.certificate_arn,
        f"{ALB}/target-type": "ip",
        f"{ALB}/healthcheck-path": health,
        **{f"{ALB}/{key}": value for key, value in extra.items()},
    }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": ui, "namespace": namespace, "annotations": annotations},
        "spec": {
            "ingressClassName": "alb",
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": service, "port": {"number": port}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def ingresses(args: ObservabilityArgs) -> dict[str, dict]:
    if args.ui is None:
        return {}
    ns = args.namespaces
    found = {
        # Replicas keep their sessions apart (no shared database): stick a browser to one.
        "grafana": _ingress(
            args, "grafana", ns.monitoring, prometheus.GRAFANA_SERVICE, prometheus.GRAFANA_PORT,
            "/api/health",
            **{"target-group-attributes": "stickiness.enabled=true,stickiness.type=lb_cookie"},
        ),
        "jaeger": _ingress(
            args, "jaeger", ns.monitoring, tracing.JAEGER_RELEASE, tracing.JAEGER_UI_PORT, "/"
        ),
    }  # fmt: skip
    if args.logs:
        # Kibana serves TLS itself (ECK's certificate): the ALB re-encrypts to it.
        found["kibana"] = _ingress(
            args, "kibana", ns.logging, f"{logging.CLUSTER}-kb-http", logging.KIBANA_PORT,
            "/login", **{"backend-protocol": "HTTPS"},
        )  # fmt: skip
    return found
