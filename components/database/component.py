"""`Database`: the Aurora cluster, its instances, parameter and log groups (see the package)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.arguments import require_valid
from components.data_store import store_security_group
from components.database.args import ENGINE, DatabaseArgs, engine_major, validate
from components.database.backup import Backup, backup_plan
from components.database.proxy import DatabaseProxy, DatabaseProxyArgs, proxy_name
from components.iam import service_role
from components.logs import encrypted_log_group
from components.snapshots import final_snapshot_identifier

__all__ = [
    "Database",
]


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
        require_valid(
            "Database", name, args, lambda: validate(args, name)
        )  # before registering anything
        super().__init__("platform:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(
            parent=self, protect=args.protect, retain_on_delete=args.protect
        )
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
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
        log_group = encrypted_log_group(
            f"{name}-postgresql-logs",
            name=f"/aws/rds/cluster/{identifier}/postgresql",
            kms_key_arn=args.logs_kms_key_arn,
            retention_days=args.log_retention_days,
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
            monitoring_role, _ = service_role(
                f"{name}-monitoring-role",
                service_principal="monitoring.rds.amazonaws.com",
                account_id=account_id,
                partition=partition,
                aws_managed_policies=["service-role/AmazonRDSEnhancedMonitoringRole"],
                attachment_prefix=f"{name}-monitoring",
                opts=child,
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

        self.backup: Backup | None = None
        if args.protect:
            self.backup = backup_plan(self, name, args, self.cluster.arn, partition, account_id)

        self.proxy: DatabaseProxy | None = None
        # The proxy authenticates clients as the application logins (IAM end to end): with
        # none yet (a platform deployed before its first service) there is nothing it could
        # let in, so it is created with the first login rather than refused.
        if args.proxy and args.proxy_logins:
            self.proxy = DatabaseProxy(
                f"{name}-proxy",
                DatabaseProxyArgs(
                    proxy_name=proxy_name(identifier),
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
        # For restores (the DR drill): where the recovery points are, and the role that
        # restores them.
        backup = self.backup
        self.backup_vault_name = backup.vault.name if backup else None
        self.replica_backup_vault_name = (
            backup.replica_vault.name if backup and backup.replica_vault else None
        )
        self.backup_role_arn = backup.role.arn if backup else None
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
