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

from components.store_security import store_security_group

# 3.8.x is MSK's recommended Apache Kafka version (MSK patches within the 3.8 line itself).
DEFAULT_KAFKA_VERSION = "3.8.x"
SASL_IAM_PORT = 9098
MTLS_PORT = 9094
MONITORING_LEVELS = ("DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION")
_CLUSTER_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,63}$")
# Auto scaling grows volumes outside Pulumi; the program's size is only the initial one.
_VOLUME_SIZE_PATH = "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize"


@dataclass(frozen=True, kw_only=True)
class StreamingArgs:
    """Inputs of `Streaming`.

    Attributes:
        name_prefix: stack-derived prefix of physical names, e.g. `platform-prod`; the cluster
            name is `<name_prefix>-<component name>`.
        vpc_id: VPC of the brokers' security group.
        subnet_ids: isolated subnets, one per availability zone (2 or 3).
        allowed_security_group_ids: label -> security group id allowed to connect (EKS node
            and cluster security groups); one described ingress rule per entry and port.
        kms_key_arn: customer-managed key (streaming domain) for data at rest.
        logs_kms_key_arn: customer-managed key (logs domain) for the broker log group.
        log_retention_days: retention of the broker log group.
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
        protect: protect + retain the cluster.
    """

    name_prefix: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    allowed_security_group_ids: Mapping[str, pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    logs_kms_key_arn: pulumi.Input[str]
    log_retention_days: int = 30
    kafka_version: str = DEFAULT_KAFKA_VERSION
    broker_count: int = 2
    instance_type: str = "kafka.t3.small"
    volume_size_gib: int = 10
    max_volume_size_gib: int = 100
    storage_target_utilization: int = 60
    enhanced_monitoring: str = "DEFAULT"
    tls_certificate_authority_arns: Sequence[pulumi.Input[str]] = ()
    server_properties: Mapping[str, str] = field(default_factory=dict)
    protect: bool = False


def validate(name: str, args: StreamingArgs) -> None:
    """Reject settings MSK would reject at apply time."""
    cluster_name = f"{args.name_prefix}-{name}"
    if not _CLUSTER_NAME.match(cluster_name):
        raise ValueError(
            f"cluster name {cluster_name!r}: 1..64 letters, digits or hyphens, starting with a "
            "letter"
        )
    if not args.allowed_security_group_ids:
        raise ValueError("allowed_security_group_ids is empty: nothing could reach the brokers")
    zones = len(args.subnet_ids)
    if zones not in (2, 3):
        raise ValueError(f"subnet_ids has {zones} subnets; MSK needs 2 or 3 (one per zone)")
    if args.broker_count < zones or args.broker_count % zones:
        raise ValueError(
            f"broker_count {args.broker_count} must be a positive multiple of the {zones} "
            "subnets (MSK places the same number of brokers in every zone)"
        )
    if not 1 <= args.volume_size_gib <= args.max_volume_size_gib <= 16384:
        raise ValueError(
            f"volume sizes {args.volume_size_gib}..{args.max_volume_size_gib} GiB: need "
            "1 <= volume_size_gib <= max_volume_size_gib <= 16384"
        )
    if not 10 <= args.storage_target_utilization <= 80:
        raise ValueError(
            f"storage_target_utilization {args.storage_target_utilization}: allowed 10..80"
        )
    if args.enhanced_monitoring not in MONITORING_LEVELS:
        raise ValueError(
            f"enhanced_monitoring {args.enhanced_monitoring!r}: allowed {MONITORING_LEVELS}"
        )


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
        validate(name, args)  # before registering anything
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
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-broker-logs",
            name=f"/aws/msk/{cluster_name}/broker",
            kms_key_id=args.logs_kms_key_arn,
            retention_in_days=args.log_retention_days,
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
