"""Typed, validated settings for one stack: the only module that reads Pulumi config.

    profile defaults (infra/profiles.py, per environment)
      deep-merged with  Pulumi.<stack>.yaml `platform:*` keys
      validated by      the pydantic models below (unknown keys are errors)

`load_settings(stack, config)` is pure (a flat `{"ns:key": value}` mapping in, `Settings` or
`SettingsError` out), so tests and the offline plan call it directly; `from_pulumi()` is the
thin adapter that reads the running program's config.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.cidr import MAX_AZS, parse_vpc_cidr
from components.cluster.versions import ADDON_VERSIONS
from components.database.logins import login_for_service, login_problems
from components.logs import LOG_RETENTION_DAYS
from components.topics import (
    DEFAULT_PARTITIONS,
    DEFAULT_RETENTION_HOURS,
    TopicSpec,
    colliding_names,
    topic_problems,
)
from infra.profiles import ENVIRONMENTS, MIN_AZS, PROFILES

__all__ = [
    "ENVIRONMENTS",
    "LOG_RETENTION_DAYS",
    "Settings",
    "SettingsError",
    "from_pulumi",
    "load_settings",
]

NAMESPACE = "platform"


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


def _retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"must be one of the CloudWatch Logs retention periods {LOG_RETENTION_DAYS}"
        )
    return value


RetentionDays = Annotated[int, AfterValidator(_retention)]  # CloudWatch Logs retention


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------
class NetworkSettings(_Model):
    """`platform:network`."""

    cidr: str
    az_count: int = Field(ge=2, le=MAX_AZS)
    nat_gateways: Literal["single", "perAz"]
    interface_endpoints: bool
    flow_log_retention_days: RetentionDays

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        parse_vpc_cidr(value)
        return value


class KeySettings(_Model):
    """`platform:keys`."""

    deletion_window_days: int = Field(ge=7, le=30)


class StorageSettings(_Model):
    """`platform:storage`."""

    replication: bool
    replica_region: str | None = None
    noncurrent_version_expiry_days: PositiveInt
    infrequent_access_after_days: int = Field(ge=30)  # S3 minimum for STANDARD_IA
    access_log_expiry_days: PositiveInt
    force_destroy: bool = False

    @model_validator(mode="after")
    def _replica(self) -> StorageSettings:
        if self.replication and not self.replica_region:
            raise ValueError("replicaRegion is required when replication is true")
        return self


class AppSettings(_Model):
    """`platform:app` — the product brief's per-environment service settings."""

    replicas: PositiveInt
    autoscaling: bool
    monitoring: Literal["basic", "enhanced", "full"]
    deploy_branches: list[str] = Field(min_length=1)


# Versions this library is tested with. Adding one is a reviewed change (add-on, chart and
# parameter-group families move with it), which is why config cannot name any other.
KUBERNETES_VERSIONS = tuple(ADDON_VERSIONS)  # versions with pinned add-ons and charts
AURORA_POSTGRES_VERSIONS = ("16.9", "17.5")
CACHE_ENGINE_VERSIONS = {"valkey": ("8.1", "8.2"), "redis": ("7.1",)}
KAFKA_VERSIONS = ("3.8.x", "3.9.x")


@cache
def ec2_instance_types() -> frozenset[str]:
    """The EC2 instance type list botocore ships (offline)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ec2")
    return frozenset(model.shape_for("InstanceType").enum)


def _suggest(value: str, choices: frozenset[str] | tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(value, sorted(choices), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


class NodeGroupSettings(_Model):
    """One managed node group under `platform:cluster.nodeGroups.<name>`."""

    instance_types: list[str] = Field(min_length=1)
    capacity_type: Literal["ON_DEMAND", "SPOT"]
    min_size: int = Field(ge=0)
    max_size: PositiveInt
    desired_size: int = Field(ge=0)
    max_unavailable: PositiveInt = 1
    disk_size_gib: int = Field(default=40, ge=20, le=1000)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[dict[str, str]] = Field(default_factory=list)

    @field_validator("instance_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        known = ec2_instance_types()
        bad = [t for t in value if t not in known]
        if bad:
            hints = "".join(_suggest(t, known) for t in bad)
            raise ValueError(f"{bad} not EC2 instance types known to botocore{hints}")
        return value

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupSettings:
        if self.min_size > self.max_size:
            raise ValueError(f"minSize {self.min_size} is greater than maxSize {self.max_size}")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"desiredSize {self.desired_size} is outside [minSize {self.min_size}, "
                f"maxSize {self.max_size}]"
            )
        return self


class ClusterSettings(_Model):
    """`platform:cluster`."""

    version: str
    endpoint_public_access: bool
    public_access_cidrs: list[str] = Field(default_factory=list)
    # Beyond the VPC itself (always allowed): VPN or peered ranges that call the private API.
    private_access_cidrs: list[str] = Field(default_factory=list)
    allow_public_access_from_anywhere: bool = False
    # No implicit creator admin: whoever administers the cluster is named here.
    admin_role_arns: list[str] = Field(min_length=1)
    log_retention_days: RetentionDays
    imds_hop_limit: int = Field(default=1, ge=1, le=2)
    node_groups: dict[str, NodeGroupSettings] = Field(min_length=1)
    namespaces: list[str] = Field(default_factory=lambda: ["apps"])

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in KUBERNETES_VERSIONS:
            raise ValueError(
                f"unsupported Kubernetes version; allowed (EKS standard support, tested here): "
                f"{', '.join(KUBERNETES_VERSIONS)}"
            )
        return value

    @field_validator("public_access_cidrs", "private_access_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        import ipaddress

        for cidr in value:
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not an IPv4 CIDR: {exc}") from None
        return value

    @field_validator("admin_role_arns")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        import re

        pattern = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
        bad = [arn for arn in value if not pattern.match(arn)]
        if bad:
            raise ValueError(f"{bad} are not IAM role ARNs (arn:aws:iam::<account>:role/<name>)")
        return value

    @model_validator(mode="after")
    def _public_endpoint(self) -> ClusterSettings:
        if not self.endpoint_public_access:
            return self
        if not self.public_access_cidrs:
            raise ValueError(
                "publicAccessCidrs: required when endpointPublicAccess is true (e.g. your "
                "office or VPN egress range); or set endpointPublicAccess: false"
            )
        if "0.0.0.0/0" in self.public_access_cidrs and not self.allow_public_access_from_anywhere:
            raise ValueError(
                "publicAccessCidrs: 0.0.0.0/0 opens the Kubernetes API to the internet; name "
                "your CIDRs, or opt out explicitly with allowPublicAccessFromAnywhere: true"
            )
        return self


class DatabaseSettings(_Model):
    """`platform:database` (Aurora PostgreSQL)."""

    engine_version: str
    mode: Literal["serverless", "provisioned"]
    min_capacity: float = Field(default=0.5, ge=0, le=256)
    max_capacity: float = Field(default=2, ge=1, le=256)
    seconds_until_auto_pause: int | None = Field(default=None, ge=300, le=86400)
    instance_class: str = "db.serverless"
    reader_count: int = Field(default=0, ge=0, le=15)
    backup_retention_days: int = Field(ge=1, le=35)
    skip_final_snapshot: bool = False
    monitoring_interval: Literal[0, 1, 5, 10, 15, 30, 60] = 60
    performance_insights_retention_days: int = 7
    log_retention_days: RetentionDays = 30
    cross_region_backup: bool = False
    # RDS Proxy (pooling, IAM auth end to end) in front of the writer.
    proxy: bool = False

    @field_validator("engine_version")
    @classmethod
    def _engine(cls, value: str) -> str:
        if value not in AURORA_POSTGRES_VERSIONS:
            raise ValueError(
                f"unknown aurora-postgresql version; allowed: {', '.join(AURORA_POSTGRES_VERSIONS)}"
            )
        return value

    @model_validator(mode="after")
    def _capacity(self) -> DatabaseSettings:
        if self.min_capacity > self.max_capacity:
            raise ValueError(
                f"minCapacity {self.min_capacity} is greater than maxCapacity {self.max_capacity}"
            )
        if self.min_capacity == 0 and self.seconds_until_auto_pause is None:
            raise ValueError("secondsUntilAutoPause: required when minCapacity is 0 (auto-pause)")
        if self.mode == "provisioned" and self.instance_class == "db.serverless":
            raise ValueError("instanceClass: provisioned mode needs a db.* instance class")
        if self.proxy and self.mode == "serverless" and self.min_capacity == 0:
            raise ValueError(
                "proxy: true holds connections open, so a cluster with minCapacity 0 would "
                "never pause; raise minCapacity or set proxy: false"
            )
        return self


class CacheSettings(_Model):
    """`platform:cache` (ElastiCache replication group)."""

    engine: Literal["valkey", "redis"] = "valkey"
    engine_version: str
    node_type: str
    num_cache_clusters: int = Field(ge=1, le=6)
    multi_az: bool
    snapshot_retention_days: int = Field(ge=0, le=35)
    log_retention_days: RetentionDays = 30

    @model_validator(mode="after")
    def _checks(self) -> CacheSettings:
        allowed = CACHE_ENGINE_VERSIONS[self.engine]
        if self.engine_version not in allowed:
            raise ValueError(
                f"engineVersion: {self.engine_version!r} is not a known {self.engine} version; "
                f"allowed: {', '.join(allowed)}"
            )
        if self.multi_az and self.num_cache_clusters < 2:
            raise ValueError("multiAz needs numCacheClusters >= 2 (a primary and a replica)")
        return self


class StreamingSettings(_Model):
    """`platform:streaming` (MSK provisioned)."""

    kafka_version: str
    # Fixed per stack, not derived from network.azCount: MSK client subnets are force-new, so
    # adding an AZ to the VPC must not move (replace) the brokers.
    zone_count: int = Field(ge=2, le=3)
    broker_count: PositiveInt
    broker_instance_type: str
    volume_size_gib: int = Field(ge=1, le=16384)
    max_volume_size_gib: int = Field(ge=1, le=16384)
    storage_target_utilization: int = Field(default=70, ge=10, le=80)
    log_retention_days: RetentionDays = 30
    enhanced_monitoring: Literal["DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER"] = "DEFAULT"

    @field_validator("kafka_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in KAFKA_VERSIONS:
            raise ValueError(f"unknown Kafka version; allowed: {', '.join(KAFKA_VERSIONS)}")
        return value

    @model_validator(mode="after")
    def _storage(self) -> StreamingSettings:
        if self.max_volume_size_gib < self.volume_size_gib:
            raise ValueError(
                f"maxVolumeSizeGib {self.max_volume_size_gib} is below volumeSizeGib "
                f"{self.volume_size_gib}"
            )
        return self


class ServiceResources(_Model):
    """`resources` of one service: Kubernetes quantities."""

    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    cpu_limit: str = "1"
    memory_limit: str = "512Mi"


class ServiceTags(_Model):
    """Image tag per colour; `latest` and empty tags are refused (not reproducible)."""

    blue: str
    green: str

    @field_validator("blue", "green", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # `pulumi config set --path ...tags.blue 42` stores a number; a tag is text.
        return str(value) if isinstance(value, int | float) else value

    @field_validator("blue", "green")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("image tag is empty; use an immutable version tag such as 1.4.2")
        if value.strip().lower() == "latest":
            raise ValueError(
                "'latest' is not allowed: it is not reproducible and cannot be rolled back; "
                "use an immutable version tag such as 1.4.2"
            )
        return value


class TopicSettings(_Model):
    """One entry of `platform:services[i].topics`: a Kafka topic the service owns."""

    name: str
    partitions: int = DEFAULT_PARTITIONS
    replication_factor: int | None = None
    retention_hours: int = DEFAULT_RETENTION_HOURS


class ServiceSettings(_Model):
    """One entry of `platform:services`: a blue-green application service."""

    name: str = Field(pattern=r"^[a-z]([-a-z0-9]{0,44}[a-z0-9])?$")
    image: str = Field(min_length=1)
    tags: ServiceTags
    active_color: Literal["blue", "green"] = "blue"
    idle_replicas: int | None = Field(default=None, ge=0)
    traffic_split: int | None = Field(default=None, ge=0, le=100)
    port: int = Field(default=8080, ge=1024, le=65535)  # non-root containers cannot bind < 1024
    service_port: int = Field(default=80, ge=1, le=65535)
    health_path: str = Field(default="/healthz", pattern=r"^/")
    resources: ServiceResources = Field(default_factory=ServiceResources)
    namespace: str = "apps"
    public: bool = False
    certificate_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:acm:")
    allow_plain_http: bool = False
    hostnames: list[str] = Field(default_factory=list)
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
    environment: Literal["dev", "uat", "prod"]
    region: str
    owner: str = Field(min_length=1)
    cost_center: str = Field(min_length=1)
    protect: bool
    network: NetworkSettings
    keys: KeySettings
    storage: StorageSettings
    app: AppSettings
    cluster: ClusterSettings
    database: DatabaseSettings
    cache: CacheSettings
    streaming: StreamingSettings
    services: list[ServiceSettings] = Field(default_factory=list)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check_region(value)

    @model_validator(mode="after")
    def _environment_rules(self) -> Settings:
        problems = []
        need = MIN_AZS[self.environment]
        if self.network.az_count < need:
            problems.append(
                f"network.azCount: {self.network.az_count} is fewer than the {need} AZs the "
                f"{self.environment} profile needs"
            )
        if self.environment == "prod":
            if self.network.nat_gateways != "perAz":
                problems.append(
                    f"network.natGateways: {self.network.nat_gateways!r} is not allowed in prod; "
                    "use 'perAz' so losing one AZ does not cut egress for the others"
                )
            if not self.protect:
                problems.append("protect: false is not allowed in prod (stateful resources)")
            if not self.storage.replication:
                problems.append("storage.replication: prod must replicate to a second region")
            if self.cluster.endpoint_public_access:
                problems.append(
                    "cluster.endpointPublicAccess: true is not allowed in prod; reach the API "
                    "through the VPC (VPN, bastion or CI runners inside the VPC)"
                )
            if not self.cache.multi_az:
                problems.append("cache.multiAz: prod needs a multi-AZ cache with a replica")
            if self.database.mode != "provisioned" or self.database.reader_count < 1:
                problems.append(
                    "database: prod needs mode 'provisioned' with readerCount >= 1 (a reader "
                    "in another AZ to fail over to)"
                )
        if self.database.skip_final_snapshot and self.environment != "dev":
            problems.append(
                f"database.skipFinalSnapshot: true is only allowed in dev, not {self.environment}"
            )
        names = [service.name for service in self.services]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"services: duplicate service names {duplicates}; names must be unique")
        problems += self._data_access_problems()
        for index, service in enumerate(self.services):
            if service.namespace not in self.cluster.namespaces:
                problems.append(
                    f"services[{index}].namespace: {service.namespace!r} is not one of "
                    f"cluster.namespaces {self.cluster.namespaces}"
                )
            if service.allow_plain_http and self.environment == "prod":
                problems.append(f"services[{index}].allowPlainHttp: not allowed in prod")
        if self.streaming.zone_count > self.network.az_count:
            problems.append(
                f"streaming.zoneCount: {self.streaming.zone_count} is more than network.azCount "
                f"{self.network.az_count}"
            )
        if self.streaming.broker_count % self.streaming.zone_count:
            problems.append(
                f"streaming.brokerCount: {self.streaming.broker_count} is not a multiple of "
                f"streaming.zoneCount {self.streaming.zone_count} (MSK spreads brokers evenly "
                "over its zones)"
            )
        if self.storage.replica_region:
            try:
                _check_region(self.storage.replica_region)
            except ValueError as exc:
                problems.append(f"storage.replicaRegion: {exc}")
            if self.storage.replica_region == self.region:
                problems.append(
                    f"storage.replicaRegion: {self.storage.replica_region!r} is the stack's own "
                    "region; choose a second region"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

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
        return f"{NAMESPACE}-{self.stack}"

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
# Loading
# --------------------------------------------------------------------------------------------
@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows in any partition (offline, no AWS call)."""
    import botocore.session

    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


def _check_region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(
            f"{value!r} is not an AWS region known to botocore (e.g. eu-west-1, us-east-1; "
            f"{len(known_regions())} known)"
        )
    return value


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


def load_settings(stack: str, config: Mapping[str, Any]) -> Settings:
    """Build validated settings for `stack` from flat Pulumi config (`"platform:x": ...`)."""
    own = {
        key.split(":", 1)[1]: _decode(value)
        for key, value in config.items()
        if key.startswith(f"{NAMESPACE}:")
    }
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
    head, rest = loc[0], loc[1:]
    return f"{NAMESPACE}:{head}" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)


def _describe(error: Mapping[str, Any]) -> list[str]:
    """Readable lines for one pydantic error: config key path, the bad value, what is allowed."""
    loc = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if not loc:
        # Cross-field rules report "relative.key.path: message" lines themselves.
        return [f"{NAMESPACE}:{line}" for line in message.splitlines()]
    key = _key(loc)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return [f"{key}: unknown key (typo?); allowed keys here: {', '.join(allowed)}"]
    if error["type"] == "missing":
        return [f"{key}: required but not set"]
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) else f" = {value!r}"
    return [f"{key}{shown}: {message}"]


def _allowed_keys(loc: list[str]) -> list[str]:
    model: Any = Settings
    for part in loc:
        if part.isdigit():
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return []
        annotation = field.annotation
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
    return load_settings(pulumi.get_stack(), raw)
