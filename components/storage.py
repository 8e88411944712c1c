"""S3 buckets with every control on by default, plus cross-region replication when asked.

Each bucket gets: all four public-access blocks, BucketOwnerEnforced (ACLs off), versioning,
default encryption, a policy denying any request not made over TLS, lifecycle rules (abort
incomplete multipart uploads, expire old versions, tier to Standard-IA), and server access
logging to a dedicated log bucket in the same region.

Data buckets use SSE-KMS with the customer-managed key and S3 Bucket Keys (fewer KMS calls).
Log buckets use SSE-S3 because S3 server access logging cannot deliver to a bucket whose
default encryption is SSE-KMS; they are not logged themselves (that would loop).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arguments import require_valid
from components.bucket_policies import bucket_policy, replication_policy
from components.iam import service_trust_policy

__all__ = [
    "ABORT_MULTIPART_AFTER_DAYS",
    "ACCOUNT_ID_LENGTH",
    "INFREQUENT_ACCESS_MIN_DAYS",
    "LOG_PURPOSE",
    "MAX_BUCKET_NAME",
    "REPLICA_LOG_PURPOSE",
    "REPLICA_SUFFIX",
    "AlbLogDelivery",
    "Buckets",
    "BucketsArgs",
    "ReplicaArgs",
    "bucket_name_problems",
    "bucket_names",
    "validate",
]


ABORT_MULTIPART_AFTER_DAYS = 7
INFREQUENT_ACCESS_MIN_DAYS = 30  # S3 refuses a Standard-IA transition earlier than this
MAX_BUCKET_NAME = 63
ACCOUNT_ID_LENGTH = 12
LOG_PURPOSE = "logs"
REPLICA_LOG_PURPOSE = "replica-logs"
REPLICA_SUFFIX = "-replica"
_PURPOSE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True, kw_only=True)
class ReplicaArgs:
    """Where prod copies its data buckets.

    Attributes:
        provider: AWS provider aliased to the second region.
        region: the second region's name (for names and tags only).
        kms_key_arn: customer-managed key *in the second region* for the replicas.
    """

    provider: pulumi.ProviderResource
    region: str
    kms_key_arn: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class AlbLogDelivery:
    """Let the region's load balancers write access logs to the log bucket (under `alb/`).

    Attributes:
        elb_account_arn: the Elastic Load Balancing account of the region, for regions
            launched before August 2022, which deliver as that account
            (`aws.elb.get_service_account`); None for newer regions, which deliver as the
            `logdelivery.elasticloadbalancing.amazonaws.com` service (always admitted).
    """

    elb_account_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True, kw_only=True)
class BucketsArgs:
    """Inputs of `Buckets`.

    Attributes:
        name_prefix: bucket names are `<name_prefix>-<purpose>-<account id>`.
        kms_key_arn: customer-managed key for the data buckets.
        purposes: data buckets to create (default: application assets and backups).
        noncurrent_version_expiry_days: delete object versions this long after they are
            replaced or deleted.
        infrequent_access_after_days: move current objects to Standard-IA after this (>= 30).
        access_log_expiry_days: how long server access logs are kept.
        force_destroy: let `pulumi destroy` empty non-empty buckets (disposable dev only).
        protect: protect and retain every bucket (prod): a routine change can never delete data.
        replica: replicate every data bucket to a second region (prod), or None.
        alb_log_delivery: admit ALB access logs into the (primary) log bucket, or None.
    """

    name_prefix: str
    kms_key_arn: pulumi.Input[str]
    purposes: Sequence[str] = ("assets", "backups")
    noncurrent_version_expiry_days: int = 90
    infrequent_access_after_days: int = 30
    access_log_expiry_days: int = 365
    force_destroy: bool = False
    protect: bool = False
    replica: ReplicaArgs | None = None
    alb_log_delivery: AlbLogDelivery | None = None


def bucket_names(name_prefix: str, purposes: Sequence[str], replica: bool) -> list[str]:
    """Every physical bucket name, with a 12-digit account id standing in for the real one."""
    physical = [LOG_PURPOSE, *purposes]
    if replica:
        physical += [REPLICA_LOG_PURPOSE, *(f"{p}{REPLICA_SUFFIX}" for p in purposes)]
    return [f"{name_prefix}-{p}-{'0' * ACCOUNT_ID_LENGTH}" for p in physical]


def bucket_name_problems(name_prefix: str, purposes: Sequence[str], replica: bool) -> list[str]:
    """Why the buckets' names would break S3's rules (3..63 lowercase, digits, hyphens)."""
    problems = []
    for name in bucket_names(name_prefix, purposes, replica):
        if len(name) > MAX_BUCKET_NAME or not _PURPOSE.match(name):
            problems.append(
                f"bucket name {name.replace('0' * ACCOUNT_ID_LENGTH, '<account>')!r} would be "
                f"{len(name)} characters; S3 allows {MAX_BUCKET_NAME} lowercase letters, digits "
                "and hyphens"
            )
    return problems


def validate(args: BucketsArgs) -> list[str]:
    """Every problem with `args` (empty when valid)."""
    problems = bucket_name_problems(args.name_prefix, args.purposes, args.replica is not None)
    if len(set(args.purposes)) != len(args.purposes) or LOG_PURPOSE in args.purposes:
        problems.append(f"purposes {list(args.purposes)}: unique, and not {LOG_PURPOSE!r}")
    if args.infrequent_access_after_days < INFREQUENT_ACCESS_MIN_DAYS:
        problems.append(
            f"infrequentAccessAfterDays {args.infrequent_access_after_days}: at least "
            f"{INFREQUENT_ACCESS_MIN_DAYS} (S3's minimum for Standard-IA)"
        )
    for key in ("noncurrent_version_expiry_days", "access_log_expiry_days"):
        if getattr(args, key) < 1:
            problems.append(f"{key} {getattr(args, key)}: at least 1")
    if args.force_destroy and args.protect:
        problems.append("force_destroy empties buckets on destroy: not with protect")
    return problems


class Buckets(pulumi.ComponentResource):
    """Data buckets, their access-log bucket and (optionally) replicas in a second region.

    Outputs: `buckets[purpose]`, `names[purpose]` (data buckets), `log_bucket`,
    `replica_names[purpose]` when replication is on.
    """

    def __init__(
        self, name: str, args: BucketsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("Buckets", name, args, lambda: validate(args))  # before registering anything
        super().__init__("platform:storage:Buckets", name, None, opts)
        self._args = args
        self._versioning: dict[str, aws.s3.BucketVersioning] = {}  # by bucket resource name
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self._account = identity.account_id

        delivery = args.alb_log_delivery
        self._elb_account = delivery.elb_account_arn if delivery else None
        self.log_bucket = self._log_bucket(
            f"{name}-{LOG_PURPOSE}", LOG_PURPOSE, provider=None, alb_logs=delivery is not None
        )
        self.buckets = {
            purpose: self._data_bucket(
                f"{name}-{purpose}", purpose, args.kms_key_arn, self.log_bucket, provider=None
            )
            for purpose in args.purposes
        }
        self.names = {purpose: bucket.bucket for purpose, bucket in self.buckets.items()}

        self.replica_names: dict[str, pulumi.Output[str]] = {}
        if args.replica:
            self._replicate(name, args.replica)

        self.register_outputs(
            {
                "names": self.names,
                "logBucket": self.log_bucket.bucket,
                "replicas": self.replica_names,
            }
        )

    # -- buckets ----------------------------------------------------------------------------------
    def _bucket(
        self, name: str, physical: str, provider, kms_key_arn, alb_logs: bool = False
    ) -> aws.s3.Bucket:
        args = self._args
        bucket = aws.s3.Bucket(
            name,
            bucket=self._account.apply(lambda account: f"{args.name_prefix}-{physical}-{account}"),
            force_destroy=args.force_destroy,
            opts=pulumi.ResourceOptions(
                parent=self, provider=provider, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        opts = pulumi.ResourceOptions(parent=bucket, provider=provider)
        access_block = aws.s3.BucketPublicAccessBlock(
            name,
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        aws.s3.BucketOwnershipControls(
            name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=opts
        )
        self._versioning[name] = aws.s3.BucketVersioning(
            name, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=opts
        )
        default = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn}
            if kms_key_arn is not None
            else {"sse_algorithm": "AES256"}
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": default,
                    "bucket_key_enabled": kms_key_arn is not None,
                }
            ],
            opts=opts,
        )
        aws.s3.BucketPolicy(
            name,
            bucket=bucket.id,
            policy=pulumi.Output.all(
                bucket.arn, self._account, self._elb_account if alb_logs else None
            ).apply(
                lambda v, logs=kms_key_arn is None, alb=alb_logs: json.dumps(
                    bucket_policy(
                        v[0], v[1], accepts_access_logs=logs, alb_logs=alb, elb_account=v[2]
                    )
                )
            ),
            # The public access block must exist first so the policy is judged against it.
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=[access_block])
            ),
        )
        return bucket

    def _data_bucket(self, name, purpose, kms_key_arn, log_bucket, provider) -> aws.s3.Bucket:
        bucket = self._bucket(name, purpose, provider, kms_key_arn)
        opts = pulumi.ResourceOptions(parent=bucket, provider=provider)
        args = self._args
        aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                _abort_multipart_rule(),
                {
                    "id": "tier-and-expire-versions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "transitions": [
                        {
                            "days": args.infrequent_access_after_days,
                            "storage_class": "STANDARD_IA",
                        }
                    ],
                    "noncurrent_version_expiration": {
                        "noncurrent_days": args.noncurrent_version_expiry_days
                    },
                },
            ],
            opts=opts,
        )
        aws.s3.BucketLogging(
            name,
            bucket=bucket.id,
            target_bucket=log_bucket.id,
            target_prefix=f"{purpose}/",
            opts=opts,
        )
        return bucket

    def _log_bucket(self, name, physical, provider, alb_logs: bool = False) -> aws.s3.Bucket:
        bucket = self._bucket(name, physical, provider, kms_key_arn=None, alb_logs=alb_logs)
        aws.s3.BucketLifecycleConfiguration(
            name,
            bucket=bucket.id,
            rules=[
                _abort_multipart_rule(),
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": self._args.access_log_expiry_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                },
            ],
            opts=pulumi.ResourceOptions(parent=bucket, provider=provider),
        )
        return bucket

    # -- replication ------------------------------------------------------------------------------
    def _replicate(self, name: str, replica: ReplicaArgs) -> None:
        replica_logs = self._log_bucket(
            f"{name}-{REPLICA_LOG_PURPOSE}", REPLICA_LOG_PURPOSE, replica.provider
        )
        destinations = {
            purpose: self._data_bucket(
                f"{name}-{purpose}{REPLICA_SUFFIX}",
                f"{purpose}{REPLICA_SUFFIX}",
                replica.kms_key_arn,
                replica_logs,
                replica.provider,
            )
            for purpose in self.buckets
        }
        self.replica_names = {p: b.bucket for p, b in destinations.items()}
        role = aws.iam.Role(
            f"{name}-replication",
            description="S3 cross-region replication of the data buckets",
            assume_role_policy=self._account.apply(
                lambda account: json.dumps(service_trust_policy("s3.amazonaws.com", account))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        pairs = [(self.buckets[p].arn, destinations[p].arn) for p in self.buckets]
        role_policy = aws.iam.RolePolicy(
            f"{name}-replication",
            role=role.id,
            policy=pulumi.Output.all(
                [s for s, _ in pairs],
                [d for _, d in pairs],
                self._args.kms_key_arn,
                replica.kms_key_arn,
            ).apply(lambda v: json.dumps(replication_policy(*v))),
            opts=pulumi.ResourceOptions(parent=role),
        )
        for purpose, source in self.buckets.items():
            aws.s3.BucketReplicationConfig(
                f"{name}-{purpose}",
                bucket=source.id,
                role=role.arn,
                rules=[
                    {
                        "id": "to-second-region",
                        "status": "Enabled",
                        "filter": {"prefix": ""},
                        "delete_marker_replication": {"status": "Enabled"},
                        "source_selection_criteria": {
                            "sse_kms_encrypted_objects": {"status": "Enabled"}
                        },
                        "destination": {
                            "bucket": destinations[purpose].arn,
                            "storage_class": "STANDARD_IA",
                            "encryption_configuration": {"replica_kms_key_id": replica.kms_key_arn},
                        },
                    }
                ],
                # S3 refuses replication until versioning is on at both ends, and the role
                # must be able to read and write before the first object moves.
                opts=pulumi.ResourceOptions(
                    parent=source,
                    depends_on=[
                        self._versioning[f"{name}-{purpose}"],
                        self._versioning[f"{name}-{purpose}{REPLICA_SUFFIX}"],
                        role_policy,
                    ],
                ),
            )


def _abort_multipart_rule() -> dict:
    return {
        "id": "abort-incomplete-multipart-uploads",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_AFTER_DAYS},
    }
