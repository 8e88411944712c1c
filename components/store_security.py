"""The security group every data store gets: its port from the allowed groups, nothing else."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def store_security_group(
    parent: pulumi.Resource,
    name: str,
    vpc_id: pulumi.Input[str],
    port: int,
    sources: Mapping[str, pulumi.Input[str]],
    protocol_name: str,
) -> aws.ec2.SecurityGroup:
    """One security group for a data store: `port` from each source group, nothing else.

    Shared by `Database`, `Cache` and `Streaming`.

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
