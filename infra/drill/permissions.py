"""The IAM actions of the drill role, as data: what each boto3 call of the adapter needs.

`tests/drill/test_drill_permissions.py` reads every call in `infra/drill/adapters/` and fails
when one is missing here (or listed here but no longer made). The role is the one on the
GitHub environment `drill-<stack>`; scope its resources to the stack's names and to
`*-drill-*` copies where the action allows it (docs/restore.md, "The drill's role").
"""

from infra.drill.model import CREATED_BY, TAG_CREATED_BY

# (boto3 service, boto3 method) -> the IAM actions that call needs.
CALLS: dict[tuple[str, str], tuple[str, ...]] = {
    ("rds", "describe_db_clusters"): ("rds:DescribeDBClusters",),
    ("rds", "describe_db_instances"): ("rds:DescribeDBInstances",),
    # RDS checks the caller may use the copy's KMS key (it creates a grant for the copy).
    ("rds", "restore_db_cluster_to_point_in_time"): (
        "rds:RestoreDBClusterToPointInTime",
        "rds:AddTagsToResource",
        "kms:CreateGrant",
        "kms:DescribeKey",
    ),
    ("rds", "create_db_instance"): ("rds:CreateDBInstance", "rds:AddTagsToResource"),
    ("rds", "add_tags_to_resource"): ("rds:AddTagsToResource",),
    ("rds", "delete_db_instance"): ("rds:DeleteDBInstance",),
    ("rds", "delete_db_cluster"): ("rds:DeleteDBCluster",),
    ("backup", "list_recovery_points_by_backup_vault"): ("backup:ListRecoveryPointsByBackupVault",),
    ("backup", "get_recovery_point_restore_metadata"): ("backup:GetRecoveryPointRestoreMetadata",),
    # AWS Backup restores as the backup service role, which the drill role must pass.
    ("backup", "start_restore_job"): ("backup:StartRestoreJob", "iam:PassRole"),
    ("backup", "describe_restore_job"): ("backup:DescribeRestoreJob",),
    ("elasticache", "describe_replication_groups"): ("elasticache:DescribeReplicationGroups",),
    ("elasticache", "describe_cache_clusters"): ("elasticache:DescribeCacheClusters",),
    ("elasticache", "describe_snapshots"): ("elasticache:DescribeSnapshots",),
    ("elasticache", "create_replication_group"): (
        "elasticache:CreateReplicationGroup",
        "elasticache:AddTagsToResource",
        "kms:CreateGrant",
        "kms:DescribeKey",
    ),
    ("elasticache", "list_tags_for_resource"): ("elasticache:ListTagsForResource",),
    ("elasticache", "delete_replication_group"): ("elasticache:DeleteReplicationGroup",),
    ("secretsmanager", "get_secret_value"): ("secretsmanager:GetSecretValue", "kms:Decrypt"),
    ("resourcegroupstaggingapi", "get_resources"): ("tag:GetResources",),
    ("s3", "list_object_versions"): ("s3:ListBucketVersions",),
    ("s3", "head_bucket"): ("s3:ListBucket",),
    ("s3", "create_bucket"): ("s3:CreateBucket", "s3:PutBucketOwnershipControls"),
    ("s3", "put_bucket_tagging"): ("s3:PutBucketTagging",),
    ("s3", "put_public_access_block"): ("s3:PutBucketPublicAccessBlock",),
    ("s3", "put_bucket_encryption"): ("s3:PutEncryptionConfiguration",),
    # Reads the old version and writes a new one, under SSE-KMS on both sides.
    ("s3", "copy_object"): (
        "s3:GetObjectVersion",
        "s3:GetObjectVersionTagging",
        "s3:PutObject",
        "s3:PutObjectTagging",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    ),
    ("s3", "delete_object"): ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "head_object"): ("s3:GetObject", "s3:GetObjectVersion"),
    ("s3", "get_bucket_tagging"): ("s3:GetBucketTagging",),
    ("s3", "get_object_tagging"): ("s3:GetObjectVersionTagging",),
    ("s3", "delete_objects"): ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "delete_bucket"): ("s3:DeleteBucket",),
}


def actions() -> list[str]:
    """Every IAM action the drill role needs, sorted, once each."""
    return sorted({action for needed in CALLS.values() for action in needed})


def policy(environment: str) -> dict:
    """The drill role's identity policy for one environment: the actions above, and deletes
    only of what the drill created (tagged `platform:created-by=drill`): it may restore
    beside the live stores, never remove them."""
    deletes = [
        "rds:DeleteDBCluster",
        "rds:DeleteDBInstance",
        "elasticache:DeleteReplicationGroup",
        "s3:DeleteBucket",
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "DrillCalls", "Effect": "Allow", "Action": actions(), "Resource": "*"},
            {
                "Sid": "DeleteOnlyWhatTheDrillCreated",
                "Effect": "Deny",
                "Action": deletes,
                "Resource": "*",
                "Condition": {"StringNotEquals": {f"aws:ResourceTag/{TAG_CREATED_BY}": CREATED_BY}},
            },
            {
                # The drill works on this environment's stores and its own copies only.
                "Sid": "OnlyThisEnvironmentsSecrets",
                "Effect": "Deny",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:ResourceTag/environment": environment}},
            },
        ],
    }
