"""Kafka topics on MSK, declared per application and created through the MSK topic API.

`aws.msk.Topic` calls MSK's CreateTopic/UpdateTopic (Kafka 3.6+, provisioned clusters): no
Kafka admin client, no network path to the brokers from where `pulumi up` runs. The deployer
needs `kafka-cluster:Connect`, `CreateTopic`, `DescribeTopic`, `AlterTopic`,
`DescribeTopicDynamicConfiguration` and `AlterTopicDynamicConfiguration` on the cluster and
its topics.

Topics hold data, so they are retained when removed from config (`retain_on_delete`) and
protected in prod: removing a service never drops its messages. Partitions can only grow and
the replication factor cannot change in place; a change that would need a new topic fails
instead of silently recreating it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arguments import require_valid
from components.streaming import min_insync_replicas

__all__ = [
    "DEFAULT_PARTITIONS",
    "DEFAULT_RETENTION_HOURS",
    "MAX_PARTITIONS",
    "MAX_RETENTION_HOURS",
    "TOPIC_NAME",
    "TopicSpec",
    "Topics",
    "TopicsArgs",
    "colliding_names",
    "replication_factor",
    "topic_configs",
    "topic_problems",
    "validate",
]


# Kafka's own rule: 1..249 of [a-zA-Z0-9._-], and not "." or "..".
TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
MAX_PARTITIONS = 1000  # a sanity bound per topic; MSK's per-broker partition limits apply too
DEFAULT_PARTITIONS = 3
DEFAULT_RETENTION_HOURS = 168  # Kafka's default: 7 days
MAX_RETENTION_HOURS = 24 * 365 * 10


@dataclass(frozen=True, kw_only=True)
class TopicSpec:
    """One Kafka topic.

    Attributes:
        name: topic name: 1..249 of letters, digits, `.`, `_`, `-` (not `.` or `..`). Avoid
            mixing `.` and `_`: Kafka's metric names cannot tell `a.b` from `a_b`, so two such
            topics are refused.
        owner: the service that owns it (only its role may read and write it).
        partitions: partition count (1..1000); it can grow later, never shrink.
        replication_factor: copies of each partition; None uses the cluster default (three
            where there are three brokers). More than `min.insync.replicas`, at most the broker
            count, so a broker can fail without blocking `acks=all` producers.
        retention_hours: how long messages are kept (1 .. 87600 hours).
    """

    name: str
    owner: str
    partitions: int = DEFAULT_PARTITIONS
    replication_factor: int | None = None
    retention_hours: int = DEFAULT_RETENTION_HOURS


@dataclass(frozen=True, kw_only=True)
class TopicsArgs:
    """Inputs of `Topics`.

    Attributes:
        cluster_arn: the MSK cluster (`Streaming.cluster_arn`).
        broker_count: brokers in the cluster (bounds the replication factor).
        topics: every topic of every service.
        protect: protect the topics from `pulumi destroy` (prod); removed topics are always
            retained in MSK, whatever this says.
    """

    cluster_arn: pulumi.Input[str]
    broker_count: int
    topics: Sequence[TopicSpec]
    protect: bool = False


def replication_factor(spec: TopicSpec, broker_count: int) -> int:
    """The topic's replication factor: its own, or the cluster default."""
    if spec.replication_factor is not None:
        return spec.replication_factor
    return min(3, broker_count)


def topic_problems(spec: TopicSpec, broker_count: int) -> list[str]:
    """Why MSK would refuse `spec`, or why it would not survive a broker failure."""
    problems = []
    if not TOPIC_NAME.fullmatch(spec.name) or spec.name in (".", ".."):
        problems.append(
            f"name {spec.name!r}: 1..249 of letters, digits, '.', '_', '-' (not '.' or '..')"
        )
    if not 1 <= spec.partitions <= MAX_PARTITIONS:
        problems.append(f"partitions {spec.partitions}: allowed 1..{MAX_PARTITIONS}")
    low = min_insync_replicas(broker_count) + 1
    factor = replication_factor(spec, broker_count)
    if not min(low, broker_count) <= factor <= broker_count:
        problems.append(
            f"replicationFactor {factor}: allowed {min(low, broker_count)}..{broker_count} with "
            f"{broker_count} brokers (more than min.insync.replicas "
            f"{min_insync_replicas(broker_count)}, at most one per broker)"
        )
    if not 1 <= spec.retention_hours <= MAX_RETENTION_HOURS:
        problems.append(f"retentionHours {spec.retention_hours}: allowed 1..{MAX_RETENTION_HOURS}")
    return problems


def colliding_names(names: Sequence[str]) -> list[str]:
    """Names that are duplicates, or that collide in Kafka's metric names (`.` vs `_`)."""
    seen: dict[str, str] = {}
    clashes = []
    for name in names:
        key = name.replace(".", "_")
        if key in seen:
            clashes.append(name if seen[key] == name else f"{seen[key]} / {name}")
        seen.setdefault(key, name)
    return clashes


def validate(args: TopicsArgs) -> list[str]:
    """Problems with `args` (empty when valid); settings applies the same rules per key."""
    problems = [
        f"topic {spec.name!r}: {problem}"
        for spec in args.topics
        for problem in topic_problems(spec, args.broker_count)
    ]
    clashes = colliding_names([spec.name for spec in args.topics])
    if clashes:
        problems.append(f"topics {clashes} are duplicates or differ only in '.' vs '_'")
    return problems


def topic_configs(spec: TopicSpec, broker_count: int) -> dict[str, str]:
    """Per-topic Kafka configuration (strings, as MSK's API takes them)."""
    return {
        "retention.ms": str(spec.retention_hours * 3_600_000),
        "cleanup.policy": "delete",
        "min.insync.replicas": str(min_insync_replicas(broker_count)),
    }


class Topics(pulumi.ComponentResource):
    """Every declared topic on one MSK cluster.

    Outputs: `topics` (name -> `aws.msk.Topic`), `names_by_owner` (service -> topic names).
    """

    def __init__(
        self, name: str, args: TopicsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("Topics", name, args, lambda: validate(args))
        super().__init__("platform:streaming:Topics", name, None, opts)
        self.topics: dict[str, aws.msk.Topic] = {}
        for spec in args.topics:
            self.topics[spec.name] = aws.msk.Topic(
                f"{name}-{spec.name}",
                name=spec.name,
                cluster_arn=args.cluster_arn,
                partition_count=spec.partitions,
                replication_factor=replication_factor(spec, args.broker_count),
                configs=json.dumps(topic_configs(spec, args.broker_count), sort_keys=True),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=args.protect,
                    # Removing a topic from config leaves it (and its data) in the cluster.
                    retain_on_delete=True,
                ),
            )
        self.names_by_owner: dict[str, list[str]] = {}
        for spec in args.topics:
            self.names_by_owner.setdefault(spec.owner, []).append(spec.name)
        self.register_outputs({"namesByOwner": self.names_by_owner})
