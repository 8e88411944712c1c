"""What every data store shares (Aurora, ElastiCache, MSK): where it sits, who may reach it,
how it is encrypted and logged — documented and checked once.

`StorePlacement` is the keyword-only base of `DatabaseArgs`, `CacheArgs` and `StreamingArgs`;
`placement_problems` is its check; `store_security_group` the security group each store (and
the RDS Proxy) gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.logs import LOG_RETENTION_DAYS

__all__ = [
    "DEFAULT_LOG_RETENTION_DAYS",
    "StorePlacement",
    "placement_problems",
    "store_security_group",
]


DEFAULT_LOG_RETENTION_DAYS = 30


@dataclass(frozen=True, kw_only=True)
class StorePlacement:
    """Placement and encryption of a data store.

    Attributes:
        name_prefix: stack-derived prefix of physical names, e.g. `platform-prod`; the store's
            identifier is `<name_prefix>-<component name>` (each store's own length rule).
        vpc_id: VPC of the store's security group.
        allowed_security_group_ids: label -> security group id allowed to connect (EKS node
            and cluster security groups); one described ingress rule per entry and port.
        kms_key_arn: customer-managed key of the store's data domain: data at rest, snapshots
            and the store's own secrets.
        logs_kms_key_arn: customer-managed key (logs domain) for the store's log groups.
        log_retention_days: retention of those log groups (a CloudWatch Logs value).
        protect: protect + retain what holds data (and snapshot or back it up as the store
            says).
    """

    name_prefix: str
    vpc_id: pulumi.Input[str]
    allowed_security_group_ids: Mapping[str, pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    logs_kms_key_arn: pulumi.Input[str]
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    protect: bool = False


def placement_problems(args: StorePlacement, reached: str) -> list[str]:
    """The shared checks; `reached` names what clients connect to (`the brokers`)."""
    problems = []
    if not args.allowed_security_group_ids:
        problems.append(f"allowed_security_group_ids is empty: nothing could reach {reached}")
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"log_retention_days {args.log_retention_days}: a CloudWatch Logs value")
    return problems


def store_security_group(
    parent: pulumi.Resource,
    name: str,
    vpc_id: pulumi.Input[str],
    port: int,
    sources: Mapping[str, pulumi.Input[str]],
    protocol_name: str,
    description: str | None = None,
) -> aws.ec2.SecurityGroup:
    """One security group for a data store: `port` from each source group, nothing else.

    Shared by `Database`, `Cache`, `Streaming` and `DatabaseProxy` (which adds its egress to
    the database). `description` is force-new on a security group: changing it replaces the
    group, so each caller keeps the one it was created with.

    No egress rules: security groups are stateful, so replies flow back to clients without
    one, and the store never opens connections itself.
    """
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=vpc_id,
        description=description or f"{name}: {protocol_name} from the allowed security groups only",
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
