"""Typed, validated settings for one stack: the only module that reads configuration.

    Pulumi.<stack>.yaml   read by `read_stack_config` (offline) or the Pulumi runtime
      deep-merged over   the environment's profile (infra/profiles.py)
      validated by       the models below, which apply each component's own rules
      floors             prod's safety settings may go up, never down (infra/floors.py)

Every rule lives in the component that owns it (allowed values, ranges, name patterns,
versions); this module only maps config keys onto those rules, so a bad value fails here —
before any resource is registered — naming the key in config spelling. Values that differ by
environment have no default here: the profile supplies them. The defaults that remain are the
components' own library defaults (a test keeps them equal).

`load_settings(stack, config)` is pure (flat `{"ns:key": value}` in, `Settings` or
`SettingsError` out), so tests and the offline plan call it directly; `from_pulumi()` is the
thin adapter for the running program.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import cache as cache_rules
from components import storage as storage_rules
from components import streaming as streaming_rules
from components.alb import GroupMember, member_problems, waf_acl_problems
from components.aws_catalog import (
    instance_type_problems,
    region_problems,
    zone_count_problems,
)
from components.bluegreen.args import (
    COLORS,
    CONTAINER_PORTS,
    HPA_MAX_REPLICAS,
    MAX_SERVICE_NAME,
    BlueGreenServiceArgs,
    ContainerResources,
    certificate_arn_problems,
    hostname_problems,
    image_problems,
    path_problems,
    replicas_problems,
    tag_problems,
)
from components.cidr import MAX_AZS, parse_vpc_cidr
from components.cluster import rules as cluster_rules
from components.cluster.args import ClusterArgs, NodeGroupSpec
from components.cluster.versions import KUBERNETES_VERSIONS
from components.database import args as database_rules
from components.database.logins import login_for_service, login_problems
from components.database.proxy import proxy_name_problems
from components.encryption import DELETION_WINDOW_DAYS
from components.kubernetes_rules import label_problems, resource_problems, service_name_problems
from components.logs import LOG_RETENTION_DAYS
from components.network import MIN_AZS, NAT_MODES
from components.observability import args as observability_rules
from components.tags import tag_value_problems
from components.topics import (
    DEFAULT_PARTITIONS,
    DEFAULT_RETENTION_HOURS,
    TopicSpec,
    colliding_names,
    topic_problems,
)
from infra import naming
from infra.floors import floor_problems
from infra.profiles import ENVIRONMENTS, PROFILES

__all__ = [
    "ENVIRONMENTS",
    "KUBERNETES_VERSIONS",
    "LOG_RETENTION_DAYS",
    "Settings",
    "SettingsError",
    "from_pulumi",
    "load_settings",
    "read_stack_config",
]

NAMESPACE = naming.NAMESPACE
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """Invalid stack configuration. `errors` holds one readable line per problem."""

    def __init__(self, stack: str, errors: list[str]) -> None:
        self.stack = stack
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"invalid configuration for stack {stack!r}:\n{lines}")


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


# -- applying a component's rule to a value ------------------------------------------------------
def _rule(check: Callable[[Any], list[str]]) -> AfterValidator:
    """A pydantic validator that raises the component rule's first problem."""

    def apply(value: Any) -> Any:
        problems = check(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    return AfterValidator(apply)


def _no_float(kind: str) -> BeforeValidator:
    """Versions are text: YAML reads `1.30` as the number 1.3 and `17.10` as 17.1."""

    def check(value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f"{kind} written as a number; quote it (YAML reads 1.30 as 1.3)")
        return value

    return BeforeValidator(check)


def _default(args_class: type, field: str) -> Any:
    """A component Args field's own default, so the settings default cannot drift from it."""
    return args_class.__dataclass_fields__[field].default


RetentionDays = Annotated[
    int,
    _rule(lambda d: [] if d in LOG_RETENTION_DAYS else [f"one of {list(LOG_RETENTION_DAYS)}"]),
]
TagValue = Annotated[str, Field(min_length=1), _rule(tag_value_problems)]


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------
class NetworkSettings(_Model):
    """`platform:network`."""

    cidr: str
    az_count: int = Field(ge=MIN_AZS, le=MAX_AZS)
    nat_gateways: Literal[NAT_MODES]  # type: ignore[valid-type]
    interface_endpoints: bool
    flow_log_retention_days: RetentionDays

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        parse_vpc_cidr(value)
        return value


class KeySettings(_Model):
    """`platform:keys`."""

    deletion_window_days: int = Field(ge=DELETION_WINDOW_DAYS[0], le=DELETION_WINDOW_DAYS[1])


class StorageSettings(_Model):
    """`platform:storage`."""

    replication: bool
    replica_region: str | None = None
    noncurrent_version_expiry_days: PositiveInt
    infrequent_access_after_days: int = Field(ge=storage_rules.INFREQUENT_ACCESS_MIN_DAYS)
    access_log_expiry_days: PositiveInt
    force_destroy: bool = _default(storage_rules.BucketsArgs, "force_destroy")

    @model_validator(mode="after")
    def _replica(self) -> StorageSettings:
        if self.replication and not self.replica_region:
            raise ValueError("replicaRegion is required when replication is true")
        return self


class AlbSettings(_Model):
    """`platform:alb` — the shared load balancers (one per visibility)."""

    # Regional WAFv2 web ACL for the internet-facing ALB (all public services share it).
    waf_acl_arn: str | None = None


class AppSettings(_Model):
    """`platform:app` — the product brief's per-environment service settings."""

    replicas: Annotated[PositiveInt, _rule(lambda n: replicas_problems(n, None, HPA_MAX_REPLICAS))]
    autoscaling: bool
    deploy_branches: list[str] = Field(min_length=1)
    # Spread pods across zones with DoNotSchedule (a lost zone never holds every replica).
    zone_spread_strict: bool


class ObservabilitySettings(_Model):
    """`platform:observability` — the brief's basic / enhanced / full observability."""

    level: Literal[observability_rules.LEVELS]  # type: ignore[valid-type]
    prometheus_retention: Annotated[str, _rule(observability_rules.duration_problems)]
    prometheus_storage_gib: Annotated[int, _rule(observability_rules.storage_problems)]
    # Only levels with logs (enhanced, full) use these; the profiles set them there.
    elasticsearch_storage_gib: Annotated[
        int | None, _rule(lambda v: [] if v is None else observability_rules.storage_problems(v))
    ] = None
    log_retention_days: Annotated[
        int | None,
        _rule(lambda v: [] if v is None else observability_rules.retention_days_problems(v)),
    ] = None
    trace_retention_days: Annotated[
        int | None,
        _rule(lambda v: [] if v is None else observability_rules.retention_days_problems(v)),
    ] = None
    slack_critical_channel: Annotated[str, _rule(observability_rules.slack_channel_problems)] = (
        _default(observability_rules.SlackAlerting, "critical_channel")
    )
    slack_warning_channel: Annotated[str, _rule(observability_rules.slack_channel_problems)] = (
        _default(observability_rules.SlackAlerting, "warning_channel")
    )
    # A node group (cluster.nodeGroups) reserved for the monitoring pods: they select its
    # labels and tolerate its taints. None: they share the other nodes.
    node_group: str | None = None
    # The UIs on the internal ALB as grafana.<uiDomain> etc.; needs uiCertificateArn.
    ui_domain: Annotated[str | None, _rule(lambda v: [] if v is None else hostname_problems(v))] = (
        None
    )
    ui_certificate_arn: str | None = None

    @model_validator(mode="after")
    def _level_needs(self) -> ObservabilitySettings:
        problems = []
        if observability_rules.SHAPES[self.level].elasticsearch_nodes:
            for key in ("elasticsearch_storage_gib", "log_retention_days", "trace_retention_days"):
                if getattr(self, key) is None:
                    problems.append(f"{to_camel(key)}: required at level {self.level!r} (logs on)")
        if (self.ui_domain is None) != (self.ui_certificate_arn is None):
            problems.append("uiDomain and uiCertificateArn: set both (TLS UIs) or neither")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class SecretSetting(_Model):
    """A config value set with `pulumi config set --secret`.

    `value` is None when only its ciphertext is known (the offline plan reads the stack file,
    which holds `secure: v1:...`); the running program always has the plaintext.
    """

    value: SecretStr | None = None


class TaintSettings(_Model):
    """One taint of a node group (EKS spelling of the effect: NO_SCHEDULE, …)."""

    key: str
    value: str = ""
    effect: str

    @model_validator(mode="after")
    def _rules(self) -> TaintSettings:
        problems = cluster_rules.taint_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class NodeGroupSettings(_Model):
    """One managed node group under `platform:cluster.nodeGroups.<name>`."""

    instance_types: Annotated[
        list[str],
        Field(min_length=1),
        _rule(lambda types: [p for t in types for p in instance_type_problems(t)]),
        _rule(cluster_rules.architecture_problems),
    ]
    capacity_type: Literal[cluster_rules.CAPACITY_TYPES]  # type: ignore[valid-type]
    min_size: int = Field(ge=0)
    max_size: PositiveInt
    desired_size: int = Field(ge=0)
    max_unavailable: int = Field(
        default=_default(NodeGroupSpec, "max_unavailable"),
        ge=cluster_rules.MAX_UNAVAILABLE[0],
        le=cluster_rules.MAX_UNAVAILABLE[1],
    )
    disk_size_gib: int = Field(
        default=_default(NodeGroupSpec, "disk_size_gib"),
        ge=cluster_rules.DISK_SIZE_GIB[0],
        le=cluster_rules.DISK_SIZE_GIB[1],
    )
    labels: Annotated[dict[str, str], _rule(cluster_rules.labels_problems)] = Field(
        default_factory=dict
    )
    taints: list[TaintSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupSettings:
        problems = cluster_rules.size_problems(self.min_size, self.desired_size, self.max_size)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ClusterSettings(_Model):
    """`platform:cluster`."""

    version: Annotated[str, _no_float("version"), _rule(cluster_rules.kubernetes_version_problems)]
    endpoint_public_access: bool
    public_access_cidrs: Annotated[list[str], _rule(cluster_rules.cidr_problems)] = Field(
        default_factory=list
    )
    # Beyond the VPC itself (always allowed): VPN or peered ranges that call the private API.
    private_access_cidrs: Annotated[list[str], _rule(cluster_rules.cidr_problems)] = Field(
        default_factory=list
    )
    allow_public_access_from_anywhere: bool = _default(
        ClusterArgs, "allow_public_access_from_anywhere"
    )
    # No implicit creator admin: whoever administers the cluster is named here.
    admin_role_arns: Annotated[list[str], _rule(cluster_rules.admin_role_problems)]
    log_retention_days: RetentionDays
    imds_hop_limit: Literal[cluster_rules.IMDS_HOP_LIMITS] = _default(  # type: ignore[valid-type]
        ClusterArgs, "imds_hop_limit"
    )
    node_groups: dict[str, NodeGroupSettings] = Field(min_length=1)
    namespaces: list[str] = Field(min_length=1)
    # Replicas of the load balancer controller and metrics-server (1 only where an outage
    # of a minute during a node replacement is acceptable: dev).
    controller_replicas: int = Field(
        ge=cluster_rules.CONTROLLER_REPLICAS[0], le=cluster_rules.CONTROLLER_REPLICAS[1]
    )

    @field_validator("node_groups")
    @classmethod
    def _group_names(cls, value: dict[str, NodeGroupSettings]) -> dict:
        problems = [p for name in value for p in cluster_rules.node_group_name_problems(name)]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, value: list[str]) -> list[str]:
        system = _default(ClusterArgs, "system_namespace")
        problems = [p for ns in value for p in cluster_rules.namespace_problems(ns, system)]
        if len(set(value)) != len(value):
            problems.append(f"{value}: each namespace once")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _public_endpoint(self) -> ClusterSettings:
        problems = cluster_rules.public_endpoint_problems(
            self.endpoint_public_access,
            self.public_access_cidrs,
            self.allow_public_access_from_anywhere,
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class DatabaseSettings(_Model):
    """`platform:database` (Aurora PostgreSQL)."""

    engine_version: Annotated[
        str, _no_float("engineVersion"), _rule(database_rules.engine_version_problems)
    ]
    mode: Literal[database_rules.MODES]  # type: ignore[valid-type]
    # Serverless v2 capacity (ACU) and provisioned class: the profile names whichever it uses.
    min_capacity: float | None = None
    max_capacity: float | None = None
    seconds_until_auto_pause: int | None = None
    instance_class: Annotated[str, _rule(database_rules.instance_class_problems)] | None = None
    reader_count: int = Field(default=0, ge=0, le=database_rules.MAX_READERS)
    backup_retention_days: Annotated[int, _rule(database_rules.backup_retention_problems)]
    skip_final_snapshot: bool = _default(database_rules.DatabaseArgs, "skip_final_snapshot")
    monitoring_interval: Literal[database_rules.MONITORING_INTERVALS]  # type: ignore[valid-type]
    performance_insights_retention_days: Annotated[
        int, _rule(database_rules.performance_insights_problems)
    ] = _default(database_rules.DatabaseArgs, "performance_insights_retention_days")
    log_retention_days: RetentionDays
    cross_region_backup: bool = False
    # RDS Proxy (pooling, IAM auth end to end) in front of the writer.
    proxy: bool = _default(database_rules.DatabaseArgs, "proxy")

    @model_validator(mode="after")
    def _mode(self) -> DatabaseSettings:
        problems = []
        if self.mode == "serverless":
            if self.min_capacity is None or self.max_capacity is None:
                problems.append("serverless mode needs minCapacity and maxCapacity (ACU)")
            else:
                problems += database_rules.capacity_problems(
                    self.min_capacity, self.max_capacity, self.seconds_until_auto_pause
                )
                if self.min_capacity == 0 and self.seconds_until_auto_pause is None:
                    problems.append("secondsUntilAutoPause: required when minCapacity is 0")
        elif self.instance_class is None:
            problems.append("instanceClass: provisioned mode needs one, e.g. db.r7g.large")
        problems += database_rules.proxy_problems(
            self.proxy, self.mode == "serverless", self.min_capacity or 0
        )
        if problems:
            raise ValueError("\n".join(problems))
        return self


class CacheSettings(_Model):
    """`platform:cache` (ElastiCache replication group)."""

    engine: Literal[tuple(cache_rules.ENGINE_VERSIONS)] = cache_rules.DEFAULT_ENGINE  # type: ignore[valid-type]
    engine_version: Annotated[str, _no_float("engineVersion")]
    node_type: Annotated[str, _rule(cache_rules.node_type_problems)]
    num_cache_clusters: int
    multi_az: bool
    snapshot_retention_days: Annotated[int, _rule(cache_rules.snapshot_retention_problems)]
    log_retention_days: RetentionDays
    # Snapshot on deletion: every environment but the disposable one.
    final_snapshot: bool

    @model_validator(mode="after")
    def _checks(self) -> CacheSettings:
        problems = cache_rules.engine_problems(self.engine, self.engine_version)
        problems += cache_rules.replica_problems(self.num_cache_clusters, self.multi_az)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class StreamingSettings(_Model):
    """`platform:streaming` (MSK provisioned)."""

    kafka_version: Annotated[str, _rule(streaming_rules.kafka_version_problems)]
    # Fixed per stack, not derived from network.azCount: MSK client subnets are force-new, so
    # adding an AZ to the VPC must not move (replace) the brokers.
    zone_count: Literal[streaming_rules.ZONES]  # type: ignore[valid-type]
    broker_count: PositiveInt
    broker_instance_type: Annotated[str, _rule(streaming_rules.broker_type_problems)]
    volume_size_gib: int
    max_volume_size_gib: int
    storage_target_utilization: int = _default(
        streaming_rules.StreamingArgs, "storage_target_utilization"
    )
    log_retention_days: RetentionDays
    enhanced_monitoring: Literal[streaming_rules.MONITORING_LEVELS]  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _checks(self) -> StreamingSettings:
        problems = streaming_rules.broker_count_problems(self.broker_count, self.zone_count)
        problems += streaming_rules.storage_problems(
            self.volume_size_gib, self.max_volume_size_gib, self.storage_target_utilization
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ServiceResources(_Model):
    """`resources` of one service: Kubernetes quantities."""

    cpu_request: str = _default(ContainerResources, "cpu_request")
    memory_request: str = _default(ContainerResources, "memory_request")
    cpu_limit: str = _default(ContainerResources, "cpu_limit")
    memory_limit: str = _default(ContainerResources, "memory_limit")

    @model_validator(mode="after")
    def _quantities(self) -> ServiceResources:
        problems = resource_problems("cpu", self.cpu_request, self.cpu_limit)
        problems += resource_problems("memory", self.memory_request, self.memory_limit)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _tag_text(value: Any) -> Any:
    # `pulumi config set --path ...tags.blue 42` stores a number; a tag is text.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


ImageTag = Annotated[str, BeforeValidator(_tag_text), _rule(tag_problems)]


class ServiceTags(_Model):
    """Image tag per colour; `latest` and empty tags are refused (not reproducible)."""

    blue: ImageTag
    green: ImageTag


class TopicSettings(_Model):
    """One entry of `platform:services[i].topics`: a Kafka topic the service owns."""

    name: str
    partitions: int = DEFAULT_PARTITIONS
    replication_factor: int | None = None
    retention_hours: int = DEFAULT_RETENTION_HOURS


class ServiceSettings(_Model):
    """One entry of `platform:services`: a blue-green application service."""

    name: Annotated[str, _rule(lambda n: service_name_problems(n, MAX_SERVICE_NAME))]
    image: Annotated[str, _rule(image_problems)]
    tags: ServiceTags
    active_color: Literal[COLORS] = _default(BlueGreenServiceArgs, "active_color")  # type: ignore[valid-type]
    idle_replicas: int | None = Field(default=None, ge=0)
    traffic_split: int | None = Field(default=None, ge=0, le=100)
    # Non-root containers with every capability dropped cannot bind ports below 1024.
    port: int = Field(
        default=_default(BlueGreenServiceArgs, "port"),
        ge=CONTAINER_PORTS[0],
        le=CONTAINER_PORTS[1],
    )
    service_port: int = Field(
        default=_default(BlueGreenServiceArgs, "service_port"), ge=1, le=65535
    )
    health_path: Annotated[str, _rule(path_problems)] = _default(
        BlueGreenServiceArgs, "health_path"
    )
    resources: ServiceResources = Field(default_factory=ServiceResources)
    namespace: Annotated[str, _rule(label_problems)] = "apps"
    public: bool = False
    certificate_arn: str | None = None
    allow_plain_http: bool = False
    hostnames: Annotated[
        list[str], _rule(lambda hosts: [p for h in hosts for p in hostname_problems(h)])
    ] = Field(default_factory=list)
    topics: list[TopicSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _tls(self) -> ServiceSettings:
        if self.certificate_arn is None and not self.allow_plain_http:
            raise ValueError(
                "certificateArn: required so the ALB serves HTTPS; or opt out explicitly with "
                "allowPlainHttp: true (dev only)"
            )
        if self.traffic_split and self.idle_replicas == 0:
            raise ValueError("trafficSplit: cannot send traffic to an idle colour scaled to 0")
        return self


class Settings(_Model):
    """Everything the program needs for one stack."""

    stack: str
    environment: Literal[ENVIRONMENTS]  # type: ignore[valid-type]
    region: Annotated[str, _rule(region_problems)]
    owner: TagValue
    cost_center: TagValue
    protect: bool
    network: NetworkSettings
    keys: KeySettings
    storage: StorageSettings
    app: AppSettings
    alb: AlbSettings = Field(default_factory=AlbSettings)
    cluster: ClusterSettings
    database: DatabaseSettings
    cache: CacheSettings
    streaming: StreamingSettings
    observability: ObservabilitySettings
    services: list[ServiceSettings] = Field(default_factory=list)
    # Secrets (`pulumi config set --secret platform:<key> ...`), never plain text in config.
    slack_webhook_url: SecretSetting | None = None
    grafana_admin_password: SecretSetting | None = None

    @model_validator(mode="after")
    def _cross_section_rules(self) -> Settings:
        problems = floor_problems(self.environment, self.model_dump(by_alias=True))
        problems += self._name_problems()
        problems += [
            f"network.azCount: {p}" for p in zone_count_problems(self.region, self.network.az_count)
        ]
        problems += self._service_problems()
        if self.alb.waf_acl_arn is not None:
            problems += [
                f"alb.wafAclArn: {p}" for p in waf_acl_problems(self.alb.waf_acl_arn, self.region)
            ]
        problems += self._data_access_problems()
        problems += self._observability_problems()
        if self.streaming.zone_count > self.network.az_count:
            problems.append(
                f"streaming.zoneCount: {self.streaming.zone_count} is more than network.azCount "
                f"{self.network.az_count}"
            )
        if self.storage.force_destroy and self.protect:
            problems.append("storage.forceDestroy: true cannot go with protect: true")
        if self.database.cross_region_backup and not self.replica_region:
            problems.append(
                "database.crossRegionBackup: true needs storage.replication with a replicaRegion"
            )
        if self.storage.replica_region:
            problems += [
                f"storage.replicaRegion: {p}" for p in region_problems(self.storage.replica_region)
            ]
            if self.storage.replica_region == self.region:
                problems.append(
                    f"storage.replicaRegion: {self.storage.replica_region!r} is the stack's own "
                    "region; choose a second region"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _name_problems(self) -> list[str]:
        """Physical names derived from the stack name, by each component's own rules."""
        prefix = self.name_prefix
        found = {
            "cluster": cluster_rules.cluster_name_problems(prefix),
            "database": database_rules.identifier_problems(f"{prefix}-{naming.DATABASE}"),
            "cache": cache_rules.group_id_problems(f"{prefix}-{naming.CACHE}"),
            "streaming": streaming_rules.cluster_name_problems(f"{prefix}-{naming.STREAMING}"),
            "buckets": storage_rules.bucket_name_problems(
                prefix, _default(storage_rules.BucketsArgs, "purposes"), self.storage.replication
            ),
            "database proxy": proxy_name_problems(f"{prefix}-{naming.DATABASE}-proxy"),
        }
        return [
            f"the stack name: {self.stack!r} makes the {what} name invalid: {problem}; use a "
            "shorter stack name of lowercase letters, digits and '-'"
            for what, problems in found.items()
            for problem in problems
        ]

    def _service_problems(self) -> list[str]:
        problems = []
        names = [service.name for service in self.services]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"services: duplicate service names {duplicates}; names must be unique")
        for index, service in enumerate(self.services):
            key = f"services[{index}]"
            if service.namespace not in self.cluster.namespaces:
                problems.append(
                    f"{key}.namespace: {service.namespace!r} is not one of cluster.namespaces "
                    f"{self.cluster.namespaces}"
                )
            if service.certificate_arn is not None:
                problems += [
                    f"{key}.certificateArn: {p}"
                    for p in certificate_arn_problems(service.certificate_arn, self.region)
                ]
            if service.idle_replicas is not None and service.idle_replicas > HPA_MAX_REPLICAS:
                problems.append(
                    f"{key}.idleReplicas: {service.idle_replicas} is above the autoscaling "
                    f"maximum {HPA_MAX_REPLICAS}"
                )
        for visibility, public in (("internal", False), ("public", True)):
            members = [
                GroupMember(s.name, s.hostnames, tls=s.certificate_arn is not None)
                for s in self.services
                if s.public == public
            ]
            if not public:
                members += self._ui_members()
            problems += [f"services: {p}" for p in member_problems(visibility, members)]
        return problems

    def _ui_members(self) -> list[GroupMember]:
        """The monitoring UIs, which join the internal ALB when `uiDomain` is set."""
        domain = self.observability.ui_domain
        if domain is None:
            return []
        shape = observability_rules.SHAPES[self.observability.level]
        uis = [ui for ui in observability_rules.UIS if ui != "kibana" or shape.elasticsearch_nodes]
        return [GroupMember(f"{ui} UI", [f"{ui}.{domain}"], tls=True) for ui in uis]

    def _observability_problems(self) -> list[str]:
        config = self.observability
        problems = []
        group = config.node_group
        if group is not None:
            if group not in self.cluster.node_groups:
                problems.append(
                    f"observability.nodeGroup: {group!r} is not one of cluster.nodeGroups "
                    f"{sorted(self.cluster.node_groups)}"
                )
            elif not self.cluster.node_groups[group].labels:
                problems.append(
                    f"observability.nodeGroup: cluster.nodeGroups.{group} has no labels to "
                    "select it by; give it e.g. labels: {role: monitoring}"
                )
        if config.ui_certificate_arn is not None:
            problems += [
                f"observability.uiCertificateArn: {p}"
                for p in certificate_arn_problems(config.ui_certificate_arn, self.region)
            ]
        url = self.slack_webhook_url.value if self.slack_webhook_url else None
        if url is not None:
            problems += [
                f"slackWebhookUrl: {p}"
                for p in observability_rules.slack_webhook_problems(url.get_secret_value())
            ]
        return problems

    def warnings(self) -> list[str]:
        """What is allowed but probably not meant (`make plan` and `pulumi up` print them)."""
        found = []
        if self.slack_webhook_url is None:
            found.append(
                "alerts go nowhere: no platform:slackWebhookUrl (set it with `pulumi config set "
                "--secret platform:slackWebhookUrl https://hooks.slack.com/services/...`)"
            )
        return found

    def _data_access_problems(self) -> list[str]:
        """Each service's database login and topics, by the components' own rules."""
        problems = []
        brokers = self.streaming.broker_count
        for index, service in enumerate(self.services):
            for problem in login_problems(login_for_service(service.name)):
                problems.append(
                    f"services[{index}].name: {service.name!r} gives database login {problem}"
                )
            for t_index, topic in enumerate(service.topics):
                spec = TopicSpec(owner=service.name, **topic.model_dump())
                for problem in topic_problems(spec, brokers):
                    problems.append(f"services[{index}].topics[{t_index}]: {problem}")
        clashes = colliding_names([t.name for s in self.services for t in s.topics])
        if clashes:
            problems.append(
                f"services[].topics: {clashes} are declared twice or differ only in '.' vs '_' "
                "(Kafka's metric names cannot tell them apart); topic names are cluster-wide"
            )
        return problems

    @property
    def name_prefix(self) -> str:
        """Prefix for physical names: unique per stack so two stacks can share an account."""
        return naming.name_prefix(self.stack)

    @property
    def replica_region(self) -> str | None:
        return self.storage.replica_region if self.storage.replication else None

    def default_tags(self) -> dict[str, str]:
        return {
            "project": NAMESPACE,
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
            "stack": self.stack,
        }


# --------------------------------------------------------------------------------------------
# Reading config
# --------------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    """YAML loader that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (the later one would win)", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def read_stack_config(stack: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Flat `{"ns:key": value}` config from `Pulumi.<stack>.yaml`, as Pulumi would pass it."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name for p in root.glob("Pulumi.*.yaml"))
        raise SettingsError(stack, [f"{path.name} not found; stack files here: {', '.join(known)}"])
    try:
        # _StrictLoader is a SafeLoader (plus a duplicate-key check): no object construction.
        document = yaml.load(path.read_text(), Loader=_StrictLoader) or {}  # nosec B506
    except yaml.YAMLError as exc:
        raise SettingsError(stack, [f"{path.name} is not valid YAML: {exc}"]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise SettingsError(
            stack,
            [
                f"{path.name}: config: must be a mapping of `namespace:key: value` entries, "
                f"not a {type(config).__name__}"
            ],
        )
    return dict(config)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` into a copy of `base`; nested mappings merge, everything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


SECRET_KEYS = ("slackWebhookUrl", "grafanaAdminPassword")


def _secrets(stack: str, own: dict[str, Any], secret_keys: frozenset[str]) -> None:
    """Turn the secret keys into `SecretSetting` input; refuse them in plain text."""
    problems = []
    for key in SECRET_KEYS:
        if key not in own:
            continue
        value = own[key]
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            own[key] = {"value": None}  # the stack file's ciphertext (offline)
        elif isinstance(value, str) and f"{NAMESPACE}:{key}" in secret_keys:
            own[key] = {"value": value}
        else:
            problems.append(
                f"{NAMESPACE}:{key}: must be a secret; set it with `pulumi config set --secret "
                f"{NAMESPACE}:{key} ...` (a plain value is stored unencrypted in "
                f"Pulumi.{stack}.yaml and shown in previews)"
            )
    if problems:
        raise SettingsError(stack, problems)


def load_settings(
    stack: str, config: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()
) -> Settings:
    """Build validated settings for `stack` from flat Pulumi config (`"platform:x": ...`).

    `secret_keys`: the config keys the engine holds as secrets (their values here are the
    decrypted text); the stack file's `secure:` values are recognised on their own.
    """
    own = {
        key.split(":", 1)[1]: _decode(value)
        for key, value in config.items()
        if key.startswith(f"{NAMESPACE}:")
    }
    _secrets(stack, own, secret_keys)
    environment = own.pop("profile", stack)
    if environment not in ENVIRONMENTS:
        source = (
            "platform:profile"
            if "profile" in config or f"{NAMESPACE}:profile" in config
            else ("the stack name")
        )
        raise SettingsError(
            stack,
            [
                f"{source}: {environment!r} is not a known environment; allowed: "
                f"{', '.join(ENVIRONMENTS)} (set platform:profile when the stack name is not one)"
            ],
        )
    document = deep_merge(PROFILES[environment], own)
    document.update(stack=stack, environment=environment)
    if "aws:region" in config:
        document["region"] = config["aws:region"]
    try:
        return Settings.model_validate(document)
    except ValidationError as exc:
        raise SettingsError(stack, [line for e in exc.errors() for line in _describe(e)]) from None


def _key(loc: list[str]) -> str:
    if loc[:1] == ["region"]:
        return "aws:region"
    if loc[:1] == ["stack"]:
        return "the stack name"
    head, rest = loc[0], loc[1:]
    return f"{NAMESPACE}:{head}" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)


def _describe(error: Mapping[str, Any]) -> list[str]:
    """Readable lines for one pydantic error: config key path, the bad value, what is allowed."""
    loc = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
    message = error["msg"].removeprefix("Value error, ")
    if not loc:
        # Cross-field rules report "relative.key.path: message" lines themselves.
        return [
            line if line.startswith("the stack name") else f"{NAMESPACE}:{line}"
            for line in message.splitlines()
        ]
    key = _key(loc)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return [f"{key}: unknown key (typo?); allowed keys here: {', '.join(allowed)}"]
    if error["type"] == "missing":
        return [f"{key}: required but not set"]
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) else f" = {value!r}"
    return [f"{key}{shown}: {line}" for line in message.splitlines()]


def _allowed_keys(loc: list[str]) -> list[str]:
    """The keys a config section accepts, following `loc` through models, lists and maps."""
    model: Any = Settings
    map_key_next = False  # the part after a `dict[str, Model]` field is a user-chosen name
    for part in loc:
        if part.isdigit() or map_key_next:
            map_key_next = False
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return []
        annotation = field.annotation
        map_key_next = getattr(annotation, "__origin__", None) is dict
        inner = getattr(annotation, "__args__", (annotation,))
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return sorted(f.alias or n for n, f in model.model_fields.items())


def from_pulumi() -> Settings:
    """Adapter for the running program: read every `platform:*` key plus `aws:region`.

    Pulumi has no public "list config keys" call; the SDK's config map is the only way to see
    keys the program does not know about, which is what makes typos fail loudly.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = frozenset(key for key in raw if runtime_config.is_config_secret(key))
    return load_settings(pulumi.get_stack(), raw, secret)
