"""The stack's outputs: what operators, the release tool and other programs read with
`pulumi stack output` (endpoints, names, ARNs; the kubeconfig as a secret)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cluster import Cluster
from components.network import Network
from components.observability import Observability
from components.recovery import RecoverySite
from components.storage import Buckets
from infra.config import Settings
from infra.wiring.data_stores import DataStores
from infra.wiring.foundation import Regions
from infra.wiring.services import WiredService


@dataclass(frozen=True)
class Platform:
    """What the program built, for the exports (and for tests that want the components)."""

    regions: Regions
    network: Network
    buckets: Buckets
    cluster: Cluster
    stores: DataStores
    observability: Observability
    services: list[WiredService]
    recovery: RecoverySite | None = None


def export(settings: Settings, platform: Platform) -> None:
    network, cluster, stores = platform.network, platform.cluster, platform.stores
    database, cache, streaming = stores.database, stores.cache, stores.streaming
    pulumi.export("environment", settings.environment)
    pulumi.export("region", settings.region)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("subnetIds", network.subnet_ids)
    pulumi.export("dbSubnetGroupName", network.db_subnet_group_name)
    pulumi.export("cacheSubnetGroupName", network.cache_subnet_group_name)
    pulumi.export("bucketNames", platform.buckets.names)
    pulumi.export("accessLogBucketName", platform.buckets.log_bucket.bucket)
    pulumi.export("replicaBucketNames", platform.buckets.replica_names)
    pulumi.export("kmsKeyArns", platform.regions.keys.arns)
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("clusterEndpoint", cluster.endpoint)
    pulumi.export("oidcProviderArn", cluster.oidc_provider_arn)
    pulumi.export("kubeconfig", pulumi.Output.secret(cluster.kubeconfig))
    pulumi.export(
        "database",
        {
            "endpoint": database.endpoint,
            "readerEndpoint": database.reader_endpoint,
            "port": database.port,
            "masterSecretArn": database.master_secret_arn,
            "proxyEndpoint": database.proxy_endpoint,
            "loginsJob": stores.logins.job_name,
            # What a restore needs (the DR drill, infra/drill/outputs.py).
            "clusterIdentifier": database.cluster_identifier,
            "clusterArn": database.cluster_arn,
            "securityGroupId": database.security_group_id,
            "backupVaultName": database.backup_vault_name,
            "backupRoleArn": database.backup_role_arn,
        },
    )
    pulumi.export(
        "cache",
        {
            "primaryEndpoint": cache.primary_endpoint,
            "readerEndpoint": cache.reader_endpoint,
            "port": cache.port,
            "authSecretArn": cache.auth_secret_arn,
            "replicationGroupId": cache.group_id,
            "securityGroupId": cache.security_group_id,
        },
    )
    recovery, replica_keys = platform.recovery, platform.regions.replica_keys
    pulumi.export(
        "replica",
        {
            "region": settings.replica_region,
            "database": {
                "backupVaultName": database.replica_backup_vault_name,
                "kmsKeyArn": replica_keys.arns["database"],
                "subnetGroupName": recovery.db_subnet_group_name,
                "securityGroupId": recovery.database_security_group_id,
            },
        }
        if recovery is not None and replica_keys is not None
        else None,
    )
    pulumi.export(
        "streaming",
        {
            "clusterArn": streaming.cluster_arn,
            "bootstrapBrokersSaslIam": streaming.bootstrap_brokers,
        },
    )
    pulumi.export(
        "services",
        {
            wired.settings.name: {
                "stableService": wired.component.stable_service_name,
                "previewService": wired.component.preview_service_name,
                "roleArn": wired.access.role_arn,
                # The release state as applied: the release tool and every deploy take these
                # over the stack file (infra/release/sync.py), so a merge never reverts one.
                "activeColor": wired.component.active_color,
                "tags": {"blue": wired.settings.tags.blue, "green": wired.settings.tags.green},
                "trafficSplit": wired.settings.traffic_split,
                "idleReplicas": wired.settings.idle_replicas,
            }
            for wired in platform.services
        },
    )
