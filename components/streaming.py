"""Amazon MSK (provisioned) with IAM client authentication, TLS everywhere and KMS at rest.

Clients authenticate with SASL/IAM (port 9098) and are authorised by IAM policies on cluster,
topic and group ARNs; unauthenticated access is off and client-broker traffic is TLS only.
Brokers spread evenly over the isolated subnets (one per zone), log to a KMS-encrypted log
group, and their EBS volumes grow through Application Auto Scaling. The broker configuration
turns off topic auto-creation and sets replication defaults that fit the broker count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.arguments import require_valid
from components.aws_catalog import instance_type_problems
from components.data_store import StorePlacement, placement_problems, store_security_group
from components.logs import encrypted_log_group

__all__ = [
    "BROKER_FAMILIES",
    "DEFAULT_BROKER_TYPE",
    "DEFAULT_KAFKA_VERSION",
    "DEFAULT_STORAGE_TARGET_UTILIZATION",
    "KAFKA_VERSIONS",
    "MONITORING_LEVELS",
    "MTLS_PORT",
    "SASL_IAM_PORT",
    "STORAGE_TARGET_UTILIZATION",
    "VOLUME_GIB",
    "ZONES",
    "Streaming",
    "StreamingArgs",
    "broker_count_problems",
    "broker_type_problems",
    "cluster_name_problems",
    "default_replication_factor",
    "kafka_version_problems",
    "min_insync_replicas",
    "server_properties",
    "storage_problems",
    "validate",
]


# Versions tested here (MSK patches within each line itself); 3.6+ has the topic API.
KAFKA_VERSIONS = ("3.8.x", "3.9.x")
# 3.8.x is MSK's recommended Apache Kafka version.
# renovate: datasource=endoflife-date depName=apache-kafka versioning=loose
DEFAULT_KAFKA_VERSION = "3.8.x"
# Standard brokers: general purpose Intel and Graviton (kafka.t3.small is the one burstable).
BROKER_FAMILIES = ("m5", "m7g")
DEFAULT_BROKER_TYPE = "kafka.t3.small"
ZONES = (2, 3)
VOLUME_GIB = (1, 16384)
STORAGE_TARGET_UTILIZATION = (10, 80)
# Auto scaling grows storage past this share of the volume; 70 % leaves a day's headroom at
# typical write rates while not growing volumes (which never shrink) too early.
DEFAULT_STORAGE_TARGET_UTILIZATION = 70
SASL_IAM_PORT = 9098
MTLS_PORT = 9094
MONITORING_LEVELS = ("DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION")
_CLUSTER_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,63}$")
# Auto scaling grows volumes outside Pulumi; the program's size is only the initial one.
_VOLUME_SIZE_PATH = "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize"


@dataclass(frozen=True, kw_only=True)
class StreamingArgs(StorePlacement):
    """Inputs of `Streaming`: the placement and encryption every store has (`StorePlacement`:
    the cluster name is `<name_prefix>-<component name>`; `kms_key_arn` is the streaming
    domain's key; the broker logs go to a `logs_kms_key_arn` group), and:

    Attributes:
        subnet_ids: isolated subnets, one per availability zone (2 or 3).
        kafka_version: pinned MSK Kafka version.
        broker_count: brokers in total; a multiple of the number of subnets.
        instance_type: broker instance type, e.g. `kafka.t3.small` (dev), `kafka.m7g.large`.
        volume_size_gib: initial EBS volume per broker.
        max_volume_size_gib: auto scaling ceiling per broker (>= `volume_size_gib`, <= 16384).
        storage_target_utilization: disk utilisation (%) auto scaling keeps below (10..80).
        enhanced_monitoring: CloudWatch level: DEFAULT, PER_BROKER, PER_TOPIC_PER_BROKER or
            PER_TOPIC_PER_PARTITION.
        tls_certificate_authority_arns: ACM Private CA ARNs for mutual-TLS clients (port
            9094); empty (the default) keeps certificate authentication off.
        server_properties: extra or overriding broker properties.
    """

    subnet_ids: Sequence[pulumi.Input[str]]
    kafka_version: str = DEFAULT_KAFKA_VERSION
    broker_count: int = 2
    instance_type: str = DEFAULT_BROKER_TYPE
    volume_size_gib: int = 10
    max_volume_size_gib: int = 100
    storage_target_utilization: int = DEFAULT_STORAGE_TARGET_UTILIZATION
    enhanced_monitoring: str = "DEFAULT"
    tls_certificate_authority_arns: Sequence[pulumi.Input[str]] = ()
    server_properties: Mapping[str, str] = field(default_factory=dict)


# -- rules, one function per fact (settings applies the same) ---------------------------------
def cluster_name_problems(cluster_name: str) -> list[str]:
    if _CLUSTER_NAME.match(cluster_name):
        return []
    return [f"cluster name {cluster_name!r}: 1..64 letters, digits or hyphens, a letter first"]


def kafka_version_problems(version: object) -> list[str]:
    if version in KAFKA_VERSIONS:
        return []
    return [f"unknown Kafka version {version!r}; allowed: {', '.join(KAFKA_VERSIONS)}"]


def broker_type_problems(instance_type: object) -> list[str]:
    if instance_type in ("kafka.t3.small",):  # the only burstable broker MSK offers
        return []
    return instance_type_problems(instance_type, prefix="kafka.", families=BROKER_FAMILIES)


def broker_count_problems(broker_count: int, zones: int) -> list[str]:
    if zones not in ZONES:
        return [f"zones {zones}: MSK needs {' or '.join(map(str, ZONES))} (one subnet per zone)"]
    if broker_count < zones or broker_count % zones:
        return [
            f"brokerCount {broker_count} is not a multiple of the {zones} zones (MSK places the "
            "same number of brokers in every zone)"
        ]
    return []


# Partition replicas (leaders and followers) per Standard broker, by broker size: (recommended,
# the most that still supports update operations). AWS, MSK Developer Guide, "Best practices for
# Standard brokers", "Right-size your cluster: Number of partitions per Standard broker". Above
# the maximum MSK refuses configuration updates, broker-type changes and SCRAM secret
# association (a later `pulumi up` fails); above the recommendation it runs, untested at load.
PARTITIONS_PER_BROKER = {
    "small": (300, 300), "large": (1000, 1500), "xlarge": (1000, 1500),
    "2xlarge": (2000, 3000),
}  # fmt: skip
PARTITIONS_PER_LARGE_BROKER = (4000, 6000)  # 4xlarge and larger
# Kafka's own topics count too: __consumer_offsets (offsets.topic.num.partitions, 50 by default)
# at the cluster's default replication factor.
INTERNAL_PARTITIONS = 50


def partition_limits(broker_type: str) -> tuple[int, int]:
    """(recommended, maximum) partition replicas per broker of `broker_type` (`kafka.m7g.large`)."""
    size = broker_type.rsplit(".", 1)[-1]
    return PARTITIONS_PER_BROKER.get(size, PARTITIONS_PER_LARGE_BROKER)


def partitions_per_broker(
    broker_count: int, topics: Sequence[tuple[int, int]], default_factor: int
) -> int:
    """Partition replicas the busiest broker holds: every topic's partitions x replication
    factor (`topics`: (partitions, factor)) plus Kafka's internal offsets topic, spread as
    evenly as Kafka's assignment spreads them (rounded up)."""
    replicas = sum(p * f for p, f in topics) + INTERNAL_PARTITIONS * default_factor
    return -(-replicas // broker_count)


def partition_load_problems(
    broker_type: str, broker_count: int, topics: Sequence[tuple[int, int]], default_factor: int
) -> tuple[list[str], list[str]]:
    """(problems, warnings) for the partitions the topics put on each broker."""
    per_broker = partitions_per_broker(broker_count, topics, default_factor)
    recommended, maximum = partition_limits(broker_type)
    found = (
        f"the topics put about {per_broker} partition replicas on each of {broker_count} "
        f"{broker_type} brokers (partitions x replication factor, with Kafka's "
        f"{INTERNAL_PARTITIONS}-partition offsets topic)"
    )
    if per_broker > maximum:
        return [
            f"{found}: more than the {maximum} MSK allows for updates on that broker size (it "
            "would refuse configuration and broker-type changes); use fewer partitions, more "
            "brokers or a larger broker type"
        ], []
    if per_broker > recommended:
        return [], [f"{found}: more than the {recommended} AWS recommends for that broker size"]
    return [], []


def storage_problems(volume_gib: int, max_volume_gib: int, target_utilization: int) -> list[str]:
    problems = []
    low, high = VOLUME_GIB
    if not low <= volume_gib <= max_volume_gib <= high:
        problems.append(
            f"volume sizes {volume_gib}..{max_volume_gib} GiB: need {low} <= volumeSizeGib <= "
            f"maxVolumeSizeGib <= {high}"
        )
    low, high = STORAGE_TARGET_UTILIZATION
    if not low <= target_utilization <= high:
        problems.append(f"storageTargetUtilization {target_utilization}: allowed {low}..{high}")
    return problems


def validate(args: StreamingArgs, name: str) -> list[str]:
    """Every problem MSK would raise at apply time (empty when valid)."""
    problems = cluster_name_problems(f"{args.name_prefix}-{name}")
    problems += placement_problems(args, "the brokers")
    problems += kafka_version_problems(args.kafka_version)
    problems += broker_type_problems(args.instance_type)
    problems += broker_count_problems(args.broker_count, len(args.subnet_ids))
    problems += storage_problems(
        args.volume_size_gib, args.max_volume_size_gib, args.storage_target_utilization
    )
    if args.enhanced_monitoring not in MONITORING_LEVELS:
        problems.append(
            f"enhancedMonitoring {args.enhanced_monitoring!r}: allowed "
            f"{', '.join(MONITORING_LEVELS)}"
        )
    return problems


def default_replication_factor(broker_count: int) -> int:
    """Replicas per partition the cluster defaults to: three where there are three brokers."""
    return min(3, broker_count)


def min_insync_replicas(broker_count: int) -> int:
    """Replicas that must acknowledge an `acks=all` write: 2 once a third broker exists, so
    one broker can fail (or be patched) without stopping producers."""
    return 2 if broker_count >= 3 else 1


def server_properties(broker_count: int, overrides: Mapping[str, str] | None = None) -> str:
    """Broker `server.properties`: durable defaults that fit `broker_count`."""
    replication = default_replication_factor(broker_count)
    min_isr = min_insync_replicas(broker_count)
    props = {
        # Topics are created deliberately (with their own partitions/retention), not by typos.
        "auto.create.topics.enable": "false",
        "default.replication.factor": str(replication),
        "min.insync.replicas": str(min_isr),
        "offsets.topic.replication.factor": str(replication),
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": str(min_isr),
        # Never elect an out-of-sync replica: availability is not worth silent data loss.
        "unclean.leader.election.enable": "false",
        "num.partitions": "3",
        "log.retention.hours": "168",
        "delete.topic.enable": "true",
    }
    props.update(overrides or {})
    return "".join(f"{key}={value}\n" for key, value in props.items())


class Streaming(pulumi.ComponentResource):
    """MSK cluster with its security group, configuration, broker logs and storage scaling.

    Outputs: `cluster_arn`, `cluster_name`, `cluster_uuid`, `bootstrap_brokers` (SASL/IAM),
    `security_group_id`.
    """

    def __init__(
        self, name: str, args: StreamingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid(
            "Streaming", name, args, lambda: validate(args, name)
        )  # before registering anything
        super().__init__("platform:streaming:Streaming", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster_name = f"{args.name_prefix}-{name}"
        mtls = bool(args.tls_certificate_authority_arns)

        self.security_group = store_security_group(
            self,
            name,
            args.vpc_id,
            SASL_IAM_PORT,
            args.allowed_security_group_ids,
            "Kafka SASL/IAM",
        )
        if mtls:
            for label, source in args.allowed_security_group_ids.items():
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-mtls-from-{label}",
                    security_group_id=self.security_group.id,
                    referenced_security_group_id=source,
                    ip_protocol="tcp",
                    from_port=MTLS_PORT,
                    to_port=MTLS_PORT,
                    description=f"Kafka mutual TLS from {label}",
                    opts=child,
                )

        configuration = aws.msk.Configuration(
            f"{name}-config",
            kafka_versions=[args.kafka_version],
            description=f"{cluster_name} broker defaults",
            server_properties=server_properties(args.broker_count, args.server_properties),
            opts=child,
        )
        log_group = encrypted_log_group(
            f"{name}-broker-logs",
            name=f"/aws/msk/{cluster_name}/broker",
            kms_key_arn=args.logs_kms_key_arn,
            retention_days=args.log_retention_days,
            opts=child,
        )

        self.cluster = aws.msk.Cluster(
            f"{name}-cluster",
            cluster_name=cluster_name,
            kafka_version=args.kafka_version,
            number_of_broker_nodes=args.broker_count,
            broker_node_group_info=aws.msk.ClusterBrokerNodeGroupInfoArgs(
                client_subnets=list(args.subnet_ids),
                instance_type=args.instance_type,
                security_groups=[self.security_group.id],
                storage_info={"ebs_storage_info": {"volume_size": args.volume_size_gib}},
            ),
            client_authentication=aws.msk.ClusterClientAuthenticationArgs(
                sasl=aws.msk.ClusterClientAuthenticationSaslArgs(iam=True, scram=False),
                tls=(
                    aws.msk.ClusterClientAuthenticationTlsArgs(
                        certificate_authority_arns=list(args.tls_certificate_authority_arns)
                    )
                    if mtls
                    else None
                ),
                unauthenticated=False,
            ),
            encryption_info=aws.msk.ClusterEncryptionInfoArgs(
                encryption_at_rest_kms_key_arn=args.kms_key_arn,
                encryption_in_transit=aws.msk.ClusterEncryptionInfoEncryptionInTransitArgs(
                    client_broker="TLS", in_cluster=True
                ),
            ),
            configuration_info=aws.msk.ClusterConfigurationInfoArgs(
                arn=configuration.arn, revision=configuration.latest_revision
            ),
            logging_info=aws.msk.ClusterLoggingInfoArgs(
                broker_logs=aws.msk.ClusterLoggingInfoBrokerLogsArgs(
                    cloudwatch_logs=aws.msk.ClusterLoggingInfoBrokerLogsCloudwatchLogsArgs(
                        enabled=True, log_group=log_group.name
                    )
                )
            ),
            enhanced_monitoring=args.enhanced_monitoring,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                retain_on_delete=args.protect,
                ignore_changes=[_VOLUME_SIZE_PATH],
            ),
        )

        target = aws.appautoscaling.Target(
            f"{name}-storage",
            service_namespace="kafka",
            scalable_dimension="kafka:broker-storage:VolumeSize",
            resource_id=self.cluster.arn,
            min_capacity=1,
            max_capacity=args.max_volume_size_gib,
            opts=child,
        )
        aws.appautoscaling.Policy(
            f"{name}-storage",
            name=f"{cluster_name}-broker-storage",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {
                    "predefined_metric_type": "KafkaBrokerStorageUtilization"
                },
                "target_value": args.storage_target_utilization,
                "disable_scale_in": True,  # EBS volumes cannot shrink
            },
            opts=child,
        )

        self.cluster_arn = self.cluster.arn
        self.cluster_name = self.cluster.cluster_name
        self.cluster_uuid = self.cluster.cluster_uuid
        self.bootstrap_brokers = self.cluster.bootstrap_brokers_sasl_iam
        self.security_group_id = self.security_group.id
        self.register_outputs(
            {
                "clusterArn": self.cluster_arn,
                "clusterName": self.cluster_name,
                "clusterUuid": self.cluster_uuid,
                "bootstrapBrokers": self.bootstrap_brokers,
                "securityGroupId": self.security_group_id,
            }
        )
