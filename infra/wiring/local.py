"""The local stack's program: the in-cluster layer on a laptop cluster, no AWS at all.

    kubernetes.Provider (the kubeconfig context platform:local.context names)
      -> the services' namespaces (Pod Security restricted)
      -> LocalDataStores: PostgreSQL, Valkey, Kafka, each service's login and topics
      -> Observability at the stack's level, the same charts as the cloud, without the
         CloudWatch exporter (no AWS metrics to export)
      -> per service: the connection ConfigMap (the AWS key names, local values) and its
         password Secret, then the same BlueGreenService as the cloud, without the ALB Ingress

No AWS provider is configured, and nothing here imports one: the recording of this program
holds no `aws:` resource (tests/test_local_stack.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.bluegreen import BlueGreenService, BlueGreenServiceArgs
from components.database.logins import login_for_service
from components.kubernetes_objects import register
from components.kubernetes_rules import pod_security_labels
from components.local_stores import LocalDataStores, LocalDataStoresArgs
from components.local_stores.access import connection_data, credentials_name
from components.local_stores.manifests import POSTGRES_PORT, VALKEY_PORT
from components.observability import DataStoreThresholds, Observability, ObservabilityArgs
from components.topics import TopicSpec
from infra.config import LocalSettings
from infra.config.services import ServiceSettings
from infra.wiring.observability import secret
from infra.wiring.services import entry_fields

PROVIDER = "local"
# PostgreSQL's own default max_connections: the connection alert warns at 80 % of it.
POSTGRES_MAX_CONNECTIONS = 100


@dataclass(frozen=True)
class LocalPlatform:
    """What the local program built (for the exports and for tests)."""

    provider: k8s.Provider
    namespaces: dict[str, k8s.core.v1.Namespace]
    stores: LocalDataStores
    observability: Observability
    services: dict[str, BlueGreenService]


def build(settings: LocalSettings) -> LocalPlatform:
    local = settings.local
    # An explicit context, never the current one: `pulumi up` cannot hit whichever cluster
    # kubectl last pointed at (a cloud cluster included).
    provider = k8s.Provider(PROVIDER, context=local.context)
    opts = pulumi.ResourceOptions(provider=provider)
    namespaces = {
        name: k8s.core.v1.Namespace(
            f"ns-{name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=name, labels=pod_security_labels("restricted")
            ),
            opts=opts,
        )
        for name in local.namespaces
    }
    stores = LocalDataStores(
        "stores",
        LocalDataStoresArgs(
            k8s_provider=provider,
            client_namespaces=list(local.namespaces),
            logins=[login_for_service(s.name) for s in settings.services],
            topics=[
                TopicSpec(owner=s.name, **t.model_dump())
                for s in settings.services
                for t in s.topics
            ],
            database_name=settings.stores.database_name,
            storage_class=local.storage_class,
            database_storage_gib=settings.stores.database_storage_gib,
            kafka_storage_gib=settings.stores.kafka_storage_gib,
        ),
        opts,
    )
    observability = _observability(settings, provider)
    services = {
        entry.name: _service(settings, entry, provider, namespaces, stores, observability)
        for entry in settings.services
    }
    for warning in settings.warnings():
        pulumi.log.warn(warning)
    platform = LocalPlatform(provider, namespaces, stores, observability, services)
    _export(settings, platform)
    return platform


def _observability(settings: LocalSettings, provider: k8s.Provider) -> Observability:
    config = settings.observability
    password = settings.grafana_admin_password
    return Observability(
        "observability",
        ObservabilityArgs(
            cluster_name=settings.name_prefix,
            region="",
            k8s_provider=provider,
            # The API server's webhook calls come from the nodes' network.
            control_plane_cidrs=list(settings.local.node_cidrs),
            level=config.level,
            prometheus_retention=config.prometheus_retention,
            prometheus_storage_gib=config.prometheus_storage_gib,
            elasticsearch_storage_gib=config.elasticsearch_storage_gib or 0,
            log_retention_days=config.log_retention_days or 1,
            trace_retention_days=config.trace_retention_days or 1,
            alert_thresholds=DataStoreThresholds.for_aurora(POSTGRES_MAX_CONNECTIONS),
            grafana_admin_password=secret(password) if password is not None else None,
            storage_class=settings.local.storage_class,
            cloudwatch_exporter=False,
        ),
        pulumi.ResourceOptions(provider=provider),
    )


def _service(
    settings: LocalSettings,
    entry: ServiceSettings,
    provider: k8s.Provider,
    namespaces: dict[str, k8s.core.v1.Namespace],
    stores: LocalDataStores,
    observability: Observability,
) -> BlueGreenService:
    """One service: its ConfigMap and password Secret, then its blue-green objects."""
    login = login_for_service(entry.name)
    config_map = f"{entry.name}-platform"
    in_namespace = pulumi.ResourceOptions(
        provider=provider, depends_on=[namespaces[entry.namespace]]
    )
    data = connection_data(
        service=entry.name,
        login=login,
        database_host=stores.database_host,
        database_name=settings.stores.database_name,
        cache_host=stores.cache_host,
        bootstrap_brokers=stores.bootstrap_brokers,
        topics=[t.name for t in entry.topics],
        traces_endpoint=observability.collector_endpoint,
    )
    made = [
        register(
            f"{entry.name}-config",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": config_map, "namespace": entry.namespace},
                "data": data,
            },
            in_namespace,
        ),
        k8s.core.v1.Secret(
            f"{entry.name}-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=credentials_name(config_map), namespace=entry.namespace
            ),
            string_data={
                "DB_PASSWORD": stores.login_password(login),
                "CACHE_PASSWORD": stores.cache_password,
            },
            opts=in_namespace,
        ),
    ]
    return BlueGreenService(
        entry.name,
        BlueGreenServiceArgs(
            **entry_fields(entry, settings.app),
            provider=provider,
            env_config_map=config_map,
            env_secret=credentials_name(config_map),
            ingress=False,
            prometheus_pod_monitor=True,
            monitoring_namespace=observability.monitoring_namespace,
            alb_source_cidrs=[],
            api_server_cidrs=list(settings.local.node_cidrs),
        ),
        pulumi.ResourceOptions(
            provider=provider,
            depends_on=[*made, *stores.ready, observability.crds_ready],
        ),
    )


def _export(settings: LocalSettings, platform: LocalPlatform) -> None:
    stores = platform.stores
    pulumi.export("environment", settings.environment)
    pulumi.export("kubeContext", settings.local.context)
    pulumi.export("namespaces", sorted(platform.namespaces))
    pulumi.export(
        "database",
        {
            "endpoint": stores.database_host,
            "port": POSTGRES_PORT,
            "name": settings.stores.database_name,
        },
    )
    pulumi.export("cache", {"primaryEndpoint": stores.cache_host, "port": VALKEY_PORT})
    pulumi.export("streaming", {"bootstrapBrokers": stores.bootstrap_brokers})
    pulumi.export("prometheusUrl", platform.observability.prometheus_url)
    pulumi.export(
        "services",
        {
            entry.name: {
                "stableService": platform.services[entry.name].stable_service_name,
                "previewService": platform.services[entry.name].preview_service_name,
                # The release state as applied (infra/release/sync.py), as on the cloud.
                "activeColor": platform.services[entry.name].active_color,
                "tags": {"blue": entry.tags.blue, "green": entry.tags.green},
                "trafficSplit": entry.traffic_split,
                "idleReplicas": entry.idle_replicas,
            }
            for entry in settings.services
        },
    )
