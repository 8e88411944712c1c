"""AWS Backup for a protected Aurora cluster: a daily plan copied to a second region."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.database.args import DatabaseArgs
from components.iam import service_role


def backup_plan(
    parent: pulumi.Resource,
    name: str,
    args: DatabaseArgs,
    cluster_arn: pulumi.Input[str],
    partition: pulumi.Input[str],
    account_id: pulumi.Input[str],
) -> aws.backup.Plan:
    """Daily AWS Backup of the cluster, copied to a vault in the replica region.

    Independent of RDS automated backups: recovery points live in a separate vault (and
    region), so they survive the deletion of the cluster or of its automated backups.
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
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=args.backup_retention_days),
                copy_actions=copy_actions,
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
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
    return plan
