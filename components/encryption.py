"""Customer-managed KMS keys, one per data domain.

Each key has rotation on, an alias, and a key policy that (1) keeps the account root as the
administrator so IAM policies decide who may use it, and (2) lets exactly the AWS services
of its domain use it, scoped to this account and region with `kms:ViaService` /
`kms:CallerAccount` (or, for CloudWatch Logs, which calls KMS as a service principal, an
encryption-context condition naming this account's log groups).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arguments import require_valid

__all__ = [
    "DEFAULT_DELETION_WINDOW_DAYS",
    "DELETION_WINDOW_DAYS",
    "DOMAIN_SERVICES",
    "Keys",
    "KeysArgs",
    "key_policy",
    "validate",
]


# Services that use each domain's key through the caller's grants (kms:ViaService).
DOMAIN_SERVICES: dict[str, tuple[str, ...]] = {
    "logs": (),  # CloudWatch Logs uses a service-principal statement instead, see below.
    "storage": ("s3",),
    "database": ("rds", "secretsmanager", "backup"),
    "cache": ("elasticache", "secretsmanager"),  # the auth token secret lives under it
    "streaming": ("kafka",),
    "cluster": ("eks", "ec2"),  # EKS secrets envelope encryption, EBS volumes of nodes/PVs
    "backup": ("backup", "rds"),
}


# How long a scheduled key deletion can still be cancelled (KMS allows 7..30 days).
DELETION_WINDOW_DAYS = (7, 30)
DEFAULT_DELETION_WINDOW_DAYS = 30
_ALIAS_PREFIX = re.compile(r"^[a-zA-Z0-9/_-]{1,200}$")


@dataclass(frozen=True, kw_only=True)
class KeysArgs:
    """Inputs of `Keys`.

    Attributes:
        domains: data domains that get their own key; each must be a key of
            `DOMAIN_SERVICES` (logs, storage, database, cache, streaming, cluster, backup).
        alias_prefix: aliases are `alias/<alias_prefix>-<domain>`; derive it from the stack so
            two stacks can share an account.
        deletion_window_days: 7..30; how long a scheduled key deletion can still be cancelled.
        protect: protect every key from `pulumi destroy` (prod) — losing a key loses the data.
    """

    domains: Sequence[str]
    alias_prefix: str
    deletion_window_days: int = DEFAULT_DELETION_WINDOW_DAYS
    protect: bool = False


def validate(args: KeysArgs) -> list[str]:
    """Every problem with `args` (empty when valid)."""
    problems = []
    unknown = sorted(set(args.domains) - set(DOMAIN_SERVICES))
    if unknown:
        problems.append(f"unknown key domains {unknown}; allowed: {sorted(DOMAIN_SERVICES)}")
    if len(set(args.domains)) != len(args.domains):
        problems.append(f"domains {list(args.domains)}: each domain once")
    low, high = DELETION_WINDOW_DAYS
    if not low <= args.deletion_window_days <= high:
        problems.append(f"deletionWindowDays {args.deletion_window_days}: allowed {low}..{high}")
    if not _ALIAS_PREFIX.match(args.alias_prefix) or args.alias_prefix.startswith("aws"):
        problems.append(
            f"alias_prefix {args.alias_prefix!r}: letters, digits, '/', '_', '-' (not 'aws…')"
        )
    return problems


class Keys(pulumi.ComponentResource):
    """One rotating customer-managed KMS key per data domain.

    Outputs: `keys[domain]` (the `aws.kms.Key`), `arns[domain]`.
    """

    def __init__(
        self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("Keys", name, args, lambda: validate(args))  # before registering anything
        super().__init__("platform:encryption:Keys", name, None, opts)

        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke_opts)
        region = aws.get_region_output(opts=invoke_opts)
        partition = aws.get_partition_output(opts=invoke_opts)

        self.keys: dict[str, aws.kms.Key] = {}
        for domain in args.domains:
            policy = pulumi.Output.all(
                identity.account_id, region.region, partition.partition
            ).apply(lambda v, d=domain: pulumi.Output.json_dumps(key_policy(d, *v)))
            key = aws.kms.Key(
                f"{name}-{domain}",
                description=f"{args.alias_prefix} {domain} data",
                enable_key_rotation=True,
                deletion_window_in_days=args.deletion_window_days,
                policy=policy,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            aws.kms.Alias(
                f"{name}-{domain}",
                name=f"alias/{args.alias_prefix}-{domain}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.keys[domain] = key

        self.arns = {domain: key.arn for domain, key in self.keys.items()}
        self.register_outputs({"arns": self.arns})


def key_policy(domain: str, account_id: str, region: str, partition: str) -> dict:
    """Key policy for one domain: account-root administration plus the domain's services."""
    root = f"arn:{partition}:iam::{account_id}:root"
    statements: list[dict] = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    services = DOMAIN_SERVICES[domain]
    if services:
        statements.append(
            {
                "Sid": "AllowUseThroughDomainServices",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services],
                    }
                },
            }
        )
    if domain == "logs":
        statements.append(
            {
                "Sid": "AllowCloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                        )
                    }
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
