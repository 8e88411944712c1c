"""The program: build every component for one stack, in dependency order, and export.

`build(settings)` is the whole program; `infra/__main__.py` only loads settings and calls it,
so tests and the offline plan run exactly what `pulumi up` runs. This module only wires: every
environment decision is a settings value the profile supplies, and every rule lives in the
component that owns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alb import AlbGroup
from components.app_access import (
    ApplicationAccess,
    ApplicationAccessArgs,
    CacheConnection,
    DatabaseConnection,
    StreamingConnection,
)
from components.aws_catalog import ELB_ACCOUNT_LOG_DELIVERY_REGIONS
from components.bluegreen import BlueGreenService, BlueGreenServiceArgs, ContainerResources
from components.cache import Cache, CacheArgs
from components.cluster import Cluster, ClusterArgs, NodeGroupSpec, NodeTaint
from components.database import Database, DatabaseArgs
from components.database import args as database_rules
from components.database.logins import DatabaseLogins, DatabaseLoginsArgs, login_for_service
from components.encryption import Keys, KeysArgs
from components.network import Network, NetworkArgs
from components.observability import (
    DataStoreThresholds,
    Observability,
    ObservabilityArgs,
    Placement,
    SlackAlerting,
    Toleration,
    UiExposure,
)
from components.storage import AlbLogDelivery, Buckets, BucketsArgs, ReplicaArgs
from components.streaming import Streaming, StreamingArgs
from components.topics import Topics, TopicsArgs, TopicSpec
from infra import naming
from infra.settings import SecretSetting, ServiceSettings, Settings

KEY_DOMAINS = ("logs", "storage", "database", "cache", "streaming", "cluster", "backup")
REPLICA_KEY_DOMAINS = ("storage", "backup")
# Stands in for a secret whose plaintext the offline plan cannot read (never deployed: the
# running program decrypts the real value).
OFFLINE_SECRET = "offline-placeholder"
# max_connections of the smallest Aurora writer the profiles use, when the class is unknown.
DEFAULT_MAX_CONNECTIONS = 450


@dataclass(frozen=True)
class Platform:
    """What `build` made, for the exports (and for tests that want the components)."""

    network: Network
    keys: Keys
    buckets: Buckets
    cluster: Cluster
    database: Database
    cache: Cache
    streaming: Streaming
    logins: DatabaseLogins
    observability: Observability
    services: list[tuple[ServiceSettings, BlueGreenService, ApplicationAccess]]


def build(settings: Settings) -> Platform:
    """Register every resource of the platform for `settings` and export its outputs."""
    primary = _provider("aws", settings.region, settings)
    opts = pulumi.ResourceOptions(providers={"aws": primary})
    keys = _keys("keys", KEY_DOMAINS, settings, primary)

    replica = replica_keys = secondary = None
    if settings.replica_region:
        secondary = _provider("aws-replica", settings.replica_region, settings)
        replica_keys = _keys("replica-keys", REPLICA_KEY_DOMAINS, settings, secondary)
        replica = ReplicaArgs(
            provider=secondary,
            region=settings.replica_region,
            kms_key_arn=replica_keys.arns["storage"],
        )

    network = Network(naming.NETWORK, _network_args(settings, keys), opts)
    buckets = Buckets(
        naming.BUCKETS,
        BucketsArgs(
            name_prefix=settings.name_prefix,
            kms_key_arn=keys.arns["storage"],
            noncurrent_version_expiry_days=settings.storage.noncurrent_version_expiry_days,
            infrequent_access_after_days=settings.storage.infrequent_access_after_days,
            access_log_expiry_days=settings.storage.access_log_expiry_days,
            force_destroy=settings.storage.force_destroy,
            protect=settings.protect,
            replica=replica,
            alb_log_delivery=AlbLogDelivery(elb_account_arn=_elb_account(settings, primary)),
        ),
        opts,
    )
    alb_groups = _alb_groups(settings, buckets)
    cluster = Cluster(naming.CLUSTER, _cluster_args(settings, network, keys), opts)

    stores = _DataStores(settings, network, keys, cluster)
    database = Database(
        naming.DATABASE, _database_args(settings, stores, secondary, replica_keys), opts
    )
    cache = Cache(naming.CACHE, _cache_args(settings, stores), opts)
    streaming = Streaming(naming.STREAMING, _streaming_args(settings, stores), opts)
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
    logins = _database_logins(settings, keys, cluster, database, opts)
    observability = Observability(
        "observability", _observability_args(settings, network, cluster, alb_groups), opts
    )
    services = [
        _service(settings, network, cluster, database, cache, keys, streaming, service, opts,
                 alb_groups, observability, ready=[logins, topics, observability.crds_ready])
        for service in settings.services
    ]  # fmt: skip

    for warning in settings.warnings():
        pulumi.log.warn(warning)
    platform = Platform(
        network,
        keys,
        buckets,
        cluster,
        database,
        cache,
        streaming,
        logins,
        observability,
        services,
    )
    _export(settings, platform)
    return platform


def _provider(name: str, region: str, settings: Settings) -> aws.Provider:
    """One AWS provider per region, carrying the default tags (set once, not per resource)."""
    return aws.Provider(name, region=region, default_tags={"tags": settings.default_tags()})


def _keys(name: str, domains, settings: Settings, provider: aws.Provider) -> Keys:
    """The data-domain keys of one region (the provider decides which)."""
    return Keys(
        name,
        KeysArgs(
            domains=domains,
            alias_prefix=settings.name_prefix,
            deletion_window_days=settings.keys.deletion_window_days,
            protect=settings.protect,
        ),
        pulumi.ResourceOptions(providers={"aws": provider}),
    )


def _elb_account(settings: Settings, provider: aws.Provider) -> pulumi.Output[str] | None:
    """The region's ELB account where load balancers deliver access logs as that account."""
    if settings.region not in ELB_ACCOUNT_LOG_DELIVERY_REGIONS:
        return None
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    return aws.elb.get_service_account_output(opts=invoke).arn


def _alb_groups(settings: Settings, buckets: Buckets) -> dict[str, AlbGroup]:
    """One shared ALB per visibility: every internal service (and the monitoring UIs) on one,
    every public service on another, both logging to the log bucket."""
    return {
        "internal": AlbGroup(
            name=f"{settings.name_prefix}-internal",
            scheme="internal",
            access_logs_bucket=buckets.log_bucket.bucket,
        ),
        "public": AlbGroup(
            name=f"{settings.name_prefix}-public",
            scheme="internet-facing",
            access_logs_bucket=buckets.log_bucket.bucket,
            waf_acl_arn=settings.alb.waf_acl_arn,
        ),
    }


def _network_args(settings: Settings, keys: Keys) -> NetworkArgs:
    config = settings.network
    return NetworkArgs(
        name_prefix=settings.name_prefix,
        cidr=config.cidr,
        az_count=config.az_count,
        nat_gateways=config.nat_gateways,
        flow_log_kms_key_arn=keys.arns["logs"],
        flow_log_retention_days=config.flow_log_retention_days,
        interface_endpoints=config.interface_endpoints,
        cluster_name=settings.name_prefix,
    )


def _cluster_args(settings: Settings, network: Network, keys: Keys) -> ClusterArgs:
    config = settings.cluster
    return ClusterArgs(
        cluster_name=settings.name_prefix,
        vpc_id=network.vpc_id,
        private_subnet_ids=network.subnet_ids["private"],
        admin_role_arns=config.admin_role_arns,
        secrets_kms_key_arn=keys.arns["cluster"],
        log_kms_key_arn=keys.arns["logs"],
        ebs_kms_key_arn=keys.arns["cluster"],
        kubernetes_version=config.version,
        public_endpoint=config.endpoint_public_access,
        public_access_cidrs=config.public_access_cidrs,
        # Deployers and CI runners in the VPC reach the private endpoint (prod's only one).
        private_access_cidrs=[settings.network.cidr, *config.private_access_cidrs],
        allow_public_access_from_anywhere=config.allow_public_access_from_anywhere,
        log_retention_days=config.log_retention_days,
        imds_hop_limit=config.imds_hop_limit,
        cluster_autoscaler=settings.app.autoscaling,
        controller_replicas=config.controller_replicas,
        egress=network.egress,
        namespaces=config.namespaces,
        node_groups=[
            NodeGroupSpec(
                name=group_name,
                **group.model_dump(exclude={"taints"}),
                taints=[NodeTaint(**taint.model_dump()) for taint in group.taints],
            )
            for group_name, group in config.node_groups.items()
        ],
        protect=settings.protect,
        controller_tags=settings.default_tags(),
    )


def _observability_args(
    settings: Settings, network: Network, cluster: Cluster, alb_groups: dict[str, AlbGroup]
) -> ObservabilityArgs:
    config = settings.observability
    database = settings.database
    # An unknown instance class (outside database_rules' memory rule): a conservative limit.
    max_connections = database_rules.max_connections(
        database.mode == "serverless", database.max_capacity or 0, database.instance_class or ""
    )
    placement = None
    if config.node_group is not None:
        group = settings.cluster.node_groups[config.node_group]
        placement = Placement(
            node_selector=group.labels,
            tolerations=[Toleration(t.key, t.value, t.effect) for t in group.taints],
        )
    ui = None
    if config.ui_domain is not None:
        ui = UiExposure(
            alb=alb_groups["internal"],
            certificate_arn=config.ui_certificate_arn,
            domain=config.ui_domain,
            source_cidrs=network.subnet_cidrs["private"],
        )
    alerting = None
    if settings.slack_webhook_url is not None:
        alerting = SlackAlerting(
            # Offline the plaintext is unknown; the running program always has it.
            webhook_url=_secret(settings.slack_webhook_url),
            critical_channel=config.slack_critical_channel,
            warning_channel=config.slack_warning_channel,
        )
    password = settings.grafana_admin_password
    return ObservabilityArgs(
        cluster_name=settings.name_prefix,
        region=settings.region,
        k8s_provider=cluster.provider,
        control_plane_cidrs=[settings.network.cidr],
        oidc_provider_arn=cluster.oidc_provider_arn,
        oidc_issuer=cluster.oidc_issuer,
        level=config.level,
        prometheus_retention=config.prometheus_retention,
        prometheus_storage_gib=config.prometheus_storage_gib,
        elasticsearch_storage_gib=config.elasticsearch_storage_gib or 0,
        log_retention_days=config.log_retention_days or 1,
        trace_retention_days=config.trace_retention_days or 1,
        # Warn at 80 % of the writer's default max_connections.
        alert_thresholds=DataStoreThresholds(
            aurora_connections=int(0.8 * (max_connections or DEFAULT_MAX_CONNECTIONS))
        ),
        alerting=alerting,
        grafana_admin_password=_secret(password) if password is not None else None,
        placement=placement,
        ui=ui,
        aws_resource_tags={"project": settings.default_tags()["project"], "stack": settings.stack},
        protect=settings.protect,
        # The load balancer controller's Fail-closed webhooks first (see Cluster).
        cluster_ready=list(cluster.releases.values()),
    )


def _secret(setting: SecretSetting) -> pulumi.Output[str]:
    """A secret setting as a Pulumi secret. Offline (`make plan`) only the stack file's
    ciphertext is known, so a placeholder stands in; `pulumi up` always has the value."""
    value = setting.value.get_secret_value() if setting.value is not None else OFFLINE_SECRET
    return pulumi.Output.secret(value)


class _DataStores:
    """What the three data stores share: isolated placement, keys, logs, who may connect."""

    def __init__(self, settings: Settings, network: Network, keys: Keys, cluster: Cluster) -> None:
        self.settings, self.network, self.keys = settings, network, keys
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


def _database_args(settings, stores: _DataStores, secondary, replica_keys) -> DatabaseArgs:
    config = settings.database
    serverless = config.mode == "serverless"
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
        replica_backup_kms_key_arn=replica_keys.arns["backup"] if backup_copy else None,
        proxy=config.proxy,
        proxy_subnet_ids=stores.network.subnet_ids["isolated"],
        proxy_logins=[login_for_service(s.name) for s in settings.services],
    )


def _cache_args(settings: Settings, stores: _DataStores) -> CacheArgs:
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
    )


def _streaming_args(settings: Settings, stores: _DataStores) -> StreamingArgs:
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


def _database_logins(settings, keys, cluster, database, opts) -> DatabaseLogins:
    """The bootstrap Job that gives every service its IAM-authenticated database login."""
    in_cluster = pulumi.ResourceOptions.merge(
        opts,
        pulumi.ResourceOptions(
            providers={"kubernetes": cluster.provider},
            # The writer must accept connections, and the cluster's webhooks must be serving.
            depends_on=[
                cluster.system_namespace,
                *database.instances,
                *cluster.releases.values(),
            ],
        ),
    )
    return DatabaseLogins(
        "database-logins",
        DatabaseLoginsArgs(
            k8s_provider=cluster.provider,
            namespace=cluster.args.system_namespace,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            master_secret_arn=database.master_secret_arn,
            master_secret_kms_key_arn=keys.arns["database"],
            host=database.endpoint,
            port=database.port,
            database_name=database.database_name,
            logins=[login_for_service(s.name) for s in settings.services],
            region=settings.region,
        ),
        in_cluster,
    )


def _service(
    settings: Settings,
    network: Network,
    cluster: Cluster,
    database: Database,
    cache: Cache,
    keys: Keys,
    streaming: Streaming,
    service: ServiceSettings,
    opts: pulumi.ResourceOptions,
    alb_groups: dict[str, AlbGroup],
    observability: Observability,
    ready: list[pulumi.Resource],
):
    """One blue-green service and its own IRSA role + connection ConfigMap.

    `ready` (the database logins and topics) must exist before the service's pods start.
    """
    # AWS children (the IRSA role) use the tagged AWS provider, in-cluster ones the cluster's.
    in_cluster = pulumi.ResourceOptions.merge(
        opts,
        pulumi.ResourceOptions(
            providers={"kubernetes": cluster.provider},
            # The load balancer controller's webhooks must be up before Services and the
            # Ingress are created, and it must outlive the Ingress on destroy (its finalizer
            # deletes the ALB; without the controller the VPC cannot be deleted).
            depends_on=[cluster.namespaces[service.namespace], *cluster.releases.values()],
        ),
    )
    access = ApplicationAccess(
        f"{service.name}-access",
        ApplicationAccessArgs(
            k8s_provider=cluster.provider,
            namespace=service.namespace,
            service_account=service.name,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            config_map_name=f"{service.name}-platform",
            database=DatabaseConnection(
                endpoint=database.endpoint,
                reader_endpoint=database.reader_endpoint,
                port=database.port,
                database_name=database.database_name,
                cluster_resource_id=database.cluster_resource_id,
                user=login_for_service(service.name),  # one IAM-auth login per service
                proxy_endpoint=database.proxy_endpoint,
                proxy_resource_id=database.proxy_resource_id,
            ),
            cache=CacheConnection(
                endpoint=cache.primary_endpoint,
                reader_endpoint=cache.reader_endpoint,
                port=cache.port,
                auth_secret_arn=cache.auth_secret_arn,
                kms_key_arn=keys.arns["cache"],
            ),
            streaming=StreamingConnection(
                cluster_arn=streaming.cluster_arn,
                cluster_name=streaming.cluster_name,
                cluster_uuid=streaming.cluster_uuid,
                bootstrap_brokers=streaming.bootstrap_brokers,
                topics=[topic.name for topic in service.topics],
                consumer_group_prefix=service.name,
            ),
            traces_endpoint=observability.collector_endpoint,
        ),
        in_cluster,
    )
    component = BlueGreenService(
        service.name,
        BlueGreenServiceArgs(
            service_name=service.name,
            namespace=service.namespace,
            image=service.image,
            tags={"blue": service.tags.blue, "green": service.tags.green},
            provider=cluster.provider,
            active_color=service.active_color,
            replicas=settings.app.replicas,
            idle_replicas=service.idle_replicas,
            traffic_split=service.traffic_split,
            port=service.port,
            service_port=service.service_port,
            health_path=service.health_path,
            resources=ContainerResources(**service.resources.model_dump()),
            env_config_map=f"{service.name}-platform",
            irsa_role_arn=access.role_arn,
            certificate_arn=service.certificate_arn,
            hostnames=service.hostnames,
            alb=alb_groups["public" if service.public else "internal"],
            prometheus_pod_monitor=True,
            monitoring_namespace=observability.monitoring_namespace,
            alb_source_cidrs=network.subnet_cidrs["public" if service.public else "private"],
            autoscaling=settings.app.autoscaling,
            zone_spread_strict=settings.app.zone_spread_strict,
        ),
        pulumi.ResourceOptions.merge(
            in_cluster, pulumi.ResourceOptions(depends_on=[access, *ready])
        ),
    )
    return service, component, access


def _export(settings: Settings, platform: Platform) -> None:
    network, cluster = platform.network, platform.cluster
    database, cache, streaming = platform.database, platform.cache, platform.streaming
    pulumi.export("environment", settings.environment)
    pulumi.export("region", settings.region)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("subnetIds", network.subnet_ids)
    pulumi.export("dbSubnetGroupName", network.db_subnet_group_name)
    pulumi.export("cacheSubnetGroupName", network.cache_subnet_group_name)
    pulumi.export("bucketNames", platform.buckets.names)
    pulumi.export("accessLogBucketName", platform.buckets.log_bucket.bucket)
    pulumi.export("replicaBucketNames", platform.buckets.replica_names)
    pulumi.export("kmsKeyArns", platform.keys.arns)
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
            "loginsJob": platform.logins.job_name,
        },
    )
    pulumi.export(
        "cache",
        {
            "primaryEndpoint": cache.primary_endpoint,
            "readerEndpoint": cache.reader_endpoint,
            "port": cache.port,
            "authSecretArn": cache.auth_secret_arn,
        },
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
            svc.name: {
                "stableService": component.stable_service_name,
                "previewService": component.preview_service_name,
                "activeColor": component.active_color,
                "roleArn": access.role_arn,
            }
            for svc, component, access in platform.services
        },
    )
