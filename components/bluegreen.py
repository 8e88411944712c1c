"""A blue-green (and canary) application service on EKS behind an AWS ALB.

The objects are built as plain manifests by `components.bluegreen_manifests`; this module
holds the validated Args and the component that registers them through the cluster's
kubernetes provider.

How the two colours stay stable across a promotion:

* The Deployments are always `<svc>-blue` and `<svc>-green`, each selecting
  `{app: <svc>, color: <colour>}`. The *active* colour appears in no Deployment name,
  selector or template, so flipping `active_color` never replaces or restarts a Deployment;
  with `idle_replicas=None` it changes exactly three objects: the stable Service `<svc>`
  selector, the preview Service `<svc>-preview` selector and the ALB weight annotation.
* Releasing a version means: set the idle colour's tag (only that Deployment rolls), test it
  through `<svc>-preview`, flip `active_color` (or canary first with `traffic_split`).
  The previous colour keeps its pods during the rollback window; rollback is flipping back.

Idle colour scaled to zero (`idle_replicas=0`): that Deployment gets `replicas: 0`, and it
has no HPA (an HPA with `minReplicas: 0` needs the alpha HPAScaleToZero gate, and an HPA
would scale the colour straight back up) and no PodDisruptionBudget (nothing to protect).
When autoscaling is on and such a colour becomes active again, `replicas` leaves the
manifest, server-side apply drops it, the Deployment defaults to 1 and the new HPA scales to
its minimum. So a release must first scale the idle colour up (`idle_replicas=None`), wait
for it to be ready and only then flip `active_color`; flipping onto a colour that has zero
pods would send all traffic to nothing. This component cannot enforce that ordering (it does
not know the previous state); the release tooling must.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.bluegreen_manifests import (
    ALB_SCHEMES,
    COLORS,
    DEFAULT_SSL_POLICY,
    MAX_SERVICE_NAME,
    build_manifests,
    other_color,
)

__all__ = ["COLORS", "BlueGreenService", "BlueGreenServiceArgs", "ContainerResources"]

_DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")  # RFC 1035 (Service names)
_DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # namespaces
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_HOSTNAME = re.compile(r"(\*\.)?" + _DNS_SUBDOMAIN.pattern)
# A tag must be a valid image tag and a valid label value (it becomes `version: <tag>`).
_TAG = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
# Registry host (optionally with port) and path; the tag comes from `tags`, never the repo.
_REPOSITORY = re.compile(
    r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*"
)
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?")
_SCALE = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


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
    """Inputs of `BlueGreenService`; validated on construction (ValueError on bad values).

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
            pod IPs from these addresses, so the NetworkPolicy admits them on `port`.
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
        port: container port the application listens on (1..65535).
        service_port: port of the ClusterIP Services (in-cluster clients call `<svc>:80`).
        health_path: HTTP path for the liveness/readiness/startup probes and the ALB health
            check.
        resources: container requests and limits.
        env_config_map: name of a ConfigMap (the platform ConfigMap) loaded with `envFrom`.
        irsa_role_arn: IAM role for the service account (IRSA). When set, the ServiceAccount
            carries `eks.amazonaws.com/role-arn` and EKS's pod identity webhook projects the
            web-identity token; the Kubernetes API token is never mounted either way.
        certificate_arn: ACM certificate for the HTTPS listener. Without it the ALB listens
            on HTTP 80 only (no redirect, no TLS); whether that is acceptable for a given
            environment is the settings layer's decision.
        hostnames: host rules of the Ingress; empty means any host.
        alb_scheme: "internal" (default) or "internet-facing".
        alb_inbound_cidrs: client CIDRs allowed to reach the ALB listeners; empty leaves
            the controller default (0.0.0.0/0, which for an internal ALB means the VPC and
            whatever is routed into it).
        alb_group_name: IngressGroup to share one ALB between Ingresses. All Ingresses of a
            group must agree on the group-wide annotations (scheme, attributes, inbound CIDRs).
        ssl_policy: ALB TLS policy for the HTTPS listener (TLS 1.2/1.3 only by default).
        access_logs_bucket: S3 bucket for ALB access logs (the bucket must use SSE-S3 and a
            bucket policy for ELB log delivery); None disables access logs.
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
    irsa_role_arn: pulumi.Input[str] | None = None
    certificate_arn: pulumi.Input[str] | None = None
    hostnames: Sequence[str] = ()
    alb_scheme: str = "internal"
    alb_inbound_cidrs: Sequence[str] = ()
    alb_group_name: str | None = None
    ssl_policy: str = DEFAULT_SSL_POLICY
    access_logs_bucket: pulumi.Input[str] | None = None
    autoscaling: bool = False
    hpa_max_replicas: int = 10
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

    def __post_init__(self) -> None:
        validate(self)

    @property
    def idle_color(self) -> str:
        return other_color(self.active_color)

    @property
    def scrape_port(self) -> int:
        return self.metrics_port if self.metrics_port is not None else self.port


# -- validation -------------------------------------------------------------------------------


def validate(args: BlueGreenServiceArgs) -> None:
    """Raise ValueError naming the field, the bad value and what is allowed."""
    svc = args.service_name
    _check(
        isinstance(svc, str) and bool(_DNS_LABEL.fullmatch(svc)) and len(svc) <= MAX_SERVICE_NAME,
        "service_name",
        svc,
        f"a lowercase RFC 1035 label of at most {MAX_SERVICE_NAME} characters",
    )
    for key in ("namespace", "monitoring_namespace"):
        value = getattr(args, key)
        ok = isinstance(value, str) and bool(_DNS_1123_LABEL.fullmatch(value)) and len(value) <= 63
        _check(ok, key, value, "a lowercase DNS-1123 label")
    _check(args.active_color in COLORS, "active_color", args.active_color, f"one of {list(COLORS)}")
    _check(
        isinstance(args.image, str) and bool(_REPOSITORY.fullmatch(args.image)),
        "image",
        args.image,
        "an image repository without tag or digest (the tag comes from `tags`)",
    )
    _check(
        isinstance(args.tags, Mapping) and set(args.tags) == set(COLORS),
        "tags",
        args.tags,
        "a mapping with exactly the keys 'blue' and 'green'",
    )
    for color in COLORS:
        tag = args.tags[color]
        _check(
            isinstance(tag, str) and bool(tag) and tag.lower() != "latest",
            f"tags.{color}",
            tag,
            "an explicit, immutable version tag (never empty, never 'latest')",
        )
        _check(
            bool(_TAG.fullmatch(tag)),
            f"tags.{color}",
            tag,
            "at most 63 of [A-Za-z0-9_.-], starting and ending alphanumeric",
        )
    _check(_is_int(args.replicas) and args.replicas >= 1, "replicas", args.replicas, "an int >= 1")
    _check(
        args.idle_replicas is None or (_is_int(args.idle_replicas) and args.idle_replicas >= 0),
        "idle_replicas",
        args.idle_replicas,
        "None or an int >= 0",
    )
    _check(
        args.traffic_split is None
        or (_is_int(args.traffic_split) and 0 <= args.traffic_split <= 100),
        "traffic_split",
        args.traffic_split,
        "None or an int percentage 0..100",
    )
    _check(
        not (args.traffic_split and args.idle_replicas == 0),
        "traffic_split",
        args.traffic_split,
        "0 or None while idle_replicas is 0 (the idle colour has no pods to take traffic)",
    )
    for key in ("port", "service_port", "metrics_port"):
        value = getattr(args, key)
        if key == "metrics_port" and value is None:
            continue
        _check(_is_int(value) and 1 <= value <= 65535, key, value, "a port number 1..65535")
    for key in ("health_path", "metrics_path"):
        value = getattr(args, key)
        ok = (
            isinstance(value, str) and value.startswith("/") and not any(c.isspace() for c in value)
        )
        _check(ok, key, value, "an absolute URL path such as '/healthz'")
    _validate_resources(args.resources)
    _check(
        args.env_config_map is None or bool(_DNS_SUBDOMAIN.fullmatch(args.env_config_map)),
        "env_config_map",
        args.env_config_map,
        "None or a ConfigMap name (DNS-1123 subdomain)",
    )
    if isinstance(args.irsa_role_arn, str):
        ok = bool(re.fullmatch(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/\S+", args.irsa_role_arn))
        _check(ok, "irsa_role_arn", args.irsa_role_arn, "an IAM role ARN")
    if isinstance(args.certificate_arn, str):
        ok = bool(
            re.fullmatch(
                r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/\S+", args.certificate_arn
            )
        )
        _check(ok, "certificate_arn", args.certificate_arn, "an ACM certificate ARN")
    for host in args.hostnames:
        ok = isinstance(host, str) and bool(_HOSTNAME.fullmatch(host)) and len(host) <= 253
        _check(ok, "hostnames", host, "lowercase DNS names, optionally '*.' wildcards")
    _check(args.alb_scheme in ALB_SCHEMES, "alb_scheme", args.alb_scheme, f"one of {ALB_SCHEMES}")
    _check(
        bool(args.alb_source_cidrs) and not isinstance(args.alb_source_cidrs, str),
        "alb_source_cidrs",
        args.alb_source_cidrs,
        "a non-empty list of the ALB subnets' CIDRs",
    )
    for key in ("alb_source_cidrs", "alb_inbound_cidrs"):
        for cidr in getattr(args, key):
            _check(_is_cidr(cidr), key, cidr, "CIDR blocks such as '10.0.0.0/20'")
    if args.alb_group_name is not None:
        ok = bool(re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?", args.alb_group_name))
        _check(ok, "alb_group_name", args.alb_group_name, "None or a DNS-label-like name")
    _check(
        isinstance(args.ssl_policy, str) and args.ssl_policy.startswith("ELBSecurityPolicy-TLS13"),
        "ssl_policy",
        args.ssl_policy,
        "an ELBSecurityPolicy-TLS13-* policy (TLS 1.2/1.3 only)",
    )
    _check(
        _is_int(args.hpa_max_replicas)
        and args.hpa_max_replicas >= max(args.replicas, args.idle_replicas or 0),
        "hpa_max_replicas",
        args.hpa_max_replicas,
        "an int >= replicas and >= idle_replicas",
    )
    for key in ("hpa_cpu_utilization", "hpa_memory_utilization"):
        value = getattr(args, key)
        _check(_is_int(value) and 1 <= value <= 100, key, value, "a percentage 1..100")
    window = args.hpa_scale_down_stabilization_seconds
    ok = _is_int(window) and 0 <= window <= 3600
    _check(ok, "hpa_scale_down_stabilization_seconds", window, "0..3600 seconds")
    _check(
        _is_int(args.run_as_user) and args.run_as_user > 0,
        "run_as_user",
        args.run_as_user,
        "a non-root UID (> 0)",
    )
    _check(
        _quantity(args.tmp_size_limit) is not None,
        "tmp_size_limit",
        args.tmp_size_limit,
        "a Kubernetes quantity such as '256Mi'",
    )
    grace, sleep = args.termination_grace_period_seconds, args.pre_stop_sleep_seconds
    _check(_is_int(sleep) and sleep >= 0, "pre_stop_sleep_seconds", sleep, "an int >= 0")
    _check(
        _is_int(grace) and grace > sleep,
        "termination_grace_period_seconds",
        grace,
        "an int greater than pre_stop_sleep_seconds",
    )


def _validate_resources(res: ContainerResources) -> None:
    for kind in ("cpu", "memory"):
        request = getattr(res, f"{kind}_request")
        limit = getattr(res, f"{kind}_limit")
        for key, value in ((f"{kind}_request", request), (f"{kind}_limit", limit)):
            _check(
                _quantity(value) is not None and _quantity(value) > 0,
                f"resources.{key}",
                value,
                "a positive Kubernetes quantity such as '250m' or '512Mi'",
            )
        _check(
            _quantity(request) <= _quantity(limit),
            f"resources.{kind}_limit",
            limit,
            f"at least the request ({request})",
        )


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ValueError(f"BlueGreenService {key}={value!r} is invalid: expected {allowed}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_cidr(value: Any) -> bool:
    try:
        ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and "/" in value


def _quantity(value: Any) -> float | None:
    match = _QUANTITY.fullmatch(value) if isinstance(value, str) else None
    return float(match.group(1)) * _SCALE[match.group(2)] if match else None


# -- component -------------------------------------------------------------------------------

_RESOURCE_TYPES: dict[tuple[str, str], type[pulumi.CustomResource]] = {
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "Service"): k8s.core.v1.Service,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
}
# Top-level manifest fields other than metadata/spec, as SDK keyword arguments.
_EXTRA_FIELDS = {"automountServiceAccountToken": "automount_service_account_token"}


class BlueGreenService(pulumi.ComponentResource):
    """Two coloured Deployments behind stable/preview Services and a weighted ALB Ingress.

    Outputs: `stable_service_name`, `preview_service_name`, `ingress_name`, `active_color`,
    `load_balancer_hostname` (the ALB's DNS name once the controller has provisioned it);
    `resources[part]` holds every child by part name (e.g. "deployment-blue").
    """

    def __init__(
        self, name: str, args: BlueGreenServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not isinstance(args.provider, k8s.Provider):
            # Without an explicit provider Pulumi would use the ambient kubeconfig: the wrong
            # cluster is one `kubectl config use-context` away.
            raise ValueError(
                f"BlueGreenService {name}: args.provider must be the cluster's "
                f"kubernetes.Provider, got {args.provider!r}"
            )
        validate(args)  # again: Args may have been built bypassing __post_init__
        manifests = build_manifests(args)  # before super().__init__: a bad input registers nothing
        super().__init__("platform:bluegreen:BlueGreenService", name, None, opts)

        self.resources: dict[str, pulumi.CustomResource] = {}
        for part, manifest in manifests.items():
            depends_on: list[pulumi.Resource] = []
            if part.startswith("deployment-"):
                depends_on = [self.resources["serviceaccount"]]  # pods need their SA
            elif part == "ingress":
                depends_on = [r for p, r in self.resources.items() if p.startswith("service-")]
            self.resources[part] = _register(
                f"{name}-{part}",
                manifest,
                pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends_on),
            )

        stable = self.resources["service-stable"]
        preview = self.resources["service-preview"]
        ingress = self.resources["ingress"]
        self.stable_service_name: pulumi.Output[str] = stable.metadata.apply(lambda m: m.name)
        self.preview_service_name: pulumi.Output[str] = preview.metadata.apply(lambda m: m.name)
        self.ingress_name: pulumi.Output[str] = ingress.metadata.apply(lambda m: m.name)
        self.active_color: str = args.active_color
        self.load_balancer_hostname: pulumi.Output[str | None] = ingress.status.apply(_lb_hostname)
        self.register_outputs(
            {
                "stable_service_name": self.stable_service_name,
                "preview_service_name": self.preview_service_name,
                "ingress_name": self.ingress_name,
                "active_color": self.active_color,
                "load_balancer_hostname": self.load_balancer_hostname,
            }
        )


def _register(
    resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    resource_type = _RESOURCE_TYPES[(manifest["apiVersion"], manifest["kind"])]
    kwargs = {
        _EXTRA_FIELDS.get(key, key): value
        for key, value in manifest.items()
        if key not in ("apiVersion", "kind")
    }
    return resource_type(resource_name, opts=opts, **kwargs)


def _lb_hostname(status: Any) -> str | None:
    ingresses = (status and status.load_balancer and status.load_balancer.ingress) or []
    return ingresses[0].hostname if ingresses else None
