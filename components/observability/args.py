"""What `Observability` takes, the three levels it runs at, and the rules its inputs follow.

Pure (no Kubernetes SDK): the settings layer applies the same rules before anything exists.

The levels are the product brief's "dev basic, uat enhanced, prod full observability":

| | basic | enhanced | full |
|---|---|---|---|
| Prometheus replicas (zone anti-affinity) | 1 | 1 | 2 (hard, across zones) |
| Alertmanager replicas (clustered) | 1 | 1 | 3 |
| Grafana replicas (stateless, dashboards provisioned) | 1 | 1 | 2 |
| Elasticsearch nodes (logs + traces) | 0: no logs | 1 | 3 across zones |
| Jaeger storage / replicas | memory / 1 | Elasticsearch / 1 | Elasticsearch / 2 |
| OpenTelemetry collector replicas | 1 | 1 | 2 |

Sizes per level (`SHAPES`) come from the workload: a handful of services scraped every 30 s
is ~50k active series; Prometheus needs ~2 KiB of memory per series plus query headroom.
docs/observability.md explains each number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.alb import AlbGroup
from components.alb import validate as alb_problems
from components.identity import PodIdentityCluster
from components.kubernetes_rules import label_problems, subdomain_problems
from components.observability.alerts import DataStoreThresholds

__all__ = [
    "ELASTICSEARCH_DISK_SHARE",
    "LEVELS",
    "MAX_ELASTICSEARCH_NODES_PER_ZONE",
    "PROMETHEUS_DISK_SHARE",
    "RETENTION_DAYS",
    "SHAPES",
    "STORAGE_GIB",
    "TRACE_STORES",
    "UIS",
    "LevelShape",
    "Namespaces",
    "ObservabilityArgs",
    "Placement",
    "Resources",
    "SlackAlerting",
    "Toleration",
    "UiExposure",
    "duration_problems",
    "duration_seconds",
    "index_replicas",
    "retention_days_problems",
    "slack_channel_problems",
    "slack_webhook_problems",
    "storage_problems",
    "validate",
]


LEVELS = ("basic", "enhanced", "full")
UIS = ("grafana", "kibana", "jaeger")
TRACE_STORES = ("memory", "elasticsearch")
# The Prometheus CRD's duration pattern (units descending, no fractions: `1.5d` is refused).
_DURATION = re.compile(r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?$")
_SLACK_CHANNEL = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")
# The share of the Prometheus volume the TSDB may fill before it deletes the oldest blocks
# (`retentionSize`): the WAL and compaction need the rest.
PROMETHEUS_DISK_SHARE = 0.8
STORAGE_GIB = (1, 16384)  # gp3
RETENTION_DAYS = (1, 3650)
MAX_ELASTICSEARCH_NODES_PER_ZONE = 1  # full: one node per zone, so a zone loss keeps a quorum
# Elasticsearch stops allocating shards to a node above its low disk watermark (85 %).
ELASTICSEARCH_DISK_SHARE = 0.85


@dataclass(frozen=True)
class Resources:
    """Requests (and a memory limit; no CPU limit, so nothing is throttled) of one workload."""

    cpu: str
    memory: str
    memory_limit: str

    def values(self) -> dict:
        return {
            "requests": {"cpu": self.cpu, "memory": self.memory},
            "limits": {"memory": self.memory_limit},
        }


# DaemonSets on every node (each tolerates every taint): the node exporter always, Fluent Bit
# where the level has a logs pipeline.
NODE_EXPORTER = "node-exporter"
LOG_SHIPPER = "fluent-bit"


def node_agents(level: str) -> tuple[str, ...]:
    """The observability DaemonSets a node runs at `level`."""
    return (NODE_EXPORTER, LOG_SHIPPER) if SHAPES[level].elasticsearch_nodes else (NODE_EXPORTER,)


@dataclass(frozen=True)
class LevelShape:
    """What one level runs: replicas, the logs and traces backends, and sizes."""

    prometheus_replicas: int
    alertmanager_replicas: int
    grafana_replicas: int
    elasticsearch_nodes: int  # 0: no logs pipeline (no ECK, no Fluent Bit, no Kibana)
    trace_store: str
    jaeger_replicas: int
    collector_replicas: int
    zone_anti_affinity: bool  # replicas must sit in different zones (hard rule)
    prometheus: Resources
    # Elasticsearch sizes its heap from the memory limit (half; the rest is file cache).
    elasticsearch: Resources | None
    # The sizing assumptions (docs/observability.md): what one day of metrics, logs and traces
    # takes at this level, in GiB (before replicas). Retentions are checked against them.
    prometheus_gib_per_day: float = 0.0
    log_gib_per_day: float = 0.0
    trace_gib_per_day: float = 0.0


SHAPES: dict[str, LevelShape] = {
    "basic": LevelShape(
        prometheus_replicas=1,
        alertmanager_replicas=1,
        grafana_replicas=1,
        elasticsearch_nodes=0,
        trace_store="memory",
        jaeger_replicas=1,
        collector_replicas=1,
        zone_anti_affinity=False,
        prometheus=Resources("100m", "512Mi", "1536Mi"),
        elasticsearch=None,
        # ~10k series (two nodes, a few services).
        prometheus_gib_per_day=0.1,
    ),
    "enhanced": LevelShape(
        prometheus_replicas=1,
        alertmanager_replicas=1,
        grafana_replicas=1,
        elasticsearch_nodes=1,
        trace_store="elasticsearch",
        jaeger_replicas=1,
        collector_replicas=1,
        zone_anti_affinity=False,
        prometheus=Resources("200m", "1Gi", "2Gi"),
        elasticsearch=Resources("500m", "2Gi", "2Gi"),
        prometheus_gib_per_day=0.3,
        log_gib_per_day=0.5,
        trace_gib_per_day=0.2,
    ),
    "full": LevelShape(
        prometheus_replicas=2,
        alertmanager_replicas=3,
        grafana_replicas=2,
        elasticsearch_nodes=3,
        trace_store="elasticsearch",
        jaeger_replicas=2,
        collector_replicas=2,
        zone_anti_affinity=True,
        prometheus=Resources("500m", "3Gi", "4Gi"),
        elasticsearch=Resources("1", "4Gi", "4Gi"),
        # ~150k series; logs ~2 GiB/day, traces ~1 GiB/day at prod's traffic.
        prometheus_gib_per_day=0.7,
        log_gib_per_day=2.0,
        trace_gib_per_day=1.0,
    ),
}


@dataclass(frozen=True)
class SlackAlerting:
    """Where Alertmanager sends alerts: one Slack app webhook, two channels by severity.

    Attributes:
        webhook_url: the incoming-webhook URL (a Pulumi secret); it is written to a Kubernetes
            Secret that Alertmanager reads from a file, never into Helm values or plain state.
        critical_channel: channel for `severity=critical` (pages someone).
        warning_channel: channel for `severity=warning` (looked at in working hours).
    """

    webhook_url: pulumi.Input[str]
    critical_channel: str = "#alerts-critical"
    warning_channel: str = "#alerts-warning"


@dataclass(frozen=True)
class Toleration:
    key: str
    value: str
    effect: str  # NO_SCHEDULE / NO_EXECUTE / PREFER_NO_SCHEDULE, as the node group spells it


@dataclass(frozen=True)
class Placement:
    """Where the monitoring pods run: nodes with these labels, tolerating these taints."""

    node_selector: Mapping[str, str]
    tolerations: Sequence[Toleration] = ()


@dataclass(frozen=True)
class UiExposure:
    """Grafana, Kibana and the Jaeger UI on the internal ALB, with TLS (never public).

    Attributes:
        alb: the internal ALB group they join (it must be `internal`).
        certificate_arn: ACM certificate covering the hostnames.
        domain: the UIs are `grafana.<domain>`, `kibana.<domain>` and `jaeger.<domain>`.
        source_cidrs: the ALB's subnets (the only sources the UI pods admit).
    """

    alb: AlbGroup
    certificate_arn: pulumi.Input[str]
    domain: str
    source_cidrs: Sequence[str]

    def hostnames(self) -> dict[str, str]:
        return {ui: f"{ui}.{self.domain}" for ui in UIS}


@dataclass(frozen=True)
class Namespaces:
    """The stack's namespaces and their Pod Security levels.

    `agents` is the only privileged one: node-exporter and Fluent Bit read the host (hostPath,
    host network/PID), which `baseline` forbids. Everything else is `restricted`.
    """

    monitoring: str = "monitoring"  # Prometheus, Alertmanager, Grafana, Jaeger, collector
    logging: str = "logging"  # Elasticsearch and Kibana
    elastic_system: str = "elastic-system"  # the ECK operator
    agents: str = "monitoring-agents"  # node-level DaemonSets

    def levels(self) -> dict[str, str]:
        return {
            self.monitoring: "restricted",
            self.logging: "restricted",
            self.elastic_system: "restricted",
            self.agents: "privileged",
        }


@dataclass(frozen=True, kw_only=True)
class ObservabilityArgs:
    """Inputs of `Observability`.

    Attributes:
        cluster_name: EKS cluster name (Prometheus's `cluster` external label).
        region: AWS region whose CloudWatch metrics are exported.
        k8s_provider: Kubernetes provider of the cluster.
        control_plane_cidrs: where the API server's webhook calls come from (the VPC CIDR:
            EKS places the control plane's network interfaces in the cluster subnets).
        identity: the cluster the CloudWatch exporter's Pod Identity role is confined to
            (`Cluster.pod_identity`); required with `cloudwatch_exporter`.
        level: "basic", "enhanced" or "full" (`SHAPES`).
        prometheus_retention: how long samples are kept, e.g. "3d", "15d" (a Prometheus duration).
        prometheus_storage_gib: the gp3 volume per Prometheus replica; the TSDB also stops at
            `PROMETHEUS_DISK_SHARE` of it, whichever of time and size comes first.
        elasticsearch_storage_gib: gp3 volume per Elasticsearch node (levels with logs).
        log_retention_days: container logs kept in Elasticsearch (index lifecycle delete).
        trace_retention_days: traces kept in Elasticsearch (Jaeger's daily index cleaner).
        alert_thresholds: limits of the data-store alerts that depend on the stores' sizes.
        alerting: Slack receivers; None routes every alert to nowhere (dev without a webhook;
            the stack warns).
        grafana_admin_password: Grafana's admin password (a Pulumi secret); None generates one.
        storage_class: StorageClass of every volume (encrypted gp3, WaitForFirstConsumer).
        placement: node selector and tolerations for the monitoring workloads (prod's tainted
            monitoring node group); None schedules them anywhere.
        ui: expose the UIs on the internal ALB; None keeps them port-forward only.
        aws_resource_tags: tags that identify this stack's AWS resources; the CloudWatch
            exporter discovers only resources carrying all of them.
        namespaces: where each part runs (see `Namespaces`).
        protect: protect the Elasticsearch cluster (its volumes hold the logs).
        cluster_ready: what every in-cluster object waits for: nodes to run on, DNS, and
            the StorageClass and CSI driver the volumes need (`Cluster.workloads_ready`).
        ingress_ready: what the UI Ingresses also wait for: the load balancer controller,
            whose Ingress webhook is Fail-closed (nothing else here is intercepted by it).
        cloudwatch_exporter: export the AWS data stores' CloudWatch metrics (a Pod Identity
            role and the exporter); False where there is no AWS (the local stack), which also
            leaves `region` and `identity` unused.
    """

    cluster_name: str
    region: str
    k8s_provider: pulumi.ProviderResource
    control_plane_cidrs: Sequence[str]
    identity: PodIdentityCluster | None = None
    level: str
    prometheus_retention: str
    prometheus_storage_gib: int
    elasticsearch_storage_gib: int = 0
    log_retention_days: int = 7
    trace_retention_days: int = 3
    alert_thresholds: DataStoreThresholds
    alerting: SlackAlerting | None = None
    grafana_admin_password: pulumi.Input[str] | None = None
    storage_class: str = "gp3"
    placement: Placement | None = None
    ui: UiExposure | None = None
    aws_resource_tags: Mapping[str, str] = field(default_factory=dict)
    namespaces: Namespaces = field(default_factory=Namespaces)
    protect: bool = False
    cluster_ready: Sequence[pulumi.Resource] = ()
    ingress_ready: Sequence[pulumi.Resource] = ()
    cloudwatch_exporter: bool = True

    @property
    def shape(self) -> LevelShape:
        return SHAPES[self.level]

    @property
    def logs(self) -> bool:
        return self.shape.elasticsearch_nodes > 0

    def prometheus_retention_size(self) -> str:
        """`retentionSize` in the CRD's spelling (the trailing B is required: "8GiB")."""
        return f"{int(self.prometheus_storage_gib * PROMETHEUS_DISK_SHARE)}GiB"


# -- rules, one function per fact (settings applies the same) -----------------------------------
def index_replicas(elasticsearch_nodes: int) -> int:
    """Index replicas: one copy on another node where there is another node."""
    return 1 if elasticsearch_nodes > 1 else 0


def duration_problems(value: object) -> list[str]:
    """A positive Prometheus duration. Checked after normalising, so a zero in any unit
    (`0d`, `0w0h`) is zero, and a case or unit variant gets the spelling Prometheus reads."""
    if isinstance(value, str) and value and _DURATION.fullmatch(value):
        if duration_seconds(value) == 0:
            return [f"{value!r} is zero: retention must be positive (e.g. '3d')"]
        return []
    hint = ""
    if isinstance(value, str) and "M" in value:
        hint = "; Prometheus has no months (M): use weeks or days, e.g. '4w' or '30d'"
    elif isinstance(value, str) and _DURATION.fullmatch(value.lower()):
        hint = f"; units are lowercase: {value.lower()!r}"
    return [
        f"{value!r}: a Prometheus duration such as '12h', '3d' or '2w' (whole numbers, "
        f"units y/w/d/h/m in that order){hint}"
    ]


_UNIT_SECONDS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}


def duration_seconds(value: str) -> int:
    """A valid Prometheus duration ('30d', '1w2d') in seconds (for comparing retentions)."""
    return sum(
        int(amount) * _UNIT_SECONDS[unit] for amount, unit in re.findall(r"(\d+)([ywdhm])", value)
    )


def storage_problems(value: object) -> list[str]:
    low, high = STORAGE_GIB
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return []
    return [f"{value!r}: GiB as a whole number {low}..{high}"]


def retention_days_problems(value: object) -> list[str]:
    low, high = RETENTION_DAYS
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return []
    return [f"{value!r}: days as a whole number {low}..{high}"]


def slack_channel_problems(value: object) -> list[str]:
    if isinstance(value, str) and _SLACK_CHANNEL.fullmatch(value):
        return []
    return [f"{value!r}: a Slack channel such as '#alerts-critical' (lowercase, with '#')"]


def slack_webhook_problems(value: object) -> list[str]:
    if isinstance(value, str) and value.startswith("https://hooks.slack.com/"):
        return []
    return ["not a Slack incoming-webhook URL (https://hooks.slack.com/services/...)"]


def validate(args: ObservabilityArgs) -> list[str]:
    """Every problem with `args`; empty when valid."""
    if args.level not in LEVELS:
        return [f"level {args.level!r}: one of {', '.join(LEVELS)}"]
    problems = [f"prometheus_retention {p}" for p in duration_problems(args.prometheus_retention)]
    if args.cloudwatch_exporter and args.identity is None:
        problems.append("identity: required with cloudwatch_exporter (its Pod Identity role)")
    problems += [
        f"prometheus_storage_gib {p}" for p in storage_problems(args.prometheus_storage_gib)
    ]
    if args.logs:
        problems += [
            f"elasticsearch_storage_gib {p}"
            for p in storage_problems(args.elasticsearch_storage_gib)
        ]
    for key in ("log_retention_days", "trace_retention_days"):
        problems += [f"{key} {p}" for p in retention_days_problems(getattr(args, key))]
    if args.alerting is not None:
        for key in ("critical_channel", "warning_channel"):
            value = getattr(args.alerting, key)
            problems += [f"alerting.{key} {p}" for p in slack_channel_problems(value)]
        if isinstance(args.alerting.webhook_url, str):
            problems += [
                f"alerting.webhook_url: {p}"
                for p in slack_webhook_problems(args.alerting.webhook_url)
            ]
    if args.ui is not None:
        if args.ui.alb.scheme != "internal":
            problems.append(
                "ui.alb: the monitoring UIs join an internal ALB only, never a public one"
            )
        problems += [f"ui.alb: {p}" for p in alb_problems(args.ui.alb)]
        problems += [f"ui.domain {p}" for p in subdomain_problems(args.ui.domain)]
    if not (
        isinstance(args.alert_thresholds.aurora_connections, int)
        and args.alert_thresholds.aurora_connections > 0
    ):
        problems.append(
            f"alert_thresholds.aurora_connections {args.alert_thresholds.aurora_connections!r}:"
            " a positive number of connections"
        )
    names = list(args.namespaces.levels())
    if len(set(names)) != len(names):
        problems.append(f"namespaces {names}: each part needs its own namespace")
    problems += [f"namespaces {p}" for n in names for p in label_problems(n)]
    problems += [f"storage_class {p}" for p in subdomain_problems(args.storage_class)]
    return problems
