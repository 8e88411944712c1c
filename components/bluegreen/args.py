"""What a `BlueGreenService` takes, and the rules its inputs follow (pure functions returning
problems; the settings layer and the release tool apply the same ones)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import alb as alb_rules
from components.alb import AlbGroup, route_problems
from components.bluegreen.rules import (
    _ROLE_ARN,
    PORTS,
    _is_int,
    certificate_arn_problems,
    hostname_problems,
    image_problems,
    path_problems,
    port_problems,
    replicas_problems,
    tag_problems,
)
from components.cidr import is_cidr
from components.kubernetes_rules import (
    label_problems,
    quantity,
    resource_problems,
    service_name_problems,
    subdomain_problems,
)

__all__ = [
    "COLORS",
    "CONTAINER_PORTS",
    "HPA_MAX_REPLICAS",
    "MAX_SERVICE_NAME",
    "METRIC_COLOR_LABEL",
    "METRIC_SERVICE_LABEL",
    "POD_TO_METRIC_LABELS",
    "PORTS",
    "BlueGreenServiceArgs",
    "ContainerResources",
    "certificate_arn_problems",
    "hostname_problems",
    "image_problems",
    "other_color",
    "path_problems",
    "port_problems",
    "replicas_problems",
    "tag_problems",
    "validate",
]


COLORS = ("blue", "green")
# What a service is: `web` answers requests through the ALB; `worker` (a queue consumer)
# has no Ingress, no Services and no ALB target: its health is its readiness probe.
KINDS = ("web", "worker")
# The labels Prometheus attaches to every sample of a service (from the pod labels app,
# color and version); the release tool's gates and the alert rules select on them.
METRIC_SERVICE_LABEL = "service"
METRIC_COLOR_LABEL = "color"
POD_TO_METRIC_LABELS = {
    "app": METRIC_SERVICE_LABEL,
    "color": METRIC_COLOR_LABEL,
    "version": "version",
}
# An annotation key's name part ("actions.<svc>-weighted") is at most 63 characters.
MAX_SERVICE_NAME = 63 - len("actions.") - len("-weighted")
HPA_MAX_REPLICAS = 10  # the product brief's autoscaling ceiling
CONTAINER_PORTS = (1024, 65535)  # non-root, no capabilities: no privileged ports


# A tag must be a valid image tag and a valid label value (it becomes `version: <tag>`).
def other_color(color: str) -> str:
    if color not in COLORS:
        raise ValueError(f"BlueGreenService colour {color!r} is invalid: expected one of {COLORS}")
    return COLORS[1 - COLORS.index(color)]


@dataclass(frozen=True, kw_only=True)
class ContainerResources:
    """CPU and memory requests and limits of the application container.

    Attributes:
        cpu_request: Kubernetes quantity, e.g. "250m"; what the scheduler reserves and what
            the HPA's CPU utilisation is measured against.
        memory_request: e.g. "256Mi"; the HPA's memory utilisation is measured against it.
        cpu_limit: e.g. "1"; must be >= the request.
        memory_limit: e.g. "512Mi"; must be >= the request (the container is OOM-killed above).
    """

    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    cpu_limit: str = "1"
    memory_limit: str = "512Mi"


@dataclass(frozen=True, kw_only=True)
class BlueGreenServiceArgs:
    """Inputs of `BlueGreenService` (checked by `validate` before anything is registered).

    Attributes:
        service_name: Kubernetes name of the service (`<svc>`): RFC 1035 label, at most 46
            characters so `alb.ingress.kubernetes.io/actions.<svc>-weighted` stays a legal key.
        namespace: existing namespace the objects go into.
        image: image repository without tag, e.g.
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web".
        tags: image tag per colour, `{"blue": ..., "green": ...}`; never empty or "latest";
            also used as the pod label `version`, so at most 63 characters.
        alb_source_cidrs: CIDRs of the subnets the ALB lives in (public subnets for
            internet-facing, private for internal); with target-type ip the ALB connects to
            pod IPs from these addresses, so the NetworkPolicy admits them on `port`. Empty
            only with `ingress=False` (no ALB).
        api_server_cidrs: CIDRs the Kubernetes API server's ENIs live in (the cluster's
            subnets). Requests through the API server's service proxy (`kubectl proxy`, the
            release tool's smoke test of the idle colour) reach the pods from there, so the
            NetworkPolicy admits them on `port` too; empty admits no such path.
        provider: the cluster's `kubernetes.Provider`. Required by the component (it refuses
            to fall back to an ambient kubeconfig); the pure manifest builders ignore it.
        active_color: "blue" or "green": the colour the stable Service and the ALB send
            traffic to.
        replicas: pods of the active colour (and the HPA minimum). Recommended dev 2, uat 2,
            prod 3.
        idle_replicas: pods of the idle colour. None keeps it at `replicas` (rollback window,
            warm standby); 0 scales it down after promotion (no HPA, no PDB for it).
        traffic_split: percent (0..100) of ALB traffic sent to the idle colour (canary);
            None means plain blue-green (active 100, idle 0). Not allowed with
            `idle_replicas=0`.
        port: container port the application listens on (1024..65535: the container runs
            as non-root with every capability dropped, so it cannot bind a lower port).
        service_port: port of the ClusterIP Services (in-cluster clients call `<svc>:80`).
        health_path: HTTP path for the liveness/readiness/startup probes and the ALB health
            check.
        resources: container requests and limits.
        env_config_map: name of a ConfigMap (the platform ConfigMap) loaded with `envFrom`.
        env_secret: name of a Secret also loaded with `envFrom` (the local stack's passwords,
            where AWS uses IAM); None loads none.
        irsa_role_arn: IAM role for the service account through IRSA, only for an image whose
            AWS SDK predates Pod Identity. The platform's own services leave it None: their
            role comes from a Pod Identity association (`ApplicationAccess`). When set, the
            ServiceAccount carries `eks.amazonaws.com/role-arn`; the Kubernetes API token is
            never mounted either way.
        identity_ready: what the Deployments wait for besides their ServiceAccount: the
            workload role's policies and Pod Identity association (`WorkloadRole.ready`).
        certificate_arn: ACM certificate for the HTTPS listener. Without it the ALB listens
            on HTTP 80 only (no redirect, no TLS); whether that is acceptable for a given
            environment is the settings layer's decision.
        hostnames: host rules of the Ingress; empty means any host. The ALB compares them as
            patterns: `*.example.com` matches any name ending in `.example.com`.
        paths: ALB path patterns this service answers on the shared ALB (globs: `*` any
            characters, `/` included; `?` one character; case-sensitive; at most 128
            characters), e.g. `["/api/*"]`; each becomes one listener rule per hostname.
            Empty means every path. Lets several services share one ALB without DNS names.
        kind: "web" (the default: an Ingress with weighted forwarding between the colours)
            or "worker" (no Ingress, no Services, no ALB weights: a queue consumer whose
            health is its readiness probe; a release scales the new colour up and the old
            one down instead of moving traffic).
        alb: the shared ALB (IngressGroup) this service joins, with the settings every member
            of the group shares (scheme, access logs, TLS policy, inbound CIDRs, WAF); None
            gives the service an internal ALB of its own (a group named after it).
        ingress: create the ALB Ingress. False where no AWS Load Balancer Controller runs
            (the local stack): nothing would reconcile it, and `pulumi up` would wait for its
            load balancer; the stable and preview Services are reached with port-forward.
        alb_order: the rule order of this service inside its ALB (lower first); None puts a
            service with host rules at 100 and one without (the catch-all) last.
        prometheus_pod_monitor: create a PodMonitor (needs the Prometheus Operator CRDs) that
            scrapes `metrics_path` on every pod and keeps the `service`, `color` and `version`
            labels the release tool's canary gates and the alert rules query.
        autoscaling: create an HPA per (non-zero) colour; Deployments then leave `replicas`
            to the HPA. Recommended dev off, uat on, prod on.
        hpa_max_replicas: HPA maximum (product brief: 10).
        hpa_cpu_utilization: HPA target CPU utilisation in percent of the request (brief: 70).
        hpa_memory_utilization: HPA target memory utilisation in percent (brief: 80).
        hpa_scale_down_stabilization_seconds: scale-down stabilisation window (brief: 300).
        zone_spread_strict: spread pods across zones with `DoNotSchedule` (prod) instead of
            `ScheduleAnyway` (dev/uat, where a single-AZ node group must still schedule).
        monitoring_namespace: namespace of Prometheus, admitted to scrape `metrics_port`.
        metrics_port: port serving Prometheus metrics; None means `port`.
        metrics_path: path of the metrics endpoint (Prometheus scrape annotation).
        run_as_user: numeric non-root UID/GID the container runs as (`runAsNonRoot` can only
            be verified by the kubelet for a numeric user).
        tmp_size_limit: size limit of the emptyDir mounted at /tmp (the root filesystem is
            read-only).
        pre_stop_sleep_seconds: keep serving this long after termination starts so the ALB
            deregisters the pod before it stops; 0 disables the preStop hook.
        termination_grace_period_seconds: time a pod gets to stop; also the ALB target
            deregistration delay. Must exceed `pre_stop_sleep_seconds`.
    """

    service_name: str
    namespace: str
    image: str
    tags: Mapping[str, str]
    alb_source_cidrs: Sequence[str]
    api_server_cidrs: Sequence[str] = ()
    provider: k8s.Provider | None = None
    active_color: str = "blue"
    replicas: int = 2
    idle_replicas: int | None = None
    traffic_split: int | None = None
    port: int = 8080
    service_port: int = 80
    health_path: str = "/healthz"
    resources: ContainerResources = field(default_factory=ContainerResources)
    env_config_map: str | None = None
    env_secret: str | None = None
    irsa_role_arn: pulumi.Input[str] | None = None
    identity_ready: Sequence[pulumi.Resource] = ()
    certificate_arn: pulumi.Input[str] | None = None
    hostnames: Sequence[str] = ()
    paths: Sequence[str] = ()
    kind: str = "web"
    alb: AlbGroup | None = None
    alb_order: int | None = None
    ingress: bool = True
    prometheus_pod_monitor: bool = False
    autoscaling: bool = False
    hpa_max_replicas: int = HPA_MAX_REPLICAS
    hpa_cpu_utilization: int = 70
    hpa_memory_utilization: int = 80
    hpa_scale_down_stabilization_seconds: int = 300
    zone_spread_strict: bool = False
    monitoring_namespace: str = "monitoring"
    metrics_port: int | None = None
    metrics_path: str = "/metrics"
    run_as_user: int = 10001
    tmp_size_limit: str = "256Mi"
    pre_stop_sleep_seconds: int = 10
    termination_grace_period_seconds: int = 30

    @property
    def idle_color(self) -> str:
        return other_color(self.active_color)

    @property
    def scrape_port(self) -> int:
        return self.metrics_port if self.metrics_port is not None else self.port

    @property
    def alb_group(self) -> AlbGroup:
        return self.alb if self.alb is not None else AlbGroup(name=self.service_name)

    @property
    def rule_order(self) -> int:
        if self.alb_order is not None:
            return self.alb_order
        return alb_rules.rule_order(self.hostnames, self.paths)

    @property
    def has_ingress(self) -> bool:
        return self.kind != "worker"


def validate(args: BlueGreenServiceArgs) -> list[str]:
    """Every problem with `args` as `BlueGreenService <field>=<value> is invalid: expected …`."""
    problems: list[str] = []

    def check(ok: bool, key: str, value: Any, allowed: str) -> None:
        if not ok:
            problems.append(f"BlueGreenService {key}={value!r} is invalid: expected {allowed}")

    def apply(key: str, value: Any, found: list[str]) -> None:
        for problem in found:
            problems.append(f"BlueGreenService {key}={value!r} is invalid: {problem}")

    apply(
        "service_name",
        args.service_name,
        service_name_problems(args.service_name, MAX_SERVICE_NAME),
    )
    for key in ("namespace", "monitoring_namespace"):
        apply(key, getattr(args, key), label_problems(getattr(args, key)))
    check(args.active_color in COLORS, "active_color", args.active_color, f"one of {list(COLORS)}")
    apply("image", args.image, image_problems(args.image))
    tags_ok = isinstance(args.tags, Mapping) and set(args.tags) == set(COLORS)
    check(tags_ok, "tags", args.tags, "a mapping with exactly the keys 'blue' and 'green'")
    if tags_ok:
        for color in COLORS:
            apply(f"tags.{color}", args.tags[color], tag_problems(args.tags[color]))
    replicas = replicas_problems(args.replicas, args.idle_replicas, args.hpa_max_replicas)
    apply("replicas", args.replicas, replicas)
    check(
        args.traffic_split is None
        or (_is_int(args.traffic_split) and 0 <= args.traffic_split <= 100),
        "traffic_split",
        args.traffic_split,
        "None or an int percentage 0..100",
    )
    check(
        not (args.traffic_split and args.idle_replicas == 0),
        "traffic_split",
        args.traffic_split,
        "0 or None while idle_replicas is 0 (the idle colour has no pods to take traffic)",
    )
    apply("port", args.port, port_problems(args.port, CONTAINER_PORTS))
    apply("service_port", args.service_port, port_problems(args.service_port))
    if args.metrics_port is not None:
        apply("metrics_port", args.metrics_port, port_problems(args.metrics_port, CONTAINER_PORTS))
    for key in ("health_path", "metrics_path"):
        apply(key, getattr(args, key), path_problems(getattr(args, key)))
    res = args.resources
    for kind in ("cpu", "memory"):
        request, limit = getattr(res, f"{kind}_request"), getattr(res, f"{kind}_limit")
        apply(f"resources.{kind}_limit", limit, resource_problems(kind, request, limit))
    if args.env_config_map is not None:
        apply("env_config_map", args.env_config_map, subdomain_problems(args.env_config_map))
    if args.env_secret is not None:
        apply("env_secret", args.env_secret, subdomain_problems(args.env_secret))
    if isinstance(args.irsa_role_arn, str):
        check(
            bool(_ROLE_ARN.fullmatch(args.irsa_role_arn)),
            "irsa_role_arn",
            args.irsa_role_arn,
            "an IAM role ARN",
        )
    if isinstance(args.certificate_arn, str):
        apply(
            "certificate_arn", args.certificate_arn, certificate_arn_problems(args.certificate_arn)
        )
    for host in args.hostnames:
        apply("hostnames", host, hostname_problems(host))
    for keys, problem in route_problems(args.hostnames, args.paths):
        problems.append(f"BlueGreenService {keys} is invalid: {problem}")
    check(args.kind in KINDS, "kind", args.kind, f"one of {list(KINDS)}")
    if args.kind == "worker":
        # A certificate may be an Output: compare with None, never by truth value.
        for key, unset in (
            ("hostnames", not args.hostnames),
            ("paths", not args.paths),
            ("certificate_arn", args.certificate_arn is None),
            ("traffic_split", args.traffic_split in (None, 0)),
        ):
            check(unset, key, getattr(args, key), "empty for a worker (it has no Ingress)")
    check(
        (bool(args.alb_source_cidrs) or not args.ingress)
        and not isinstance(args.alb_source_cidrs, str),
        "alb_source_cidrs",
        args.alb_source_cidrs,
        "a non-empty list of the ALB subnets' CIDRs (empty only without an Ingress)",
    )
    for cidr in args.alb_source_cidrs:
        check(is_cidr(cidr), "alb_source_cidrs", cidr, "CIDR blocks such as '10.0.0.0/20'")
    check(
        not isinstance(args.api_server_cidrs, str),
        "api_server_cidrs",
        args.api_server_cidrs,
        "a list of CIDR blocks",
    )
    for cidr in args.api_server_cidrs:
        check(is_cidr(cidr), "api_server_cidrs", cidr, "CIDR blocks such as '10.0.0.0/20'")
    apply("alb", args.alb_group.name, alb_rules.validate(args.alb_group))
    if args.alb_order is not None:
        low, high = alb_rules.ORDER_RANGE
        check(low <= args.alb_order <= high, "alb_order", args.alb_order, f"{low}..{high}")
    for key in ("hpa_cpu_utilization", "hpa_memory_utilization"):
        value = getattr(args, key)
        check(_is_int(value) and 1 <= value <= 100, key, value, "a percentage 1..100")
    window = args.hpa_scale_down_stabilization_seconds
    ok = _is_int(window) and 0 <= window <= 3600
    check(ok, "hpa_scale_down_stabilization_seconds", window, "0..3600 seconds")
    check(
        _is_int(args.run_as_user) and args.run_as_user > 0,
        "run_as_user",
        args.run_as_user,
        "a non-root UID (> 0)",
    )
    check(
        quantity(args.tmp_size_limit) is not None,
        "tmp_size_limit",
        args.tmp_size_limit,
        "a Kubernetes quantity such as '256Mi'",
    )
    grace, sleep = args.termination_grace_period_seconds, args.pre_stop_sleep_seconds
    check(_is_int(sleep) and sleep >= 0, "pre_stop_sleep_seconds", sleep, "an int >= 0")
    check(
        _is_int(grace) and _is_int(sleep) and grace > sleep,
        "termination_grace_period_seconds",
        grace,
        "an int greater than pre_stop_sleep_seconds",
    )
    return problems
