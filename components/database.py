"""Aurora PostgreSQL: serverless v2 (dev) or provisioned writer + readers (prod).

The cluster lives in the isolated subnets (a DB subnet group made by `Network`), accepts
connections only from the given security groups on the PostgreSQL port, and forces TLS. Storage,
the RDS-managed master secret, Performance Insights and the exported logs are encrypted with
customer-managed keys. No password ever appears in config or state: RDS generates and rotates
the master password in Secrets Manager, and applications use IAM database authentication.

When `protect` is set (prod) the cluster and its instances are protected and retained, deletion
protection is on, and an AWS Backup plan copies daily recovery points to a vault in a second
region.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.database_proxy import DatabaseProxy, DatabaseProxyArgs
from components.snapshots import final_snapshot_identifier

ENGINE = "aurora-postgresql"
# Aurora PostgreSQL 17.5: a current minor of the newest Aurora major; supports scaling to 0 ACU.
DEFAULT_ENGINE_VERSION = "17.5"
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
# At most 35 characters so derived names (`<id>-backup-replica` vault: 50) stay valid.
_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,33}[a-z0-9]$")


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    """Inputs of `Database`.

    Attributes:
        name_prefix: stack-derived prefix of physical names, e.g. `platform-prod`; the cluster
            identifier is `<name_prefix>-<component name>` (lowercase letters, digits, hyphens;
            at most 35 characters).
        vpc_id: VPC of the cluster's security group.
        subnet_group_name: DB subnet group on the isolated (data) subnets (`Network`).
        allowed_security_group_ids: label -> security group id allowed to connect (EKS node
            and cluster security groups); one described ingress rule per entry.
        kms_key_arn: customer-managed key (database domain) for storage, the master secret and
            Performance Insights.
        logs_kms_key_arn: customer-managed key (logs domain) for the exported PostgreSQL log group.
        log_retention_days: retention of the exported PostgreSQL log group.
        engine_version: pinned Aurora PostgreSQL version; the parameter group family follows its
            major version.
        serverless: serverless v2 instances (`db.serverless`) instead of `instance_class`.
        min_capacity: serverless v2 minimum ACUs (0..256, steps of 0.5); 0 lets an idle
            cluster pause (dev).
        max_capacity: serverless v2 maximum ACUs, >= `min_capacity`.
        seconds_until_auto_pause: idle seconds before pausing (300..86400); only with
            `min_capacity` 0, where it defaults to 300.
        instance_class: instance class of provisioned instances, e.g. `db.r7g.large`.
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
        protect: protect + retain the cluster and instances, and add the AWS Backup plan.
        backup_kms_key_arn: key of the primary-region backup vault (backup domain); defaults
            to `kms_key_arn`.
        backup_schedule: AWS Backup schedule (cron, UTC); after the maintenance window.
        replica_provider: AWS provider for the second region; its vault receives copies.
        replica_backup_kms_key_arn: key in the second region for the replica vault; required
            with `replica_provider`.
        proxy: put an RDS Proxy (IAM auth end to end, TLS required) in front of the writer
            for connection pooling; `proxy_endpoint` is then where applications write.
        proxy_subnet_ids: subnets of the proxy (the isolated tier, at least two zones).
        proxy_logins: database logins clients connect as through the proxy.
    """

    name_prefix: str
    vpc_id: pulumi.Input[str]
    subnet_group_name: pulumi.Input[str]
    allowed_security_group_ids: Mapping[str, pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    logs_kms_key_arn: pulumi.Input[str]
    log_retention_days: int = 30
    engine_version: str = DEFAULT_ENGINE_VERSION
    serverless: bool = True
    min_capacity: float = 0.5
    max_capacity: float = 4.0
    seconds_until_auto_pause: int | None = None
    instance_class: str = "db.r7g.large"
    instance_count: int = 1
    availability_zones: Sequence[pulumi.Input[str]] = ()
    database_name: str = "app"
    master_username: str = "dbadmin"
    port: int = 5432
    backup_retention_days: int = 7
    backup_window: str = "02:00-03:00"
    maintenance_window: str = "sun:03:30-sun:04:30"
    deletion_protection: bool = True
    skip_final_snapshot: bool = False
    performance_insights_retention_days: int = 7
    monitoring_interval: int = 60
    log_min_duration_ms: int = 1000
    log_statement: str = "ddl"
    auto_minor_version_upgrade: bool = True
    ignore_engine_version_drift: bool = True
    allow_major_version_upgrade: bool = False
    apply_immediately: bool = False
    protect: bool = False
    backup_kms_key_arn: pulumi.Input[str] | None = None
    backup_schedule: str = "cron(0 5 * * ? *)"
    replica_provider: pulumi.ProviderResource | None = None
    replica_backup_kms_key_arn: pulumi.Input[str] | None = None
    proxy: bool = False
    proxy_subnet_ids: Sequence[pulumi.Input[str]] = ()
    proxy_logins: Sequence[str] = ()


def validate(name: str, args: DatabaseArgs) -> None:
    """Reject combinations RDS would reject late (or accept and regret)."""
    identifier = f"{args.name_prefix}-{name}"
    if not _IDENTIFIER.match(identifier):
        raise ValueError(
            f"cluster identifier {identifier!r} must be 2..35 lowercase letters, digits or "
            "single hyphens, starting with a letter"
        )
    if not args.allowed_security_group_ids:
        raise ValueError("allowed_security_group_ids is empty: nothing could reach the database")
    if args.serverless:
        lo, hi = args.min_capacity, args.max_capacity
        for label, acu in (("min_capacity", lo), ("max_capacity", hi)):
            if not 0 <= acu <= 256 or acu * 2 != int(acu * 2):
                raise ValueError(f"{label} {acu}: allowed 0..256 in steps of 0.5")
        if lo > hi:
            raise ValueError(f"min_capacity {lo} > max_capacity {hi}")
        if hi == 0:
            raise ValueError("max_capacity must be above 0")
        pause = args.seconds_until_auto_pause
        if pause is not None and lo != 0:
            raise ValueError("seconds_until_auto_pause needs min_capacity 0 (auto-pause)")
        if pause is not None and not 300 <= pause <= 86400:
            raise ValueError(f"seconds_until_auto_pause {pause}: allowed 300..86400")
    if args.instance_count < 1:
        raise ValueError(f"instance_count {args.instance_count}: at least 1 (the writer)")
    if not 1 <= args.backup_retention_days <= 35:
        raise ValueError(f"backup_retention_days {args.backup_retention_days}: allowed 1..35")
    if args.monitoring_interval not in MONITORING_INTERVALS:
        raise ValueError(
            f"monitoring_interval {args.monitoring_interval}: allowed {MONITORING_INTERVALS}"
        )
    pi_days = args.performance_insights_retention_days
    if not (pi_days == 7 or (pi_days % 31 == 0 and 31 <= pi_days <= 731)):
        raise ValueError(f"performance_insights_retention_days {pi_days}: 7 or 31*n up to 731")
    if args.log_statement not in ("none", "ddl", "mod", "all"):
        raise ValueError(f"log_statement {args.log_statement!r}: allowed none, ddl, mod, all")
    if args.protect and args.skip_final_snapshot:
        raise ValueError("skip_final_snapshot is for disposable (dev) clusters, not with protect")
    if args.replica_provider is not None and args.replica_backup_kms_key_arn is None:
        raise ValueError("replica_provider needs replica_backup_kms_key_arn for the copy vault")
    if args.proxy and args.serverless and args.min_capacity == 0:
        raise ValueError(
            "proxy with min_capacity 0: the proxy holds connections open, so the cluster would "
            "never auto-pause; raise min_capacity or turn the proxy off"
        )


def engine_major(version: str) -> str:
    """`17.5` -> `17`."""
    return version.split(".")[0]


class Database(pulumi.ComponentResource):
    """Aurora PostgreSQL cluster with its security group, parameter group and backups.

    Outputs: `endpoint`, `reader_endpoint`, `port`, `master_secret_arn`,
    `database_name`, `cluster_resource_id` (for `rds-db:connect` ARNs), `cluster_arn`,
    `cluster_identifier`, `security_group_id`, `proxy_endpoint` and `proxy_resource_id`
    (None without a proxy).
    """

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate(name, args)  # before registering anything
        super().__init__("platform:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(
            parent=self, protect=args.protect, retain_on_delete=args.protect
        )
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        identifier = f"{args.name_prefix}-{name}"

        self.security_group = store_security_group(
            self, name, args.vpc_id, args.port, args.allowed_security_group_ids, "PostgreSQL"
        )
        family = f"{ENGINE}{engine_major(args.engine_version)}"
        parameters = aws.rds.ClusterParameterGroup(
            f"{name}-params",
            # The family is in the name, so a major upgrade creates the new group beside the
            # old one instead of colliding with it.
            name=f"{identifier}-{family}",
            family=family,
            description=f"{identifier} Aurora PostgreSQL: TLS only, connection and DDL logging",
            parameters=[
                {"name": key, "value": value, "apply_method": "immediate"}
                for key, value in {
                    "rds.force_ssl": "1",
                    "log_connections": "1",
                    "log_disconnections": "1",
                    "log_statement": args.log_statement,
                    "log_min_duration_statement": str(args.log_min_duration_ms),
                }.items()
            ],
            opts=child,
        )
        # Created before the cluster so RDS exports into a KMS-encrypted group with retention
        # instead of auto-creating an unencrypted, never-expiring one.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-postgresql-logs",
            name=f"/aws/rds/cluster/{identifier}/postgresql",
            kms_key_id=args.logs_kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child,
        )

        scaling = None
        if args.serverless:
            scaling = aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                min_capacity=args.min_capacity,
                max_capacity=args.max_capacity,
                seconds_until_auto_pause=(
                    (args.seconds_until_auto_pause or 300) if args.min_capacity == 0 else None
                ),
            )
        self.cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=identifier,
            engine=ENGINE,
            engine_mode="provisioned",  # serverless v2 instances also run in provisioned mode
            engine_version=args.engine_version,
            allow_major_version_upgrade=args.allow_major_version_upgrade,
            database_name=args.database_name,
            master_username=args.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.kms_key_arn,
            iam_database_authentication_enabled=True,
            port=args.port,
            db_subnet_group_name=args.subnet_group_name,
            vpc_security_group_ids=[self.security_group.id],
            db_cluster_parameter_group_name=parameters.name,
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            serverlessv2_scaling_configuration=scaling,
            backup_retention_period=args.backup_retention_days,
            preferred_backup_window=args.backup_window,
            preferred_maintenance_window=args.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection or args.protect,
            skip_final_snapshot=args.skip_final_snapshot,
            final_snapshot_identifier=(
                None
                if args.skip_final_snapshot
                else final_snapshot_identifier(self, name, identifier)
            ),
            delete_automated_backups=not args.protect,
            enabled_cloudwatch_logs_exports=["postgresql"],
            apply_immediately=args.apply_immediately,
            opts=pulumi.ResourceOptions.merge(
                stateful,
                pulumi.ResourceOptions(
                    depends_on=[log_group],
                    # Auto minor upgrades move the live version past the pinned one; without
                    # this every later `up` would try (and fail) to downgrade it.
                    ignore_changes=["engineVersion"] if args.ignore_engine_version_drift else [],
                ),
            ),
        )

        monitoring_role = None
        if args.monitoring_interval:
            monitoring_role = _service_role(
                self,
                f"{name}-monitoring",
                "monitoring.rds.amazonaws.com",
                ["AmazonRDSEnhancedMonitoringRole"],
                partition,
            )
        self.instances: list[aws.rds.ClusterInstance] = []
        for index in range(args.instance_count):
            zone = (
                args.availability_zones[index % len(args.availability_zones)]
                if args.availability_zones
                else None
            )
            instance = aws.rds.ClusterInstance(
                f"{name}-instance-{index + 1}",
                identifier=f"{identifier}-{index + 1}",
                cluster_identifier=self.cluster.id,
                engine=ENGINE,
                instance_class="db.serverless" if args.serverless else args.instance_class,
                db_subnet_group_name=args.subnet_group_name,
                availability_zone=zone,
                # Instance 1 is created first and becomes the writer; readers are tier 1 so
                # they pause together with the writer when the cluster scales to zero.
                promotion_tier=0 if index == 0 else 1,
                publicly_accessible=False,
                ca_cert_identifier="rds-ca-rsa2048-g1",
                auto_minor_version_upgrade=args.auto_minor_version_upgrade,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=args.kms_key_arn,
                performance_insights_retention_period=args.performance_insights_retention_days,
                monitoring_interval=args.monitoring_interval,
                monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
                copy_tags_to_snapshot=True,
                apply_immediately=args.apply_immediately,
                opts=pulumi.ResourceOptions.merge(
                    stateful, pulumi.ResourceOptions(depends_on=self.instances[:1])
                ),
            )
            self.instances.append(instance)

        self.backup_plan: aws.backup.Plan | None = None
        if args.protect:
            self.backup_plan = self._backup_plan(name, args, partition)

        self.proxy: DatabaseProxy | None = None
        if args.proxy:
            self.proxy = DatabaseProxy(
                f"{name}-proxy",
                DatabaseProxyArgs(
                    proxy_name=f"{identifier}-proxy",
                    vpc_id=args.vpc_id,
                    subnet_ids=args.proxy_subnet_ids,
                    allowed_security_group_ids=args.allowed_security_group_ids,
                    database_security_group_id=self.security_group.id,
                    cluster_identifier=self.cluster.cluster_identifier,
                    cluster_resource_id=self.cluster.cluster_resource_id,
                    logins=args.proxy_logins,
                    port=args.port,
                    logs_kms_key_arn=args.logs_kms_key_arn,
                    log_retention_days=args.log_retention_days,
                    depends_on=self.instances,
                ),
                pulumi.ResourceOptions(parent=self),
            )

        self.endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.port = self.cluster.port
        self.database_name = args.database_name
        self.master_secret_arn = self.cluster.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn if secrets else None
        )
        self.cluster_resource_id = self.cluster.cluster_resource_id
        self.cluster_arn = self.cluster.arn
        self.cluster_identifier = self.cluster.cluster_identifier
        self.security_group_id = self.security_group.id
        self.proxy_endpoint = self.proxy.endpoint if self.proxy else None
        self.proxy_resource_id = self.proxy.resource_id if self.proxy else None
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "proxyEndpoint": self.proxy_endpoint,
                "readerEndpoint": self.reader_endpoint,
                "port": self.port,
                "masterSecretArn": self.master_secret_arn,
                "clusterResourceId": self.cluster_resource_id,
                "clusterArn": self.cluster_arn,
                "securityGroupId": self.security_group_id,
            }
        )

    def _backup_plan(
        self, name: str, args: DatabaseArgs, partition: pulumi.Output[str]
    ) -> aws.backup.Plan:
        """Daily AWS Backup of the cluster, copied to a vault in the replica region.

        Independent of RDS automated backups: recovery points live in a separate vault (and
        region), so they survive the deletion of the cluster or of its automated backups.
        """
        vault_opts = pulumi.ResourceOptions(parent=self, protect=args.protect)
        identifier = f"{args.name_prefix}-{name}"
        vault = aws.backup.Vault(
            f"{name}-backup-vault",
            name=f"{identifier}-backup",
            kms_key_arn=args.backup_kms_key_arn or args.kms_key_arn,
            opts=vault_opts,
        )
        copy_actions = []
        if args.replica_provider is not None:
            replica_vault = aws.backup.Vault(
                f"{name}-backup-vault-replica",
                name=f"{identifier}-backup-replica",
                kms_key_arn=args.replica_backup_kms_key_arn,
                opts=pulumi.ResourceOptions.merge(
                    vault_opts, pulumi.ResourceOptions(provider=args.replica_provider)
                ),
            )
            copy_actions.append(
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=replica_vault.arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=args.backup_retention_days
                    ),
                )
            )
        plan = aws.backup.Plan(
            f"{name}-backup-plan",
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name="daily",
                    target_vault_name=vault.name,
                    schedule=args.backup_schedule,
                    start_window=60,
                    completion_window=360,
                    lifecycle=aws.backup.PlanRuleLifecycleArgs(
                        delete_after=args.backup_retention_days
                    ),
                    copy_actions=copy_actions,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        role = _service_role(
            self,
            f"{name}-backup",
            "backup.amazonaws.com",
            [
                "AWSBackupServiceRolePolicyForBackup",
                "AWSBackupServiceRolePolicyForRestores",
            ],
            partition,
        )
        aws.backup.Selection(
            f"{name}-backup-selection",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=[self.cluster.arn],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return plan


def _service_role(
    parent: pulumi.Resource,
    name: str,
    service: str,
    managed_policies: Sequence[str],
    partition: pulumi.Output[str],
) -> aws.iam.Role:
    """A role only `service` can assume, with AWS-managed service-role policies attached."""
    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    for policy in managed_policies:
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy}",
            role=role.name,
            policy_arn=partition.apply(
                lambda p, policy=policy: f"arn:{p}:iam::aws:policy/service-role/{policy}"
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return role


def store_security_group(
    parent: pulumi.Resource,
    name: str,
    vpc_id: pulumi.Input[str],
    port: int,
    sources: Mapping[str, pulumi.Input[str]],
    protocol_name: str,
) -> aws.ec2.SecurityGroup:
    """One security group for a data store: `port` from each source group, nothing else.

    Shared by `Cache` and `Streaming`.

    No egress rules: security groups are stateful, so replies flow back to clients without
    one, and the store never opens connections itself.
    """
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=vpc_id,
        description=f"{name}: {protocol_name} from the allowed security groups only",
        revoke_rules_on_delete=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    for label, source in sources.items():
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-{label}",
            security_group_id=group.id,
            referenced_security_group_id=source,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"{protocol_name} from {label}",
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return group
