"""What a `Database` takes, and the rules its inputs follow (pure; settings applies the same)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.aws_catalog import instance_type_problems
from components.data_store import StorePlacement, placement_problems

__all__ = [
    "ACU_RANGE",
    "AUTO_PAUSE_SECONDS",
    "BACKUP_RETENTION_DAYS",
    "CONSERVATIVE_MAX_CONNECTIONS",
    "DEFAULT_BACKUP_RETENTION_DAYS",
    "DEFAULT_ENGINE_VERSION",
    "DEFAULT_INSTANCE_CLASS",
    "DEFAULT_MAX_CAPACITY",
    "DEFAULT_MIN_CAPACITY",
    "DEFAULT_MONITORING_INTERVAL",
    "DEFAULT_PERFORMANCE_INSIGHTS_DAYS",
    "ENGINE",
    "ENGINE_VERSIONS",
    "INSTANCE_FAMILIES",
    "LOG_STATEMENTS",
    "MAX_READERS",
    "MODES",
    "MONITORING_INTERVALS",
    "SERVERLESS_CLASS",
    "DatabaseArgs",
    "backup_retention_problems",
    "capacity_problems",
    "default_max_connections",
    "engine_major",
    "engine_version_problems",
    "identifier_problems",
    "instance_class_problems",
    "instance_memory_gib",
    "max_connections",
    "performance_insights_problems",
    "proxy_problems",
    "validate",
    "writer_max_connections",
]


ENGINE = "aurora-postgresql"
# Versions tested here: a current minor of each supported major (17.5 scales to 0 ACU). Adding
# one is a reviewed change: the parameter group family follows the major.
ENGINE_VERSIONS = ("16.9", "17.5")
# renovate: datasource=aws-rds engine=aurora-postgresql
DEFAULT_ENGINE_VERSION = "17.5"
MODES = ("serverless", "provisioned")
SERVERLESS_CLASS = "db.serverless"
# Aurora PostgreSQL's provisioned classes: memory-optimised Graviton and Intel, burstable for
# tests (db.t4g/db.t3). The EC2 part must exist (botocore's list), so `db.r7g.lage` is refused.
INSTANCE_FAMILIES = (
    "r5",
    "r6g",
    "r6gd",
    "r6i",
    "r6id",
    "r7g",
    "r7i",
    "r8g",
    "x2g",
    "t3",
    "t4g",
)
DEFAULT_INSTANCE_CLASS = "db.r7g.large"
# Which Aurora PostgreSQL versions a provisioned class runs: the lowest minor per major, by
# family (AWS, Aurora User Guide, "Supported DB engines for DB instance classes", the Aurora
# PostgreSQL column: "17.4 and higher, 16.1 and higher, ..."; db.r5 "all currently available
# versions"). A family without a major does not run it. db.r7gd is not on that page for
# Aurora, so it is not offered.
CLASS_MINIMUM_MINOR = {
    "r5": {"16": 1, "17": 4}, "r6g": {"16": 1, "17": 4}, "r6gd": {"16": 1, "17": 4},
    "r6i": {"16": 1, "17": 4}, "r6id": {"16": 1, "17": 4}, "r7g": {"16": 1, "17": 4},
    "r7i": {"16": 3, "17": 4}, "r8g": {"16": 3, "17": 4}, "x2g": {"16": 1, "17": 4},
    "t3": {"16": 1, "17": 4}, "t4g": {"16": 1, "17": 4},
}  # fmt: skip
# Families Aurora offers in some sizes only (the same page: the burstable classes are "No" in
# every other size; db.r6gd starts at xlarge; db.r6id has only its largest sizes).
CLASS_SIZES = {
    "t3": ("medium", "large"), "t4g": ("medium", "large"),
    "r6gd": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"),
    "r6id": ("24xlarge", "32xlarge"),
}  # fmt: skip
ACU_RANGE = (0.0, 256.0)  # serverless v2, steps of 0.5
DEFAULT_MIN_CAPACITY = 0.5
DEFAULT_MAX_CAPACITY = 4.0
AUTO_PAUSE_SECONDS = (300, 86400)
MAX_READERS = 15
BACKUP_RETENTION_DAYS = (1, 35)
DEFAULT_BACKUP_RETENTION_DAYS = 7
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
DEFAULT_MONITORING_INTERVAL = 60
DEFAULT_PERFORMANCE_INSIGHTS_DAYS = 7  # the free tier
LOG_STATEMENTS = ("none", "ddl", "mod", "all")
# At most 35 characters so derived names (`<id>-backup-replica` vault: 50) stay valid.
_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,33}[a-z0-9]$")


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs(StorePlacement):
    """Inputs of `Database`: the placement and encryption every store has (`StorePlacement`:
    the cluster identifier is `<name_prefix>-<component name>`, lowercase letters, digits,
    hyphens, at most 35 characters; `kms_key_arn` is the database domain's key, also for the
    master secret and Performance Insights; the exported PostgreSQL log goes to a
    `logs_kms_key_arn` group; `protect` also adds the AWS Backup plan), and:

    Attributes:
        subnet_group_name: DB subnet group on the isolated (data) subnets (`Network`).
        engine_version: pinned Aurora PostgreSQL version; the parameter group family follows its
            major version.
        serverless: serverless v2 instances (`db.serverless`) instead of `instance_class`.
        min_capacity: serverless v2 minimum ACUs (0..256, steps of 0.5); 0 lets an idle
            cluster pause (dev).
        max_capacity: serverless v2 maximum ACUs, >= `min_capacity`.
        seconds_until_auto_pause: idle seconds before pausing (300..86400); only with
            `min_capacity` 0, where it defaults to 300.
        instance_class: instance class of provisioned instances, e.g. `db.r7g.large` (a family
            in `INSTANCE_FAMILIES`).
        instance_count: instances in total: one writer, the rest readers (failover targets).
        availability_zones: zones to place instances in, round-robin (writer in the first);
            empty leaves placement to RDS within the subnet group.
        database_name: database created with the cluster.
        master_username: master user name; its password is managed by RDS in Secrets Manager.
        port: PostgreSQL port.
        backup_retention_days: automated backup (PITR) retention, 1..35; also the AWS Backup
            retention.
        backup_window: daily automated backup window (UTC), `hh:mm-hh:mm`.
        maintenance_window: weekly maintenance window (UTC), `ddd:hh:mm-ddd:hh:mm`.
        deletion_protection: RDS-level deletion protection.
        skip_final_snapshot: skip the final snapshot on deletion (dev only; not with `protect`).
        performance_insights_retention_days: 7 (free tier) or a multiple of 31 up to 731.
        monitoring_interval: enhanced monitoring interval in seconds (0 turns it off).
        log_min_duration_ms: log statements slower than this (ms); -1 turns it off.
        log_statement: which statements to log: `none`, `ddl`, `mod` or `all`.
        auto_minor_version_upgrade: apply minor engine upgrades in the maintenance window.
        ignore_engine_version_drift: ignore `engine_version` differences so auto minor upgrades
            (17.5 -> 17.6) do not show as a downgrade; turn off for a deliberate major upgrade.
        allow_major_version_upgrade: let a changed `engine_version` cross a major version.
        apply_immediately: apply modifications now instead of in the maintenance window.
        backup_kms_key_arn: key of the primary-region backup vault (backup domain); defaults
            to `kms_key_arn`.
        backup_schedule: AWS Backup schedule (cron, UTC); after the maintenance window.
        replica_provider: AWS provider for the second region; its vault receives copies.
        replica_backup_kms_key_arn: key in the second region for the replica vault; required
            with `replica_provider`.
        proxy: put an RDS Proxy (IAM auth end to end, TLS required) in front of the writer
            for connection pooling; `proxy_endpoint` is then where applications write. It is
            created with the first of `proxy_logins` (without logins nobody could use it).
        proxy_subnet_ids: subnets of the proxy (the isolated tier, at least two zones).
        proxy_logins: database logins clients connect as through the proxy.
    """

    subnet_group_name: pulumi.Input[str]
    engine_version: str = DEFAULT_ENGINE_VERSION
    serverless: bool = True
    min_capacity: float = DEFAULT_MIN_CAPACITY
    max_capacity: float = DEFAULT_MAX_CAPACITY
    seconds_until_auto_pause: int | None = None
    instance_class: str = DEFAULT_INSTANCE_CLASS
    instance_count: int = 1
    availability_zones: Sequence[pulumi.Input[str]] = ()
    database_name: str = "app"
    master_username: str = "dbadmin"
    port: int = 5432
    backup_retention_days: int = DEFAULT_BACKUP_RETENTION_DAYS
    backup_window: str = "02:00-03:00"
    maintenance_window: str = "sun:03:30-sun:04:30"
    deletion_protection: bool = True
    skip_final_snapshot: bool = False
    performance_insights_retention_days: int = DEFAULT_PERFORMANCE_INSIGHTS_DAYS
    monitoring_interval: int = DEFAULT_MONITORING_INTERVAL
    log_min_duration_ms: int = 1000
    log_statement: str = "ddl"
    auto_minor_version_upgrade: bool = True
    ignore_engine_version_drift: bool = True
    allow_major_version_upgrade: bool = False
    apply_immediately: bool = False
    backup_kms_key_arn: pulumi.Input[str] | None = None
    backup_schedule: str = "cron(0 5 * * ? *)"
    replica_provider: pulumi.ProviderResource | None = None
    replica_backup_kms_key_arn: pulumi.Input[str] | None = None
    proxy: bool = False
    proxy_subnet_ids: Sequence[pulumi.Input[str]] = ()
    proxy_logins: Sequence[str] = ()


# -- rules, one function per fact --------------------------------------------------------------
def identifier_problems(identifier: str) -> list[str]:
    if _IDENTIFIER.match(identifier):
        return []
    return [
        f"cluster identifier {identifier!r} must be 2..35 lowercase letters, digits or single "
        "hyphens, starting with a letter"
    ]


def engine_version_problems(version: object) -> list[str]:
    if version in ENGINE_VERSIONS:
        return []
    hint = " (write it as a string: YAML reads 17.10 as 17.1)" if isinstance(version, float) else ""
    return [
        f"unknown aurora-postgresql version {version!r}{hint}; "
        f"allowed: {', '.join(ENGINE_VERSIONS)}"
    ]


def instance_class_problems(instance_class: object) -> list[str]:
    problems = instance_type_problems(instance_class, prefix="db.", families=INSTANCE_FAMILIES)
    if problems:
        return problems
    _db, family, size = str(instance_class).split(".")
    if family in CLASS_SIZES and size not in CLASS_SIZES[family]:
        return [
            f"{instance_class}: Aurora PostgreSQL offers db.{family} only as "
            f"{', '.join(f'db.{family}.{s}' for s in CLASS_SIZES[family])}"
        ]
    return []


def class_version_problems(instance_class: str, engine_version: str) -> list[str]:
    """A provisioned class runs only the engine versions AWS lists for its family."""
    family = instance_class.split(".")[1] if instance_class.count(".") == 2 else ""
    major, _, minor = engine_version.partition(".")
    lowest = CLASS_MINIMUM_MINOR.get(family, {}).get(major)
    if family not in CLASS_MINIMUM_MINOR or not minor.isdigit():
        return []
    if lowest is None:
        runs = f"no Aurora PostgreSQL {major}.x version"
    elif int(minor) < lowest:
        runs = f"Aurora PostgreSQL {major} from {major}.{lowest} only"
    else:
        return []
    return [
        f"{instance_class} runs {runs}, not {engine_version}; choose another class or engine "
        "version"
    ]


def capacity_problems(
    min_capacity: float, max_capacity: float, seconds_until_auto_pause: int | None
) -> list[str]:
    """Serverless v2 capacity: 0..256 ACU in steps of 0.5, min <= max, pause only at 0."""
    problems = []
    low, high = ACU_RANGE
    for label, acu in (("minCapacity", min_capacity), ("maxCapacity", max_capacity)):
        if not low <= acu <= high or acu * 2 != int(acu * 2):
            problems.append(f"{label} {acu}: allowed {low:g}..{high:g} in steps of 0.5")
    if problems:
        return problems
    if min_capacity > max_capacity:
        problems.append(f"minCapacity {min_capacity} is greater than maxCapacity {max_capacity}")
    if max_capacity == 0:
        problems.append("maxCapacity must be above 0")
    if seconds_until_auto_pause is not None:
        if min_capacity != 0:
            problems.append(
                "secondsUntilAutoPause needs minCapacity 0 (only a cluster that can scale to 0 "
                "pauses)"
            )
        elif not AUTO_PAUSE_SECONDS[0] <= seconds_until_auto_pause <= AUTO_PAUSE_SECONDS[1]:
            problems.append(
                f"secondsUntilAutoPause {seconds_until_auto_pause}: allowed "
                f"{AUTO_PAUSE_SECONDS[0]}..{AUTO_PAUSE_SECONDS[1]}"
            )
    return problems


def backup_retention_problems(days: int) -> list[str]:
    low, high = BACKUP_RETENTION_DAYS
    return [] if low <= days <= high else [f"backupRetentionDays {days}: allowed {low}..{high}"]


def performance_insights_problems(days: int) -> list[str]:
    if days == 7 or (days % 31 == 0 and 31 <= days <= 731):
        return []
    return [
        f"performanceInsightsRetentionDays {days}: 7 (free) or a multiple of 31 up to 731 "
        "(whole months)"
    ]


def proxy_problems(proxy: bool, serverless: bool, min_capacity: float) -> list[str]:
    if proxy and serverless and min_capacity == 0:
        return [
            "proxy: true holds connections open, so a cluster with minCapacity 0 would never "
            "pause; raise minCapacity or set proxy: false"
        ]
    return []


def validate(args: DatabaseArgs, name: str) -> list[str]:
    """Every problem with `args` for the component called `name` (empty when valid)."""
    problems = identifier_problems(f"{args.name_prefix}-{name}")
    problems += placement_problems(args, "the database")
    problems += engine_version_problems(args.engine_version)
    if args.serverless:
        problems += capacity_problems(
            args.min_capacity, args.max_capacity, args.seconds_until_auto_pause
        )
    else:
        problems += instance_class_problems(args.instance_class) or class_version_problems(
            args.instance_class, args.engine_version
        )
    if args.instance_count < 1:
        problems.append(f"instance_count {args.instance_count}: at least 1 (the writer)")
    problems += backup_retention_problems(args.backup_retention_days)
    if args.monitoring_interval not in MONITORING_INTERVALS:
        problems.append(
            f"monitoring_interval {args.monitoring_interval}: allowed {MONITORING_INTERVALS}"
        )
    problems += performance_insights_problems(args.performance_insights_retention_days)
    if args.log_statement not in LOG_STATEMENTS:
        problems.append(
            f"log_statement {args.log_statement!r}: allowed {', '.join(LOG_STATEMENTS)}"
        )
    if args.protect and args.skip_final_snapshot:
        problems.append("skip_final_snapshot is for disposable (dev) clusters, not with protect")
    if args.replica_provider is not None and args.replica_backup_kms_key_arn is None:
        problems.append("replica_provider needs replica_backup_kms_key_arn for the copy vault")
    problems += proxy_problems(args.proxy, args.serverless, args.min_capacity)
    return problems


def engine_major(version: str) -> str:
    """`17.5` -> `17`."""
    return version.split(".")[0]


# -- connection capacity (for alerting) ----------------------------------------------------------
# Aurora PostgreSQL's default max_connections is LEAST(DBInstanceClassMemory / 9531392, 5000);
# serverless v2 computes it from the memory of the maximum capacity (2 GiB per ACU).
_BYTES_PER_CONNECTION = 9531392
_MAX_CONNECTIONS_CAP = 5000
_GIB_PER_ACU = 2
# Memory of the "large" size per family (GiB); each size step up doubles it.
_LARGE_MEMORY_GIB = {"r": 16, "x": 32, "t": 8}
_SIZE_STEPS = {"medium": -1, "large": 0, "xlarge": 1}


def instance_memory_gib(instance_class: str) -> float | None:
    """Memory of a db.<family>.<size> class, or None when the rule above does not cover it
    (medium is half of large, `<n>xlarge` is 2n times large)."""
    _, family, size = [*instance_class.split("."), "", ""][:3]
    base = _LARGE_MEMORY_GIB.get(family[:1])
    if base is None:
        return None
    if size in _SIZE_STEPS:
        return base * 2.0 ** _SIZE_STEPS[size]
    match = re.fullmatch(r"(\d+)xlarge", size)
    return base * 2.0 * int(match.group(1)) if match else None


def default_max_connections(memory_gib: float) -> int:
    return min(int(memory_gib * 2**30 // _BYTES_PER_CONNECTION), _MAX_CONNECTIONS_CAP)


# max_connections of the smallest Aurora writer the profiles use: the conservative stand-in
# when the class is outside the memory rule above.
CONSERVATIVE_MAX_CONNECTIONS = 450


def max_connections(serverless: bool, max_capacity: float, instance_class: str) -> int | None:
    """The default max_connections of the writer, or None when its memory is not known."""
    memory = max_capacity * _GIB_PER_ACU if serverless else instance_memory_gib(instance_class)
    return None if memory is None else default_max_connections(memory)


def writer_max_connections(serverless: bool, max_capacity: float, instance_class: str) -> int:
    """`max_connections`, or the conservative stand-in when the class is not known."""
    known = max_connections(serverless, max_capacity, instance_class)
    return known or CONSERVATIVE_MAX_CONNECTIONS
