"""Rules that need two keys to decide whether the stack fits: what the observability
stack keeps against the disks it has, replicas that must sit apart against the zones and
nodes there are, and each service's requests against the nodes it can land on. The facts
(instance shapes, daily volumes, disk shares) live in the components; this module names the
keys involved."""

from __future__ import annotations

from components import streaming as streaming_rules
from components.capacity import (
    instance_shape,
    node_pod_problems,
    pod_room,
    request_fit_problems,
    retention_fit_problems,
    spread_problems,
)
from components.cluster import rules as cluster_rules
from components.observability import args as observability_rules
from components.topics import TopicSpec, replication_factor
from infra.config.cluster import ClusterSettings
from infra.config.data_stores import StreamingSettings
from infra.config.foundation import NetworkSettings
from infra.config.observability import ObservabilitySettings
from infra.config.services import ServiceSettings


def observability_capacity_problems(
    config: ObservabilitySettings, network: NetworkSettings, cluster: ClusterSettings
) -> list[str]:
    shape = observability_rules.SHAPES[config.level]
    problems = [
        f"observability.prometheusRetention and platform:observability.prometheusStorageGib: {p}"
        for p in retention_fit_problems(
            observability_rules.duration_seconds(config.prometheus_retention) / 86400,
            shape.prometheus_gib_per_day,
            1,
            config.prometheus_storage_gib * observability_rules.PROMETHEUS_DISK_SHARE,
            "Prometheus",
        )
    ]
    if shape.elasticsearch_nodes and config.elasticsearch_storage_gib:
        logs, traces = config.log_retention_days or 0, config.trace_retention_days or 0
        copies = 1 + observability_rules.index_replicas(shape.elasticsearch_nodes)
        need = (logs * shape.log_gib_per_day + traces * shape.trace_gib_per_day) * copies
        usable = (
            shape.elasticsearch_nodes
            * config.elasticsearch_storage_gib
            * observability_rules.ELASTICSEARCH_DISK_SHARE
        )
        if need > usable:
            problems.append(
                "observability.logRetentionDays and platform:observability.traceRetentionDays "
                "and platform:observability.elasticsearchStorageGib: Elasticsearch would hold "
                f"logs for {logs} days at about {shape.log_gib_per_day:g} GiB/day and traces "
                f"for {traces} days at about {shape.trace_gib_per_day:g} GiB/day, x {copies} "
                f"copies: about {need:.0f} GiB, more than the {usable:.0f} GiB usable "
                f"({shape.elasticsearch_nodes} nodes x {config.elasticsearch_storage_gib} GiB "
                "below the disk watermark)"
            )
    if shape.zone_anti_affinity:
        group = cluster.node_groups.get(config.node_group) if config.node_group else None
        nodes = group.max_size if group is not None else None
        keys = "observability.level and platform:network.azCount" + (
            f" and platform:cluster.nodeGroups.{config.node_group}.maxSize" if group else ""
        )
        for replicas, what in (
            (shape.prometheus_replicas, "Prometheus"),
            (shape.elasticsearch_nodes, "Elasticsearch"),
        ):
            problems += [
                f"{keys}: {p}" for p in spread_problems(replicas, network.az_count, nodes, what)
            ]
    return problems


def service_fit_problems(services: list[ServiceSettings], cluster: ClusterSettings) -> list[str]:
    """A service's pods land on the untainted node groups: their requests must fit the
    smallest instance of at least one of them (a managed node group may launch any type it
    lists)."""
    untainted = {name: g for name, g in cluster.node_groups.items() if not g.taints}
    problems = []
    for index, service in enumerate(services):
        resources = service.resources
        by_group = {
            name: request_fit_problems(
                resources.cpu_request, resources.memory_request, group.instance_types
            )
            for name, group in untainted.items()
            if any(instance_shape(t) for t in group.instance_types)
        }
        if by_group and all(by_group.values()):
            groups = " and ".join(f"platform:cluster.nodeGroups.{name}" for name in by_group)
            reasons = "; ".join(sorted({p for found in by_group.values() for p in found}))
            problems.append(
                f"services[{index}].resources (cpuRequest, memoryRequest) and {groups}: "
                f"{reasons}; lower the requests or use larger instance types"
            )
    return problems


def partition_load(
    services: list[ServiceSettings], streaming: StreamingSettings
) -> tuple[list[str], list[str]]:
    """(problems, warnings): the partitions every service's topics put on each broker against
    what the broker type holds (MSK's per-broker guidance)."""
    brokers = streaming.broker_count
    topics = [
        (t.partitions, replication_factor(TopicSpec(owner=s.name, **t.model_dump()), brokers))
        for s in services
        for t in s.topics
    ]
    if not topics:
        return [], []
    problems, warnings = streaming_rules.partition_load_problems(
        streaming.broker_instance_type,
        brokers,
        topics,
        # Kafka's offsets topic gets the cluster default, as a topic without its own factor.
        replication_factor(TopicSpec(name="__consumer_offsets", owner="kafka"), brokers),
    )
    keys = (
        "services[].topics and platform:streaming.brokerInstanceType and "
        "platform:streaming.brokerCount"
    )
    return [f"{keys}: {p}" for p in problems], [f"platform:{keys}: {w}" for w in warnings]


def node_agent_problems(
    cluster: ClusterSettings, observability: ObservabilitySettings
) -> list[str]:
    """Every node runs the node agents; the untainted groups must also hold the add-ons' and
    controllers' Deployments at their maximum size."""
    agents = (*cluster_rules.NODE_AGENTS, *observability_rules.node_agents(observability.level))
    problems = []
    for name, group in cluster.node_groups.items():
        problems += [
            f"cluster.nodeGroups.{name}.instanceTypes and platform:observability.level: {p}"
            for p in node_pod_problems(group.instance_types, agents)
        ]
    if problems:
        return problems
    system = sum(
        cluster_rules.ADDON_DEPLOYMENT_REPLICAS.values()
    ) + cluster.controller_replicas * len(cluster_rules.CONTROLLER_DEPLOYMENTS)
    untainted = {n: g for n, g in cluster.node_groups.items() if not g.taints}
    rooms = [pod_room(g.instance_types, g.max_size, len(agents)) for g in untainted.values()]
    if untainted and None not in rooms and sum(rooms) < system:
        groups = " and ".join(
            f"platform:cluster.nodeGroups.{n}.{key}"
            for n in untainted
            for key in ("maxSize", "instanceTypes")
        )
        problems.append(
            f"cluster.controllerReplicas and {groups}: the untainted "
            f"groups hold {sum(rooms)} pods beyond the {len(agents)} node agents at their "
            f"maximum size, fewer than the {system} the cluster's own Deployments need "
            f"({', '.join(cluster_rules.ADDON_DEPLOYMENT_REPLICAS)}, "
            f"{', '.join(cluster_rules.CONTROLLER_DEPLOYMENTS)}); raise maxSize or use larger "
            "instance types"
        )
    return problems
