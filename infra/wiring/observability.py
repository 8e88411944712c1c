"""Wiring of `platform:observability` (and the alerting secrets): metrics, alerts, logs,
traces and the UIs, in the cluster."""

from __future__ import annotations

import pulumi

from components.alb import AlbGroup
from components.cluster import Cluster
from components.cluster.versions import ALB_CONTROLLER
from components.database import args as database_rules
from components.network import Network
from components.observability import (
    DataStoreThresholds,
    Observability,
    ObservabilityArgs,
    Placement,
    SlackAlerting,
    Toleration,
    UiExposure,
)
from infra.config import Settings
from infra.config.fields import SecretSetting
from infra.wiring.foundation import Regions

# Stands in for a secret whose plaintext the offline plan cannot read (never deployed: the
# running program decrypts the real value).
OFFLINE_SECRET = "offline-placeholder"


def observability(
    settings: Settings,
    network: Network,
    regions: Regions,
    cluster: Cluster,
    alb_groups: dict[str, AlbGroup],
) -> Observability:
    config = settings.observability
    database = settings.database
    max_connections = database_rules.writer_max_connections(
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
            webhook_url=secret(settings.slack_webhook_url),
            critical_channel=config.slack_critical_channel,
            warning_channel=config.slack_warning_channel,
        )
    password = settings.grafana_admin_password
    return Observability(
        "observability",
        ObservabilityArgs(
            cluster_name=settings.name_prefix,
            region=settings.region,
            k8s_provider=cluster.provider,
            control_plane_cidrs=[settings.network.cidr],
            identity=cluster.pod_identity,
            level=config.level,
            prometheus_retention=config.prometheus_retention,
            prometheus_storage_gib=config.prometheus_storage_gib,
            elasticsearch_storage_gib=config.elasticsearch_storage_gib or 0,
            log_retention_days=config.log_retention_days or 1,
            trace_retention_days=config.trace_retention_days or 1,
            alert_thresholds=DataStoreThresholds.for_aurora(max_connections),
            alerting=alerting,
            grafana_admin_password=secret(password) if password is not None else None,
            placement=placement,
            ui=ui,
            aws_resource_tags={
                "project": settings.default_tags()["project"],
                "stack": settings.stack,
            },
            protect=settings.protect,
            # Nodes, DNS and volumes first; the load balancer controller only for the UI
            # Ingresses (its Fail-closed webhook; see components/cluster/controllers.py).
            cluster_ready=cluster.workloads_ready,
            ingress_ready=[cluster.releases[ALB_CONTROLLER]],
        ),
        regions.opts,
    )


def secret(setting: SecretSetting) -> pulumi.Output[str]:
    """A secret setting as a Pulumi secret. Offline (`make plan`) only the stack file's
    ciphertext is known, so a placeholder stands in; `pulumi up` always has the value."""
    value = setting.value.get_secret_value() if setting.value is not None else OFFLINE_SECRET
    return pulumi.Output.secret(value)
