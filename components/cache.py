"""ElastiCache (Valkey) replication group with TLS, an auth token and KMS at rest.

A replication group even in dev (one node), so clients connect the same way everywhere: TLS
required, AUTH token, primary/reader endpoints. The token is generated here, handed to
ElastiCache as a secret and stored in a Secrets Manager secret encrypted with the cache key;
applications read it from there, never from config. Prod adds replicas in other zones with
automatic failover.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.arguments import require_valid
from components.aws_catalog import instance_type_problems
from components.data_store import StorePlacement, placement_problems, store_security_group
from components.logs import encrypted_log_group
from components.snapshots import final_snapshot_identifier

__all__ = [
    "DATA_TIERING_FAMILIES",
    "DATA_TIERING_POLICIES",
    "DEFAULT_ENGINE",
    "DEFAULT_ENGINE_VERSION",
    "DEFAULT_NODE_TYPE",
    "ENGINE_VERSIONS",
    "NODES",
    "NODE_FAMILIES",
    "SNAPSHOT_RETENTION_DAYS",
    "Cache",
    "CacheArgs",
    "data_tiering_problems",
    "engine_problems",
    "group_id_problems",
    "node_type_problems",
    "parameter_family",
    "replica_problems",
    "snapshot_retention_problems",
    "validate",
]


# Versions tested here per engine; the parameter group family follows the major (`valkey8`).
ENGINE_VERSIONS = {"valkey": ("8.1", "8.2"), "redis": ("7.1",)}
DEFAULT_ENGINE = "valkey"
# Valkey 8.2 is the newest ElastiCache Valkey 8 minor.
# renovate: datasource=endoflife-date depName=valkey versioning=loose
DEFAULT_ENGINE_VERSION = "8.2"
# Node families ElastiCache offers (burstable, general purpose, memory optimised, network).
NODE_FAMILIES = ("t3", "t4g", "m5", "m6g", "m7g", "r5", "r6g", "r6gd", "r7g", "c7gn")
DEFAULT_NODE_TYPE = "cache.t4g.micro"
NODES = (1, 6)  # a primary and up to five replicas
SNAPSHOT_RETENTION_DAYS = (0, 35)
_GROUP_ID = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,38}[a-z0-9]$")


@dataclass(frozen=True, kw_only=True)
class CacheArgs(StorePlacement):
    """Inputs of `Cache`: the placement and encryption every store has (`StorePlacement`:
    the replication group id is `<name_prefix>-<component name>`, at most 40 characters;
    `kms_key_arn` is the cache domain's key, also for the auth-token secret; the slow and
    engine logs go to `logs_kms_key_arn` groups), and:

    Attributes:
        subnet_group_name: ElastiCache subnet group on the isolated subnets (`Network`).
        engine: `valkey` (default) or `redis`.
        engine_version: pinned engine version (major.minor); the parameter group family
            follows the major version.
        node_type: node type, e.g. `cache.t4g.micro` (dev) or `cache.t4g.small` (prod).
        num_cache_clusters: nodes in the group: one primary plus replicas (1..6).
        multi_az: replicas in other zones with automatic failover; needs >= 2 nodes.
        availability_zones: zones to spread the nodes over, round-robin (primary in the
            first); empty leaves placement to ElastiCache within the subnet group.
        port: client port.
        snapshot_retention_days: daily snapshots kept (0 turns snapshots off).
        snapshot_window: daily snapshot window (UTC), `hh:mm-hh:mm`.
        maintenance_window: weekly maintenance window (UTC), must not overlap the snapshots.
        maxmemory_policy: eviction policy, e.g. `volatile-lru` (sessions) or `allkeys-lru`.
        data_tiering: tier values between memory and the nodes' SSDs (r6gd nodes only, and
            r6gd nodes only with it: ElastiCache refuses either without the other).
        slowlog_threshold_us: commands slower than this (microseconds) go to the slow log.
        secret_recovery_days: Secrets Manager recovery window of the auth-token secret (7..30).
        apply_immediately: apply modifications now instead of in the maintenance window.
        final_snapshot: snapshot the cache when the group is deleted; None follows `protect`
            (which protects + retains the replication group and secret).
    """

    subnet_group_name: pulumi.Input[str]
    engine: str = DEFAULT_ENGINE
    engine_version: str = DEFAULT_ENGINE_VERSION
    node_type: str = DEFAULT_NODE_TYPE
    num_cache_clusters: int = 1
    multi_az: bool = False
    availability_zones: Sequence[pulumi.Input[str]] = ()
    port: int = 6379
    snapshot_retention_days: int = 1
    snapshot_window: str = "02:00-03:00"
    maintenance_window: str = "sun:03:30-sun:04:30"
    maxmemory_policy: str = "volatile-lru"
    data_tiering: bool = False
    slowlog_threshold_us: int = 10000
    secret_recovery_days: int = 7
    apply_immediately: bool = False
    final_snapshot: bool | None = None


# -- rules, one function per fact (settings applies the same) ---------------------------------
def group_id_problems(group_id: str) -> list[str]:
    if _GROUP_ID.match(group_id):
        return []
    return [
        f"replication group id {group_id!r} must be 2..40 lowercase letters, digits or single "
        "hyphens, starting with a letter"
    ]


def engine_problems(engine: object, version: object) -> list[str]:
    if engine not in ENGINE_VERSIONS:
        return [f"engine {engine!r}: allowed {', '.join(ENGINE_VERSIONS)}"]
    if version in ENGINE_VERSIONS[engine]:  # type: ignore[index]
        return []
    hint = " (write it as a string)" if isinstance(version, float) else ""
    return [
        f"engineVersion {version!r}{hint} is not a known {engine} version; allowed: "
        f"{', '.join(ENGINE_VERSIONS[engine])}"  # type: ignore[index]
    ]


def node_type_problems(node_type: object) -> list[str]:
    return instance_type_problems(node_type, prefix="cache.", families=NODE_FAMILIES)


def replica_problems(num_cache_clusters: int, multi_az: bool) -> list[str]:
    low, high = NODES
    if not low <= num_cache_clusters <= high:
        return [f"numCacheClusters {num_cache_clusters}: allowed {low}..{high}"]
    if multi_az and num_cache_clusters < 2:
        return ["multiAz needs numCacheClusters >= 2 (a primary and a replica to fail over to)"]
    return []


# Data tiering needs SSD nodes (r6gd) and supports these eviction policies only (ElastiCache
# guide, "Data tiering").
DATA_TIERING_FAMILIES = ("r6gd",)
DATA_TIERING_POLICIES = ("volatile-lru", "allkeys-lru", "noeviction")


def data_tiering_problems(node_type: str, data_tiering: bool, maxmemory_policy: str) -> list[str]:
    """r6gd nodes need data tiering, data tiering needs r6gd nodes and an LRU (or no)
    eviction policy: ElastiCache refuses the replication group otherwise."""
    family = node_type.split(".")[1] if node_type.count(".") == 2 else ""
    ssd = family in DATA_TIERING_FAMILIES
    if ssd and not data_tiering:
        return [
            f"nodeType {node_type!r} (an SSD node) needs dataTiering: true; or use a "
            "memory-only family such as cache.r7g"
        ]
    if data_tiering and not ssd:
        return [f"dataTiering: true needs an r6gd nodeType, not {node_type!r}"]
    if data_tiering and maxmemory_policy not in DATA_TIERING_POLICIES:
        return [
            f"dataTiering: true supports maxmemory policies {', '.join(DATA_TIERING_POLICIES)}, "
            f"not {maxmemory_policy!r}"
        ]
    return []


def snapshot_retention_problems(days: int) -> list[str]:
    low, high = SNAPSHOT_RETENTION_DAYS
    return [] if low <= days <= high else [f"snapshotRetentionDays {days}: allowed {low}..{high}"]


def validate(args: CacheArgs, name: str) -> list[str]:
    """Every problem ElastiCache would raise at apply time (empty when valid)."""
    problems = group_id_problems(f"{args.name_prefix}-{name}")
    problems += placement_problems(args, "the cache")
    problems += engine_problems(args.engine, args.engine_version)
    problems += node_type_problems(args.node_type)
    problems += data_tiering_problems(args.node_type, args.data_tiering, args.maxmemory_policy)
    problems += replica_problems(args.num_cache_clusters, args.multi_az)
    problems += snapshot_retention_problems(args.snapshot_retention_days)
    if not 7 <= args.secret_recovery_days <= 30:
        problems.append(f"secret_recovery_days {args.secret_recovery_days}: allowed 7..30")
    return problems


def parameter_family(engine: str, version: str) -> str:
    """`valkey` `8.2` -> `valkey8`; `redis` `7.1` -> `redis7`."""
    return f"{engine}{version.split('.')[0]}"


class Cache(pulumi.ComponentResource):
    """Valkey/Redis replication group with its security group, auth secret and log delivery.

    Outputs: `primary_endpoint`, `reader_endpoint`, `port`, `auth_secret_arn`,
    `security_group_id`.
    """

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid(
            "Cache", name, args, lambda: validate(args, name)
        )  # before registering anything
        super().__init__("platform:cache:Cache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(
            parent=self, protect=args.protect, retain_on_delete=args.protect
        )
        group_id = f"{args.name_prefix}-{name}"

        self.security_group = store_security_group(
            self, name, args.vpc_id, args.port, args.allowed_security_group_ids, args.engine
        )
        # Alphanumeric only: ElastiCache forbids `/`, `"`, `@` and spaces; 64 of [A-Za-z0-9]
        # is ~380 bits. The result is a secret output, so it stays encrypted in state.
        token = random.RandomPassword(f"{name}-auth-token", length=64, special=False, opts=child)
        self.auth_secret = aws.secretsmanager.Secret(
            f"{name}-auth",
            description=f"{group_id} AUTH token (read by applications; never in config)",
            kms_key_id=args.kms_key_arn,
            recovery_window_in_days=args.secret_recovery_days,
            opts=stateful,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-auth",
            secret_id=self.auth_secret.id,
            secret_string=pulumi.Output.secret(
                pulumi.Output.json_dumps({"authToken": token.result})
            ),
            opts=child,
        )

        family = parameter_family(args.engine, args.engine_version)
        parameters = aws.elasticache.ParameterGroup(
            f"{name}-params",
            name=f"{group_id}-{family}",  # family in the name: major upgrades don't collide
            family=family,
            # Fixed text: description is force-new, and the name stays the same across minor
            # versions, so a version in it would make an engine bump collide with itself.
            description=f"{group_id} {family}",
            parameters=[
                {"name": "maxmemory-policy", "value": args.maxmemory_policy},
                {"name": "slowlog-log-slower-than", "value": str(args.slowlog_threshold_us)},
                {"name": "slowlog-max-len", "value": "256"},
            ],
            opts=child,
        )
        log_delivery = []
        for log_type in ("slow-log", "engine-log"):
            group = encrypted_log_group(
                f"{name}-{log_type}",
                name=f"/aws/elasticache/{group_id}/{log_type}",
                kms_key_arn=args.logs_kms_key_arn,
                retention_days=args.log_retention_days,
                opts=child,
            )
            log_delivery.append(
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=group.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=log_type,
                )
            )

        failover = args.num_cache_clusters >= 2
        # ElastiCache wants one zone per node (primary first); AWS ignores it after creation.
        azs = args.availability_zones
        zones = [azs[i % len(azs)] for i in range(args.num_cache_clusters)] if azs else None
        self.replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            replication_group_id=group_id,
            description=f"{group_id} {args.engine}",
            engine=args.engine,
            engine_version=args.engine_version,
            node_type=args.node_type,
            num_cache_clusters=args.num_cache_clusters,
            automatic_failover_enabled=failover,
            multi_az_enabled=args.multi_az,
            preferred_cache_cluster_azs=zones,
            port=args.port,
            parameter_group_name=parameters.name,
            subnet_group_name=args.subnet_group_name,
            security_group_ids=[self.security_group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=token.result,
            # ROTATE keeps the old token valid next to the new one until clients moved over.
            auth_token_update_strategy="ROTATE",
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window=args.snapshot_window,
            maintenance_window=args.maintenance_window,
            final_snapshot_identifier=(
                final_snapshot_identifier(self, name, group_id) if _final_snapshot(args) else None
            ),
            auto_minor_version_upgrade=True,
            apply_immediately=args.apply_immediately,
            log_delivery_configurations=log_delivery,
            # Only when on: the input is force-new, and absent equals false.
            data_tiering_enabled=args.data_tiering or None,
            opts=stateful,
        )

        self.primary_endpoint = self.replication_group.primary_endpoint_address
        self.reader_endpoint = self.replication_group.reader_endpoint_address
        self.port = self.replication_group.port
        self.auth_secret_arn = self.auth_secret.arn
        self.security_group_id = self.security_group.id
        self.group_id = self.replication_group.replication_group_id
        self.register_outputs(
            {
                "primaryEndpoint": self.primary_endpoint,
                "readerEndpoint": self.reader_endpoint,
                "port": self.port,
                "authSecretArn": self.auth_secret_arn,
                "securityGroupId": self.security_group_id,
            }
        )


def _final_snapshot(args: CacheArgs) -> bool:
    return args.protect if args.final_snapshot is None else args.final_snapshot
