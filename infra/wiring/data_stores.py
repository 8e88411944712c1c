"""Wiring of the data stores (`platform:database`, `cache`, `streaming`, and the services'
`topics`): Aurora, ElastiCache, MSK, the Kafka topics and the database logins Job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.cache import Cache, CacheArgs
from components.cluster import Cluster
from components.database import Database, DatabaseArgs
from components.database.logins import DatabaseLogins, DatabaseLoginsArgs, login_for_service
from components.network import Network
from components.recovery import RecoverySite, RecoverySiteArgs
from components.streaming import Streaming, StreamingArgs
from components.topics import Topics, TopicsArgs, TopicSpec
from infra import naming
from infra.config import Settings
from infra.wiring.foundation import Regions


@dataclass(frozen=True)
class DataStores:
    """What the data-store wiring made."""

    database: Database
    cache: Cache
    streaming: Streaming
    topics: Topics
    logins: DatabaseLogins


def data_stores(
    settings: Settings, network: Network, regions: Regions, cluster: Cluster
) -> DataStores:
    placement = _Placement(settings, network, regions, cluster)
    opts = regions.opts
    database = Database(naming.DATABASE, _database_args(settings, placement, regions), opts)
    cache = Cache(naming.CACHE, _cache_args(settings, placement), opts)
    streaming = Streaming(naming.STREAMING, _streaming_args(settings, placement), opts)
    topics = Topics(
        "topics",
        TopicsArgs(
            cluster_arn=streaming.cluster_arn,
            broker_count=settings.streaming.broker_count,
            topics=[
                TopicSpec(owner=service.name, **topic.model_dump())
                for service in settings.services
                for topic in service.topics
            ],
            protect=settings.protect,
        ),
        opts,
    )
    logins = _database_logins(settings, regions, cluster, database)
    return DataStores(database, cache, streaming, topics, logins)


class _Placement:
    """What the three data stores share: isolated placement, keys, logs, who may connect."""

    def __init__(
        self, settings: Settings, network: Network, regions: Regions, cluster: Cluster
    ) -> None:
        self.settings, self.network, self.keys = settings, network, regions.keys
        # Every node carries the node SG; the cluster SG covers the control plane and pods
        # using security groups for pods. Nothing else may reach a store.
        self.allowed = {
            "nodes": cluster.node_security_group_id,
            "cluster": cluster.cluster_security_group_id,
        }

    def common(self, domain: str, log_retention_days: int) -> dict[str, Any]:
        return {
            "name_prefix": self.settings.name_prefix,
            "vpc_id": self.network.vpc_id,
            "allowed_security_group_ids": self.allowed,
            "kms_key_arn": self.keys.arns[domain],
            "logs_kms_key_arn": self.keys.arns["logs"],
            "log_retention_days": log_retention_days,
            "protect": self.settings.protect,
        }


def _database_args(settings: Settings, stores: _Placement, regions: Regions) -> DatabaseArgs:
    config = settings.database
    serverless = config.mode == "serverless"
    secondary, replica_keys = regions.secondary, regions.replica_keys
    backup_copy = config.cross_region_backup and secondary is not None
    capacity = (
        {
            "min_capacity": config.min_capacity,
            "max_capacity": config.max_capacity,
            "seconds_until_auto_pause": config.seconds_until_auto_pause,
            "instance_class": "db.serverless",
        }
        if serverless
        else {"instance_class": config.instance_class}
    )
    return DatabaseArgs(
        **stores.common("database", config.log_retention_days),
        **capacity,
        subnet_group_name=stores.network.db_subnet_group_name,
        engine_version=config.engine_version,
        serverless=serverless,
        instance_count=1 + config.reader_count,
        availability_zones=stores.network.availability_zones if not serverless else (),
        backup_retention_days=config.backup_retention_days,
        # Follows the environment's protection: uat and dev must stay destroyable.
        deletion_protection=settings.protect,
        skip_final_snapshot=config.skip_final_snapshot,
        performance_insights_retention_days=config.performance_insights_retention_days,
        monitoring_interval=config.monitoring_interval,
        backup_kms_key_arn=stores.keys.arns["backup"] if backup_copy else None,
        replica_provider=secondary if backup_copy else None,
        replica_backup_kms_key_arn=(
            replica_keys.arns["backup"] if backup_copy and replica_keys else None
        ),
        proxy=config.proxy,
        proxy_subnet_ids=stores.network.subnet_ids["isolated"],
        proxy_logins=[login_for_service(s.name) for s in settings.services],
    )


def _cache_args(settings: Settings, stores: _Placement) -> CacheArgs:
    config = settings.cache
    return CacheArgs(
        **stores.common("cache", config.log_retention_days),
        subnet_group_name=stores.network.cache_subnet_group_name,
        engine=config.engine,
        engine_version=config.engine_version,
        node_type=config.node_type,
        num_cache_clusters=config.num_cache_clusters,
        multi_az=config.multi_az,
        availability_zones=(
            stores.network.availability_zones[: config.num_cache_clusters]
            if config.multi_az
            else ()
        ),
        snapshot_retention_days=config.snapshot_retention_days,
        final_snapshot=config.final_snapshot,
        data_tiering=config.data_tiering,
    )


def _streaming_args(settings: Settings, stores: _Placement) -> StreamingArgs:
    config = settings.streaming
    return StreamingArgs(
        **stores.common("streaming", config.log_retention_days),
        subnet_ids=stores.network.subnet_ids["isolated"][: config.zone_count],
        kafka_version=config.kafka_version,
        broker_count=config.broker_count,
        instance_type=config.broker_instance_type,
        volume_size_gib=config.volume_size_gib,
        max_volume_size_gib=config.max_volume_size_gib,
        storage_target_utilization=config.storage_target_utilization,
        enhanced_monitoring=config.enhanced_monitoring,
    )


def _database_logins(
    settings: Settings, regions: Regions, cluster: Cluster, database: Database
) -> DatabaseLogins:
    """The bootstrap Job that gives every service its IAM-authenticated database login."""
    in_cluster = pulumi.ResourceOptions.merge(
        regions.opts,
        pulumi.ResourceOptions(
            providers={"kubernetes": cluster.provider},
            # The writer must accept connections (the Job's retries would run out first), and
            # its pod needs nodes and DNS. No webhook intercepts the system namespace's pods.
            depends_on=[
                cluster.system_namespace,
                *database.instances,
                *cluster.workloads_ready,
            ],
        ),
    )
    return DatabaseLogins(
        "database-logins",
        DatabaseLoginsArgs(
            k8s_provider=cluster.provider,
            namespace=cluster.args.system_namespace,
            identity=cluster.pod_identity,
            master_secret_arn=database.master_secret_arn,
            master_secret_kms_key_arn=regions.keys.arns["database"],
            host=database.endpoint,
            port=database.port,
            database_name=database.database_name,
            logins=[login_for_service(s.name) for s in settings.services],
            region=settings.region,
        ),
        in_cluster,
    )


def recovery_site(settings: Settings, regions: Regions) -> RecoverySite | None:
    """The replica region's recovery site, where the stack copies its database backups."""
    cidr = settings.network.recovery_cidr
    if regions.secondary is None or regions.replica_keys is None or cidr is None:
        return None
    if not settings.database.cross_region_backup:
        return None
    return RecoverySite(
        "recovery",
        RecoverySiteArgs(
            name_prefix=f"{settings.name_prefix}-recovery",
            cidr=cidr,
            flow_log_kms_key_arn=regions.replica_keys.arns["logs"],
            flow_log_retention_days=settings.network.flow_log_retention_days,
        ),
        pulumi.ResourceOptions(providers={"aws": regions.secondary}),
    )
