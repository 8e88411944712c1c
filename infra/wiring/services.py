"""Wiring of `platform:app` and `platform:services`: per service, its workload role and
connection ConfigMap (`ApplicationAccess`) and its blue-green Deployments, Services and
shared-ALB Ingress (`BlueGreenService`)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.alb import AlbGroup
from components.app_access import (
    ApplicationAccess,
    ApplicationAccessArgs,
    CacheConnection,
    DatabaseConnection,
    StreamingConnection,
)
from components.bluegreen import BlueGreenService, BlueGreenServiceArgs, ContainerResources
from components.cluster import Cluster
from components.cluster.versions import ALB_CONTROLLER
from components.database.logins import login_for_service
from components.network import Network
from components.observability import Observability
from infra.config import Settings
from infra.config.services import AppSettings, ServiceSettings
from infra.wiring.data_stores import DataStores
from infra.wiring.foundation import Regions


@dataclass(frozen=True)
class ServiceFoundations:
    """What every service is wired to: built once, shared by all of them."""

    settings: Settings
    regions: Regions
    network: Network
    cluster: Cluster
    stores: DataStores
    alb_groups: dict[str, AlbGroup]
    observability: Observability


@dataclass(frozen=True)
class WiredService:
    """One service as built: its settings, its blue-green component and its access."""

    settings: ServiceSettings
    component: BlueGreenService
    access: ApplicationAccess


def services(base: ServiceFoundations) -> list[WiredService]:
    # A service's pods start only once its database login and its own topics exist (not
    # every service's: that would be N x N waits) and the monitoring CRDs (its PodMonitor)
    # are installed.
    ready = [base.stores.logins, base.observability.crds_ready]
    topics = base.stores.topics.topics
    return [
        service(base, entry, [*ready, *(topics[t.name] for t in entry.topics)])
        for entry in base.settings.services
    ]


def service(
    base: ServiceFoundations, entry: ServiceSettings, ready: list[pulumi.Resource]
) -> WiredService:
    """One blue-green service and its own workload role + connection ConfigMap."""
    settings, cluster, stores = base.settings, base.cluster, base.stores
    # AWS children (the workload role) use the tagged AWS provider, in-cluster ones the
    # cluster's.
    in_cluster = pulumi.ResourceOptions.merge(
        base.regions.opts,
        pulumi.ResourceOptions(
            providers={"kubernetes": cluster.provider},
            # Pods need nodes, DNS and volumes. The load balancer controller must be up
            # before the Ingress (its Fail-closed webhook) and the pods (its readiness-gate
            # webhook fails open: a pod created before it would silently get no gate), and
            # it must outlive the Ingress on destroy (its finalizer deletes the ALB; without
            # the controller the VPC cannot be deleted). metrics-server and the autoscaler
            # gate nothing at creation (an HPA waits for metrics on its own).
            depends_on=[
                cluster.namespaces[entry.namespace],
                *cluster.workloads_ready,
                cluster.releases[ALB_CONTROLLER],
            ],
        ),
    )
    database, cache, streaming = stores.database, stores.cache, stores.streaming
    access = ApplicationAccess(
        f"{entry.name}-access",
        ApplicationAccessArgs(
            k8s_provider=cluster.provider,
            namespace=entry.namespace,
            service_account=entry.name,
            identity=cluster.pod_identity,
            config_map_name=f"{entry.name}-platform",
            database=DatabaseConnection(
                endpoint=database.endpoint,
                reader_endpoint=database.reader_endpoint,
                port=database.port,
                database_name=database.database_name,
                cluster_resource_id=database.cluster_resource_id,
                user=login_for_service(entry.name),  # one IAM-auth login per service
                proxy_endpoint=database.proxy_endpoint,
                proxy_resource_id=database.proxy_resource_id,
            ),
            cache=CacheConnection(
                endpoint=cache.primary_endpoint,
                reader_endpoint=cache.reader_endpoint,
                port=cache.port,
                auth_secret_arn=cache.auth_secret_arn,
                kms_key_arn=base.regions.keys.arns["cache"],
            ),
            streaming=StreamingConnection(
                cluster_arn=streaming.cluster_arn,
                cluster_name=streaming.cluster_name,
                cluster_uuid=streaming.cluster_uuid,
                bootstrap_brokers=streaming.bootstrap_brokers,
                topics=[topic.name for topic in entry.topics],
                consumer_group_prefix=entry.name,
            ),
            traces_endpoint=base.observability.collector_endpoint,
        ),
        in_cluster,
    )
    visibility = "public" if entry.public else "internal"
    component = BlueGreenService(
        entry.name,
        BlueGreenServiceArgs(
            **entry_fields(entry, settings.app),
            provider=cluster.provider,
            env_config_map=f"{entry.name}-platform",
            # The workload role reaches the pods through its Pod Identity association, not a
            # service-account annotation: the Deployments wait for it.
            identity_ready=access.ready,
            certificate_arn=entry.certificate_arn,
            hostnames=entry.hostnames,
            paths=entry.paths,
            alb=base.alb_groups[visibility],
            prometheus_pod_monitor=True,
            monitoring_namespace=base.observability.monitoring_namespace,
            # Who reaches the pods: the ALB's own subnets (public ALBs sit in the public tier,
            # internal ones in the private tier).
            alb_source_cidrs=base.network.subnet_cidrs["public" if entry.public else "private"],
            # The API server's ENIs sit in the cluster's (private) subnets: the release
            # tool's smoke test reaches the idle colour through its service proxy.
            api_server_cidrs=base.network.subnet_cidrs["private"],
        ),
        pulumi.ResourceOptions.merge(
            in_cluster, pulumi.ResourceOptions(depends_on=[access, *ready])
        ),
    )
    return WiredService(entry, component, access)


def entry_fields(entry: ServiceSettings, app: AppSettings) -> dict:
    """The `BlueGreenServiceArgs` a `platform:services` entry and `platform:app` decide, the
    same for every stack (the cloud's and the local one); the caller adds where it runs and
    how it is reached."""
    return {
        "service_name": entry.name,
        "namespace": entry.namespace,
        "image": entry.image,
        "tags": {"blue": entry.tags.blue, "green": entry.tags.green},
        "kind": entry.kind,
        "active_color": entry.active_color,
        "replicas": app.replicas,
        "idle_replicas": entry.idle_replicas,
        "traffic_split": entry.traffic_split,
        "port": entry.port,
        "service_port": entry.service_port,
        "health_path": entry.health_path,
        "resources": ContainerResources(**entry.resources.model_dump()),
        "autoscaling": app.autoscaling,
        "zone_spread_strict": app.zone_spread_strict,
    }
