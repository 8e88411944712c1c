"""The S3 bucket policies of `components.storage`, as plain documents (pure, testable).

Kept apart from the component so the component reads as "what gets created" and these read
as "who may do what": TLS-only access, log delivery principals, and replication's least
privilege.
"""

from __future__ import annotations

from components.alb import ACCESS_LOG_PREFIX as ALB_LOG_PREFIX

__all__ = [
    "bucket_policy",
    "replication_policy",
]


def bucket_policy(
    bucket_arn: str,
    account_id: str,
    *,
    accepts_access_logs: bool,
    alb_logs: bool = False,
    elb_account: str | None = None,
) -> dict:
    """Deny anything not over TLS; log buckets also admit the S3 logging service, and with
    `alb_logs` the region's load balancers under `alb/` (as the ELB account where the region
    delivers that way, else as the log delivery service for this account)."""
    statements: list[dict] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]
    if accepts_access_logs:
        # With BucketOwnerEnforced, log delivery is granted by policy rather than ACL.
        statements.append(
            {
                "Sid": "S3ServerAccessLogsDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
    if alb_logs:
        alb_prefix = f"{bucket_arn}/{ALB_LOG_PREFIX}/*/AWSLogs/{account_id}/*"
        statements.append(
            {
                "Sid": "AlbAccessLogsDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": alb_prefix,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
        if elb_account:
            statements.append(
                {
                    "Sid": "AlbAccessLogsDeliveryLegacyRegion",
                    "Effect": "Allow",
                    "Principal": {"AWS": elb_account},
                    "Action": "s3:PutObject",
                    "Resource": alb_prefix,
                }
            )
    return {"Version": "2012-10-17", "Statement": statements}


def replication_policy(
    sources: list[str], destinations: list[str], source_key: str, replica_key: str
) -> dict:
    """Least privilege for S3 replication: read versions here, write replicas there."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": sources,
            },
            {
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": [f"{s}/*" for s in sources],
            },
            {
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": [f"{d}/*" for d in destinations],
            },
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [source_key]},
            {
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": [replica_key],
            },
        ],
    }
