"""AWS Backup for a protected Aurora cluster: a daily plan copied to a second region, and
an hourly copy there, so a region loss loses at most about an hour (the brief's RPO)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.database.args import DatabaseArgs
from components.iam import service_role

__all__ = [
    "HOURLY",
    "HOURLY_RETENTION_DAYS",
    "Backup",
    "backup_plan",
]


# Hourly recovery points (and their copies in the replica region) are kept this long: they
# only bound a region loss's RPO; the daily points keep the long history.
HOURLY_RETENTION_DAYS = 2
HOURLY = "cron(0 * ? * * *)"


@dataclass(frozen=True)
class Backup:
    """What `backup_plan` made: the plan, its vaults and the role AWS Backup acts as (also
    the role a restore of a recovery point passes)."""

    plan: aws.backup.Plan
    vault: aws.backup.Vault
    replica_vault: aws.backup.Vault | None
    role: aws.iam.Role


def backup_plan(
    parent: pulumi.Resource,
    name: str,
    args: DatabaseArgs,
    cluster_arn: pulumi.Input[str],
    partition: pulumi.Input[str],
    account_id: pulumi.Input[str],
) -> Backup:
    """Daily AWS Backup of the cluster, copied to a vault in the replica region; with a
    replica, also an hourly point copied there (kept `HOURLY_RETENTION_DAYS`).

    Independent of RDS automated backups: recovery points live in a separate vault (and
    region), so they survive the deletion of the cluster or of its automated backups. In the
    primary region PITR already gives minutes; the hourly copies are what bounds the RPO of a
    region loss (AWS Backup's shortest schedule is one hour; a copy takes minutes to tens of
    minutes, growing with the change since the last one).
    """
    vault_opts = pulumi.ResourceOptions(parent=parent, protect=args.protect)
    identifier = f"{args.name_prefix}-{name}"
    vault = aws.backup.Vault(
        f"{name}-backup-vault",
        name=f"{identifier}-backup",
        kms_key_arn=args.backup_kms_key_arn or args.kms_key_arn,
        opts=vault_opts,
    )
    copy_actions = []
    replica_vault = None
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
    rules = [
        aws.backup.PlanRuleArgs(
            rule_name="daily",
            target_vault_name=vault.name,
            schedule=args.backup_schedule,
            start_window=60,
            completion_window=360,
            lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=args.backup_retention_days),
            copy_actions=copy_actions,
        )
    ]
    if replica_vault is not None:
        rules.append(
            aws.backup.PlanRuleArgs(
                rule_name="hourly-copy",
                target_vault_name=vault.name,
                schedule=HOURLY,
                start_window=60,
                completion_window=120,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=HOURLY_RETENTION_DAYS),
                copy_actions=[
                    aws.backup.PlanRuleCopyActionArgs(
                        destination_vault_arn=replica_vault.arn,
                        lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                            delete_after=HOURLY_RETENTION_DAYS
                        ),
                    )
                ],
            )
        )
    plan = aws.backup.Plan(
        f"{name}-backup-plan", rules=rules, opts=pulumi.ResourceOptions(parent=parent)
    )
    role, _ = service_role(
        f"{name}-backup-role",
        service_principal="backup.amazonaws.com",
        account_id=account_id,
        partition=partition,
        aws_managed_policies=[
            "service-role/AWSBackupServiceRolePolicyForBackup",
            "service-role/AWSBackupServiceRolePolicyForRestores",
        ],
        attachment_prefix=f"{name}-backup",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.backup.Selection(
        f"{name}-backup-selection",
        plan_id=plan.id,
        iam_role_arn=role.arn,
        resources=[cluster_arn],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return Backup(plan, vault, replica_vault, role)
