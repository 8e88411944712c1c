"""Wiring of the foundation (`platform:network`, `keys`, `storage`, `alb`): the AWS
providers with their default tags, the data-domain keys, the network, the buckets and the
shared load balancers' settings."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alb import AlbGroup
from components.aws_catalog import ELB_ACCOUNT_LOG_DELIVERY_REGIONS
from components.encryption import Keys, KeysArgs
from components.network import Network, NetworkArgs
from components.storage import AlbLogDelivery, Buckets, BucketsArgs, ReplicaArgs
from infra import naming
from infra.config import Settings

KEY_DOMAINS = ("logs", "storage", "database", "cache", "streaming", "cluster", "backup")
# The replica region holds bucket replicas and backup copies, and the recovery site where the
# copies are restored: a restored cluster's key (database) and its network's flow logs (logs).
REPLICA_KEY_DOMAINS = ("storage", "backup", "database", "logs")


@dataclass(frozen=True)
class Regions:
    """The stack's AWS providers and keys: the primary region, and the replica region where
    prod keeps its bucket replicas and backup copies (None elsewhere)."""

    primary: aws.Provider
    keys: Keys
    secondary: aws.Provider | None
    replica_keys: Keys | None

    @property
    def opts(self) -> pulumi.ResourceOptions:
        """Options for components of the primary region."""
        return pulumi.ResourceOptions(providers={"aws": self.primary})


def regions(settings: Settings) -> Regions:
    """One AWS provider per region (carrying the default tags) and its data-domain keys."""
    primary = _provider("aws", settings.region, settings)
    keys = _keys("keys", KEY_DOMAINS, settings, primary)
    secondary = replica_keys = None
    if settings.replica_region:
        secondary = _provider("aws-replica", settings.replica_region, settings)
        replica_keys = _keys("replica-keys", REPLICA_KEY_DOMAINS, settings, secondary)
    return Regions(primary, keys, secondary, replica_keys)


def network(settings: Settings, regions: Regions) -> Network:
    config = settings.network
    return Network(
        naming.NETWORK,
        NetworkArgs(
            name_prefix=settings.name_prefix,
            cidr=config.cidr,
            az_count=config.az_count,
            nat_gateways=config.nat_gateways,
            flow_log_kms_key_arn=regions.keys.arns["logs"],
            flow_log_retention_days=config.flow_log_retention_days,
            interface_endpoints=config.interface_endpoints,
            cluster_name=settings.name_prefix,
            node_discovery=settings.cluster.node_autoscaler == "karpenter",
        ),
        regions.opts,
    )


def buckets(settings: Settings, regions: Regions) -> Buckets:
    config = settings.storage
    replica = None
    if regions.secondary is not None and regions.replica_keys is not None:
        replica = ReplicaArgs(
            provider=regions.secondary,
            region=settings.replica_region,
            kms_key_arn=regions.replica_keys.arns["storage"],
        )
    return Buckets(
        naming.BUCKETS,
        BucketsArgs(
            name_prefix=settings.name_prefix,
            kms_key_arn=regions.keys.arns["storage"],
            noncurrent_version_expiry_days=config.noncurrent_version_expiry_days,
            infrequent_access_after_days=config.infrequent_access_after_days,
            access_log_expiry_days=config.access_log_expiry_days,
            force_destroy=config.force_destroy,
            protect=settings.protect,
            replica=replica,
            alb_log_delivery=AlbLogDelivery(elb_account_arn=_elb_account(settings, regions)),
        ),
        regions.opts,
    )


def alb_groups(settings: Settings, buckets: Buckets) -> dict[str, AlbGroup]:
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


def _elb_account(settings: Settings, regions: Regions) -> pulumi.Output[str] | None:
    """The region's ELB account where load balancers deliver access logs as that account."""
    if settings.region not in ELB_ACCOUNT_LOG_DELIVERY_REGIONS:
        return None
    invoke = pulumi.InvokeOutputOptions(provider=regions.primary)
    return aws.elb.get_service_account_output(opts=invoke).arn
