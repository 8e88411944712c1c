"""Pure builders for the Kubernetes objects of one blue-green service.

Every function returns plain manifest dicts (camelCase, as `kubectl` reads them) from a
validated `BlueGreenServiceArgs`, so they can be checked against the Kubernetes OpenAPI schema
and asserted on without Pulumi; `BlueGreenService` only registers them. The Deployments'
names, selectors and templates never depend on `active_color` (see the package docstring for
why and for the release flow).
"""

from __future__ import annotations

import json
from typing import Any

from components.alb import ALB, group_annotations
from components.bluegreen.args import COLORS, POD_TO_METRIC_LABELS, BlueGreenServiceArgs
from components.hardening import (
    WRITABLE_TMP,
    container_security_context,
    pod_security_context,
)

__all__ = [
    "HOST_KEY",
    "ZONE_KEY",
    "build_manifests",
    "color_replicas",
    "container",
    "deployment",
    "has_hpa",
    "hpa",
    "image_ref",
    "ingress",
    "labels",
    "network_policies",
    "pod_disruption_budget",
    "pod_monitor",
    "pod_template",
    "service",
    "service_account",
    "services",
    "traffic_weights",
    "weighted_action",
]


ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"


# -- derived facts ----------------------------------------------------------------------------


def color_replicas(args: BlueGreenServiceArgs, color: str) -> int:
    """Pods a colour should run (the HPA minimum when autoscaling)."""
    if color == args.active_color:
        return args.replicas
    if color == args.idle_color:
        return args.replicas if args.idle_replicas is None else args.idle_replicas
    raise ValueError(f"BlueGreenService colour {color!r} is invalid: expected one of {COLORS}")


def has_hpa(args: BlueGreenServiceArgs, color: str) -> bool:
    """A colour scaled to zero gets no HPA: minReplicas 0 needs an alpha feature gate."""
    return args.autoscaling and color_replicas(args, color) > 0


def traffic_weights(args: BlueGreenServiceArgs) -> dict[str, int]:
    """ALB forward weights per colour, summing to 100."""
    split = args.traffic_split or 0
    return {args.active_color: 100 - split, args.idle_color: split}


def labels(args: BlueGreenServiceArgs, color: str | None = None) -> dict[str, str]:
    """The selector labels: `app` for the whole service, `color` for one colour."""
    return {"app": args.service_name} | ({"color": color} if color else {})


def _meta(args: BlueGreenServiceArgs, name: str, color: str | None = None, **extra) -> dict:
    return {"name": name, "namespace": args.namespace, "labels": labels(args, color), **extra}


# -- builders ---------------------------------------------------------------------------------


def deployment(args: BlueGreenServiceArgs, color: str) -> dict:
    """Deployment `<svc>-<color>`; its name, selector and template ignore `active_color`."""
    count = color_replicas(args, color)
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels(args, color)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        },
        "revisionHistoryLimit": 5,
        "template": pod_template(args, color),
    }
    if not has_hpa(args, color):
        # With an HPA the field is the HPA's; setting it would reset the scale on every update.
        spec["replicas"] = count
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(args, f"{args.service_name}-{color}", color),
        "spec": spec,
    }


def pod_template(args: BlueGreenServiceArgs, color: str) -> dict:
    tag = args.tags[color]
    spread = "DoNotSchedule" if args.zone_spread_strict else "ScheduleAnyway"
    return {
        "metadata": {
            "labels": labels(args, color) | {"version": tag},
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(args.scrape_port),
                "prometheus.io/path": args.metrics_path,
            },
        },
        "spec": {
            "serviceAccountName": args.service_name,
            # The application never calls the Kubernetes API. Neither identity needs the API
            # token: EKS's webhook projects a token of its own (Pod Identity: audience
            # pods.eks.amazonaws.com for an associated service account; IRSA: audience
            # sts.amazonaws.com where the account carries the role annotation).
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": args.termination_grace_period_seconds,
            "securityContext": pod_security_context(args.run_as_user),
            "topologySpreadConstraints": [
                _spread(args, color, ZONE_KEY, spread),
                _spread(args, color, HOST_KEY, "ScheduleAnyway"),
            ],
            "containers": [container(args, color)],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": args.tmp_size_limit}}],
        },
    }


def _spread(args: BlueGreenServiceArgs, color: str, key: str, when: str) -> dict:
    return {
        "maxSkew": 1,
        "topologyKey": key,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": labels(args, color)},
        # Spread each ReplicaSet on its own, so a rollout does not count the old pods.
        "matchLabelKeys": ["pod-template-hash"],
    }


def container(args: BlueGreenServiceArgs, color: str) -> dict:
    res = args.resources
    ports = [{"name": "http", "containerPort": args.port, "protocol": "TCP"}]
    if args.scrape_port != args.port:
        ports.append({"name": "metrics", "containerPort": args.scrape_port, "protocol": "TCP"})
    probe = {"httpGet": {"path": args.health_path, "port": "http"}, "timeoutSeconds": 2}
    spec: dict[str, Any] = {
        "name": args.service_name,
        "image": image_ref(args, color),
        "imagePullPolicy": "IfNotPresent",
        "ports": ports,
        "resources": {
            "requests": {"cpu": res.cpu_request, "memory": res.memory_request},
            "limits": {"cpu": res.cpu_limit, "memory": res.memory_limit},
        },
        # Startup allows 150 s before liveness takes over, so slow starts are not killed.
        "startupProbe": probe | {"periodSeconds": 5, "failureThreshold": 30},
        "livenessProbe": probe | {"periodSeconds": 10, "failureThreshold": 3},
        "readinessProbe": probe | {"periodSeconds": 5, "failureThreshold": 3},
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": WRITABLE_TMP}],
    }
    if args.env_config_map:
        spec["envFrom"] = [{"configMapRef": {"name": args.env_config_map}}]
    if args.env_secret:
        spec.setdefault("envFrom", []).append({"secretRef": {"name": args.env_secret}})
    if args.pre_stop_sleep_seconds:
        spec["lifecycle"] = {"preStop": {"sleep": {"seconds": args.pre_stop_sleep_seconds}}}
    return spec


def image_ref(args: BlueGreenServiceArgs, color: str) -> str:
    """`<repo>:<tag>` of a colour; refuses a mutable or missing tag (also checked in `validate`)."""
    if color not in COLORS:
        raise ValueError(f"BlueGreenService colour {color!r} is invalid: expected one of {COLORS}")
    tag = args.tags.get(color) or ""
    if tag.lower() in ("", "latest"):
        raise ValueError(
            f"BlueGreenService tags.{color}={tag!r} is invalid: expected an explicit version tag"
        )
    return f"{args.image}:{tag}"


def service(args: BlueGreenServiceArgs, name: str, color: str) -> dict:
    """ClusterIP Service `name` selecting the pods of `color`."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(args, name),
        "spec": {
            "type": "ClusterIP",
            "selector": labels(args, color),
            "ports": [
                {"name": "http", "port": args.service_port, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def services(args: BlueGreenServiceArgs) -> dict[str, dict]:
    """Per-colour Services, the stable Service (active) and the preview Service (idle)."""
    svc = args.service_name
    parts = {f"service-{c}": service(args, f"{svc}-{c}", c) for c in COLORS}
    parts["service-stable"] = service(args, svc, args.active_color)
    parts["service-preview"] = service(args, f"{svc}-preview", args.idle_color)
    return parts


def weighted_action(args: BlueGreenServiceArgs) -> str:
    """The ALB controller's forward action splitting traffic between the colour Services."""
    weights = traffic_weights(args)
    groups = [
        {
            "serviceName": f"{args.service_name}-{c}",
            "servicePort": str(args.service_port),
            "weight": weights[c],
        }
        for c in COLORS
    ]
    return json.dumps(
        {
            "type": "forward",
            "forwardConfig": {
                "targetGroups": groups,
                "targetGroupStickinessConfig": {"enabled": False},
            },
        },
        separators=(",", ":"),
    )


def ingress(args: BlueGreenServiceArgs) -> dict:
    """The service's rules on its (shared) ALB: weighted forwarding between the colours."""
    svc = args.service_name
    action = f"{svc}-weighted"
    tls = args.certificate_arn is not None
    annotations: dict[str, Any] = {
        **group_annotations(args.alb_group, order=args.rule_order, tls=tls),
        # Per target group (per service): how pods are reached, checked and drained.
        f"{ALB}/target-type": "ip",
        f"{ALB}/healthcheck-path": args.health_path,
        f"{ALB}/target-group-attributes": (
            f"deregistration_delay.timeout_seconds={args.termination_grace_period_seconds}"
        ),
        f"{ALB}/actions.{action}": weighted_action(args),
    }
    if tls:
        annotations[f"{ALB}/certificate-arn"] = args.certificate_arn
    backend = {"service": {"name": action, "port": {"name": "use-annotation"}}}
    # ImplementationSpecific hands each pattern to the ALB as written (a glob) and keeps
    # their order; without paths, "/" Prefix becomes the ALB's "/*".
    paths = [
        {"path": path, "pathType": "ImplementationSpecific", "backend": backend}
        for path in args.paths
    ] or [{"path": "/", "pathType": "Prefix", "backend": backend}]
    http = {"paths": paths}
    rules = [{"host": h, "http": http} for h in args.hostnames] or [{"http": http}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(args, svc, annotations=annotations),
        "spec": {"ingressClassName": "alb", "rules": rules},
    }


def pod_monitor(args: BlueGreenServiceArgs) -> dict:
    """Scrape every pod of both colours, keeping the labels the gates and alerts query."""
    port = "http" if args.scrape_port == args.port else "metrics"
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": _meta(args, args.service_name),
        "spec": {
            "selector": {"matchLabels": labels(args)},
            "podMetricsEndpoints": [
                {
                    "port": port,
                    "path": args.metrics_path,
                    "interval": "30s",
                    "relabelings": [
                        {
                            "action": "replace",
                            "sourceLabels": [f"__meta_kubernetes_pod_label_{pod_label}"],
                            "targetLabel": metric_label,
                        }
                        for pod_label, metric_label in POD_TO_METRIC_LABELS.items()
                    ],
                }
            ],
        },
    }


def hpa(args: BlueGreenServiceArgs, color: str) -> dict:
    name = f"{args.service_name}-{color}"
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(args, name, color),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": color_replicas(args, color),
            "maxReplicas": args.hpa_max_replicas,
            "metrics": [
                _utilization("cpu", args.hpa_cpu_utilization),
                _utilization("memory", args.hpa_memory_utilization),
            ],
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": args.hpa_scale_down_stabilization_seconds
                }
            },
        },
    }


def _utilization(resource: str, percent: int) -> dict:
    return {
        "type": "Resource",
        "resource": {
            "name": resource,
            "target": {"type": "Utilization", "averageUtilization": percent},
        },
    }


def pod_disruption_budget(args: BlueGreenServiceArgs, color: str) -> dict:
    """At most one pod of a colour voluntarily evicted at a time.

    maxUnavailable 1 (not minAvailable) never blocks a node drain, even with one replica, and
    AlwaysAllow lets crash-looping pods be evicted instead of wedging the drain.
    """
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(args, f"{args.service_name}-{color}", color),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": labels(args, color)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def network_policies(args: BlueGreenServiceArgs) -> dict[str, dict]:
    """Ingress to the pods only from their namespace, the ALB subnets and the API server's
    service proxy; metrics from Prometheus.

    Once a policy selects the pods, all other ingress is denied. (Kubelet probes from the
    node are allowed by the VPC CNI network policy agent.)
    """
    svc = args.service_name
    app = {"matchLabels": labels(args)}
    same_namespace: list[dict] = [{"podSelector": {}}]
    sources = list(dict.fromkeys([*args.alb_source_cidrs, *args.api_server_cidrs]))
    alb = [{"ipBlock": {"cidr": cidr}} for cidr in sources]
    monitoring = {"kubernetes.io/metadata.name": args.monitoring_namespace}
    return {
        "netpol-ingress": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(args, f"{svc}-allow-ingress"),
            "spec": {
                "podSelector": app,
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": same_namespace + alb,
                        "ports": [{"protocol": "TCP", "port": args.port}],
                    }
                ],
            },
        },
        "netpol-metrics": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(args, f"{svc}-allow-metrics"),
            "spec": {
                "podSelector": app,
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {"matchLabels": monitoring}}],
                        "ports": [{"protocol": "TCP", "port": args.scrape_port}],
                    }
                ],
            },
        },
    }


def service_account(args: BlueGreenServiceArgs) -> dict:
    metadata = _meta(args, args.service_name)
    if args.irsa_role_arn is not None:
        metadata["annotations"] = {"eks.amazonaws.com/role-arn": args.irsa_role_arn}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata,
        "automountServiceAccountToken": False,  # see pod_template: neither app nor IRSA needs it
    }


def build_manifests(args: BlueGreenServiceArgs) -> dict[str, dict]:
    """Every object of the service keyed by part name (used in Pulumi resource names).

    Order matters for registration: the ServiceAccount precedes the Deployments that use it
    and the Services precede the Ingress that routes to them.
    """
    parts: dict[str, dict] = {"serviceaccount": service_account(args)}
    parts |= network_policies(args)
    for color in COLORS:
        parts[f"deployment-{color}"] = deployment(args, color)
    for color in COLORS:
        if has_hpa(args, color):
            parts[f"hpa-{color}"] = hpa(args, color)
        if color_replicas(args, color) > 0:
            parts[f"pdb-{color}"] = pod_disruption_budget(args, color)
    if args.has_ingress:
        parts |= services(args)
        # The local stack has Services but no ALB Ingress (no controller would reconcile it).
        if args.ingress:
            parts["ingress"] = ingress(args)
    else:
        # A worker answers no one: nothing but Prometheus may reach its pods.
        del parts["netpol-ingress"]
    if args.prometheus_pod_monitor:
        parts["podmonitor"] = pod_monitor(args)
    return parts
