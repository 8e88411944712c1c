"""The program: build every component for one stack, in dependency order, and export.

`build(settings)` is the whole program; `infra/__main__.py` only loads settings and calls it,
so tests and the offline plan run exactly what `pulumi up` runs.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.encryption import Keys, KeysArgs
from components.network import Network, NetworkArgs
from components.storage import Buckets, BucketsArgs, ReplicaArgs
from infra.settings import Settings

KEY_DOMAINS = ("logs", "storage", "database", "cache", "streaming", "cluster", "backup")
REPLICA_KEY_DOMAINS = ("storage", "backup")


def build(settings: Settings) -> None:
    """Register every resource of the platform for `settings` and export its outputs."""
    primary = aws.Provider(
        "aws",
        region=settings.region,
        default_tags={"tags": settings.default_tags()},
    )
    opts = pulumi.ResourceOptions(providers={"aws": primary})

    keys = Keys(
        "keys",
        KeysArgs(
            domains=KEY_DOMAINS,
            alias_prefix=settings.name_prefix,
            deletion_window_days=settings.keys.deletion_window_days,
            protect=settings.protect,
        ),
        opts,
    )

    replica = None
    if settings.replica_region:
        secondary = aws.Provider(
            "aws-replica",
            region=settings.replica_region,
            default_tags={"tags": settings.default_tags()},
        )
        replica_keys = Keys(
            "replica-keys",
            KeysArgs(
                domains=REPLICA_KEY_DOMAINS,
                alias_prefix=settings.name_prefix,
                deletion_window_days=settings.keys.deletion_window_days,
                protect=settings.protect,
            ),
            pulumi.ResourceOptions(providers={"aws": secondary}),
        )
        replica = ReplicaArgs(
            provider=secondary,
            region=settings.replica_region,
            kms_key_arn=replica_keys.arns["storage"],
        )

    network = Network(
        "network",
        NetworkArgs(
            name_prefix=settings.name_prefix,
            cidr=settings.network.cidr,
            az_count=settings.network.az_count,
            nat_gateways=settings.network.nat_gateways,
            flow_log_kms_key_arn=keys.arns["logs"],
            flow_log_retention_days=settings.network.flow_log_retention_days,
            interface_endpoints=settings.network.interface_endpoints,
            cluster_name=settings.name_prefix,
        ),
        opts,
    )

    buckets = Buckets(
        "buckets",
        BucketsArgs(
            name_prefix=settings.name_prefix,
            kms_key_arn=keys.arns["storage"],
            noncurrent_version_expiry_days=settings.storage.noncurrent_version_expiry_days,
            infrequent_access_after_days=settings.storage.infrequent_access_after_days,
            access_log_expiry_days=settings.storage.access_log_expiry_days,
            force_destroy=settings.storage.force_destroy and not settings.protect,
            protect=settings.protect,
            replica=replica,
        ),
        opts,
    )

    pulumi.export("environment", settings.environment)
    pulumi.export("region", settings.region)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("subnetIds", network.subnet_ids)
    pulumi.export("dbSubnetGroupName", network.db_subnet_group_name)
    pulumi.export("cacheSubnetGroupName", network.cache_subnet_group_name)
    pulumi.export("bucketNames", buckets.names)
    pulumi.export("accessLogBucketName", buckets.log_bucket.bucket)
    pulumi.export("replicaBucketNames", buckets.replica_names)
    pulumi.export("kmsKeyArns", keys.arns)
