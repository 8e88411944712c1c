"""Config of the application services: `platform:app` and `platform:services` (wired by
`infra/wiring/services.py`). The release tool validates one service entry with the same
`ServiceSettings` model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PositiveInt, model_validator

from components.alb import GroupMember, member_problems, route_problems
from components.bluegreen.args import (
    COLORS,
    CONTAINER_PORTS,
    HPA_MAX_REPLICAS,
    KINDS,
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
from components.database.logins import login_for_service, login_problems
from components.git_refs import branch_pattern_problems
from components.kubernetes_rules import label_problems, quantity_problems, service_name_problems
from components.topics import (
    DEFAULT_PARTITIONS,
    DEFAULT_RETENTION_HOURS,
    TopicSpec,
    colliding_names,
    topic_problems,
)
from infra.config.cluster import ClusterSettings
from infra.config.fields import ConfigModel, component_default, rule
from infra.config.observability import ObservabilitySettings, ui_members


class AppSettings(ConfigModel):
    """`platform:app` — the product brief's per-environment service settings."""

    replicas: Annotated[PositiveInt, rule(lambda n: replicas_problems(n, None, HPA_MAX_REPLICAS))]
    autoscaling: bool
    deploy_branches: Annotated[list[str], rule(branch_pattern_problems)] = Field(min_length=1)
    # Spread pods across zones with DoNotSchedule (a lost zone never holds every replica).
    zone_spread_strict: bool


def _quantity_text(value: Any) -> Any:
    # A quantity may be a YAML number (`cpuLimit: 1`): the same value as the text "1".
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Quantity = Annotated[str, BeforeValidator(_quantity_text)]


class ServiceResources(ConfigModel):
    """`resources` of one service: Kubernetes quantities."""

    numbers_as_text = frozenset({"cpu_request", "memory_request", "cpu_limit", "memory_limit"})

    cpu_request: Quantity = component_default(ContainerResources, "cpu_request")
    memory_request: Quantity = component_default(ContainerResources, "memory_request")
    cpu_limit: Quantity = component_default(ContainerResources, "cpu_limit")
    memory_limit: Quantity = component_default(ContainerResources, "memory_limit")

    @model_validator(mode="after")
    def _quantities(self) -> ServiceResources:
        problems = []
        for kind, request, limit in (
            ("cpu", self.cpu_request, self.cpu_limit),
            ("memory", self.memory_request, self.memory_limit),
        ):
            for part, problem in quantity_problems(kind, request, limit):
                # The field the problem is about (`cpuRequest`), both for a conflict.
                fields = {"request": f"{kind}Request", "limit": f"{kind}Limit"}
                key = fields.get(part) or f"{kind}Request and {kind}Limit"
                problems.append(f"{key}: {problem}")
        if problems:
            raise ValueError("\n".join(problems))
        return self


# A tag YAML read as a number is refused ("quote it", ConfigModel): 1.10 and 1.1 are different
# images, and the text the operator wrote is already lost. The release tool writes tags with
# `pulumi config set --type string`.
ImageTag = Annotated[str, rule(tag_problems)]


class ServiceTags(ConfigModel):
    """Image tag per colour; `latest` and empty tags are refused (not reproducible)."""

    blue: ImageTag
    green: ImageTag


class TopicSettings(ConfigModel):
    """One entry of `platform:services[i].topics`: a Kafka topic the service owns."""

    name: str
    partitions: int = DEFAULT_PARTITIONS
    replication_factor: int | None = None
    retention_hours: int = DEFAULT_RETENTION_HOURS


class ServiceSettings(ConfigModel):
    """One entry of `platform:services`: a blue-green application service."""

    name: Annotated[str, rule(lambda n: service_name_problems(n, MAX_SERVICE_NAME))]
    kind: Literal[KINDS] = component_default(BlueGreenServiceArgs, "kind")  # type: ignore[valid-type]
    image: Annotated[str, rule(image_problems)]
    tags: ServiceTags
    active_color: Literal[COLORS] = component_default(BlueGreenServiceArgs, "active_color")  # type: ignore[valid-type]
    idle_replicas: int | None = Field(default=None, ge=0)
    traffic_split: int | None = Field(default=None, ge=0, le=100)
    # Non-root containers with every capability dropped cannot bind ports below 1024.
    port: int = Field(
        default=component_default(BlueGreenServiceArgs, "port"),
        ge=CONTAINER_PORTS[0],
        le=CONTAINER_PORTS[1],
    )
    service_port: int = Field(
        default=component_default(BlueGreenServiceArgs, "service_port"), ge=1, le=65535
    )
    health_path: Annotated[str, rule(path_problems)] = component_default(
        BlueGreenServiceArgs, "health_path"
    )
    resources: ServiceResources = Field(default_factory=ServiceResources)
    namespace: Annotated[str, rule(label_problems)] = "apps"
    public: bool = False
    certificate_arn: str | None = None
    allow_plain_http: bool = False
    hostnames: Annotated[
        list[str], rule(lambda hosts: [p for h in hosts for p in hostname_problems(h)])
    ] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    topics: list[TopicSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _routing(self) -> ServiceSettings:
        if self.kind == "worker":
            return self._worker()
        routes = route_problems(self.hostnames, self.paths)
        problems = [f"{keys}: {problem}" for keys, problem in routes]
        if self.public and self.allow_plain_http:
            problems.append(
                "allowPlainHttp: true is an opt-out for an internal ALB only; a public service "
                "(platform:services[].public: true) is served with TLS in every environment: "
                "give it a certificateArn"
            )
        elif self.certificate_arn is None and not self.allow_plain_http:
            problems.append(
                "certificateArn: required so the ALB serves HTTPS; or opt out explicitly with "
                "allowPlainHttp: true (dev only, internal ALB only)"
            )
        if self.traffic_split and self.idle_replicas == 0:
            problems.append("trafficSplit: cannot send traffic to an idle colour scaled to 0")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _worker(self) -> ServiceSettings:
        # A worker has no Ingress: every routing key would be silently ignored.
        given = {
            "hostnames": self.hostnames,
            "paths": self.paths,
            "public": self.public,
            "certificateArn": self.certificate_arn,
            "allowPlainHttp": self.allow_plain_http,
            "trafficSplit": self.traffic_split is not None,
        }
        problems = [
            f"{key}: a worker (kind: worker) has no Ingress, no ALB rule and no traffic to "
            "split; remove it, or make the service kind: web"
            for key, value in given.items()
            if value
        ]
        if problems:
            raise ValueError("\n".join(problems))
        return self


def service_problems(
    services: list[ServiceSettings],
    cluster: ClusterSettings,
    observability: ObservabilitySettings,
    region: str,
) -> list[str]:
    """What the services must agree on with each other, the cluster and the shared ALBs."""
    problems = []
    names = [service.name for service in services]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"services: duplicate service names {duplicates}; names must be unique")
    for index, service in enumerate(services):
        key = f"services[{index}]"
        if service.namespace not in cluster.namespaces:
            problems.append(
                f"{key}.namespace: {service.namespace!r} is not one of platform:cluster.namespaces "
                f"{cluster.namespaces}"
            )
        if service.certificate_arn is not None:
            problems += [
                f"{key}.certificateArn: {p}"
                for p in certificate_arn_problems(service.certificate_arn, region)
            ]
        if service.idle_replicas is not None and service.idle_replicas > HPA_MAX_REPLICAS:
            problems.append(
                f"{key}.idleReplicas: {service.idle_replicas} is above the autoscaling "
                f"maximum {HPA_MAX_REPLICAS}"
            )
    for visibility, public in (("internal", False), ("public", True)):
        members = [
            GroupMember(
                s.name,
                s.hostnames,
                tls=s.certificate_arn is not None,
                paths=s.paths,
                namespace=s.namespace,
                where=f"services[{index}]",
            )
            for index, s in enumerate(services)
            if s.public == public and s.kind != "worker"
        ]
        if not public:
            members += ui_members(observability)
        for problem in member_problems(visibility, members):
            # The first key gets the namespace from the error formatter, the others here.
            keys = [problem.keys[0], *(f"platform:{k}" for k in problem.keys[1:])]
            problems.append(f"{' and '.join(dict.fromkeys(keys))}: {problem.message}")
    return problems


def data_access_problems(services: list[ServiceSettings], broker_count: int) -> list[str]:
    """Each service's database login and topics, by the components' own rules."""
    problems = []
    for index, service in enumerate(services):
        for problem in login_problems(login_for_service(service.name)):
            problems.append(
                f"services[{index}].name: {service.name!r} gives database login {problem}"
            )
        for t_index, topic in enumerate(service.topics):
            spec = TopicSpec(owner=service.name, **topic.model_dump())
            for problem in topic_problems(spec, broker_count):
                problems.append(f"services[{index}].topics[{t_index}]: {problem}")
    clashes = colliding_names([t.name for s in services for t in s.topics])
    if clashes:
        problems.append(
            f"services[].topics: {clashes} are declared twice or differ only in '.' vs '_' "
            "(Kafka's metric names cannot tell them apart); topic names are cluster-wide"
        )
    return problems
