"""A recovery site: where a region's backup copies can be restored (the replica region).

A network for data stores alone — isolated subnets and no way out (no NAT, no internet route
from the private tier), its DB subnet group — and a security group for restored Aurora
clusters that admits nothing until an operator adds a rule. It costs almost nothing while
idle (no NAT gateway, no endpoints; flow logs only for traffic there is).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arguments import require_valid
from components.network import Network, NetworkArgs
from components.network import validate as network_problems

__all__ = [
    "RECOVERY_ZONES",
    "RecoverySite",
    "RecoverySiteArgs",
    "validate",
]


# A DB subnet group needs subnets in two zones.
RECOVERY_ZONES = 2


@dataclass(frozen=True, kw_only=True)
class RecoverySiteArgs:
    """Inputs of `RecoverySite`.

    Attributes:
        name_prefix: prefix of physical names, e.g. `platform-prod-recovery`.
        cidr: the site's VPC range; apart from the primary VPC's so the two could be peered.
        flow_log_kms_key_arn: customer-managed key (logs domain, the site's region).
        flow_log_retention_days: flow-log retention (a CloudWatch Logs value).
    """

    name_prefix: str
    cidr: str
    flow_log_kms_key_arn: pulumi.Input[str]
    flow_log_retention_days: int


def _network_args(args: RecoverySiteArgs) -> NetworkArgs:
    return NetworkArgs(
        name_prefix=args.name_prefix,
        cidr=args.cidr,
        az_count=RECOVERY_ZONES,
        nat_gateways="none",
        flow_log_kms_key_arn=args.flow_log_kms_key_arn,
        flow_log_retention_days=args.flow_log_retention_days,
        interface_endpoints=False,
    )


def validate(args: RecoverySiteArgs) -> list[str]:
    return network_problems(_network_args(args))


class RecoverySite(pulumi.ComponentResource):
    """Outputs: `db_subnet_group_name`, `database_security_group_id`, `vpc_id`."""

    def __init__(
        self, name: str, args: RecoverySiteArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("RecoverySite", name, args, lambda: validate(args))
        super().__init__("platform:recovery:RecoverySite", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        network = Network(f"{name}-network", _network_args(args), child)
        group = aws.ec2.SecurityGroup(
            f"{name}-database-sg",
            vpc_id=network.vpc_id,
            description="restored Aurora copies: no ingress until an operator adds one",
            revoke_rules_on_delete=True,
            opts=child,
        )
        self.vpc_id = network.vpc_id
        self.db_subnet_group_name = network.db_subnet_group_name
        self.database_security_group_id = group.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "dbSubnetGroupName": self.db_subnet_group_name,
                "databaseSecurityGroupId": self.database_security_group_id,
            }
        )
