"""RDS Proxy in front of Aurora: connection pooling with IAM authentication end to end.

Clients authenticate to the proxy with IAM tokens for their own login, and the proxy
authenticates to the database with IAM as that same login (`default_auth_scheme=IAM_AUTH`):
no password or secret anywhere. TLS is required, the proxy sits in the isolated subnets, and
its security group admits only the given sources (the EKS nodes) and may only reach the
database's security group on the PostgreSQL port.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arguments import require_valid
from components.data_store import store_security_group
from components.iam import service_trust_policy
from components.logs import encrypted_log_group

__all__ = [
    "PROXY_NAME",
    "DatabaseProxy",
    "DatabaseProxyArgs",
    "proxy_connect_policy",
    "proxy_name",
    "proxy_name_problems",
    "validate",
]


# 1..63 letters, digits, hyphens; a letter first; no trailing or double hyphen.
PROXY_NAME = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,61}[a-zA-Z0-9]$")


@dataclass(frozen=True, kw_only=True)
class DatabaseProxyArgs:
    """Inputs of `DatabaseProxy`.

    Attributes:
        proxy_name: physical proxy name (see `PROXY_NAME`); its log group is
            `/aws/rds/proxy/<proxy_name>`.
        vpc_id: VPC of the proxy's security group.
        subnet_ids: isolated subnets, at least two zones.
        allowed_security_group_ids: label -> security group allowed to connect (EKS nodes).
        database_security_group_id: the database's security group; the proxy may reach it and
            it gets an ingress rule from the proxy.
        cluster_identifier: the Aurora cluster the proxy targets.
        cluster_resource_id: the cluster's resource id, for the proxy role's `rds-db:connect`.
        logins: database logins clients may connect as (the proxy connects as each of them).
        port: PostgreSQL port.
        logs_kms_key_arn: key of the proxy's log group; log_retention_days its retention.
        idle_client_timeout_seconds: idle client connections are closed after this.
        max_connections_percent: share of the database's max_connections the pool may use.
        depends_on: the cluster's instances (a proxy target needs an available writer).
    """

    proxy_name: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    allowed_security_group_ids: Mapping[str, pulumi.Input[str]]
    database_security_group_id: pulumi.Input[str]
    cluster_identifier: pulumi.Input[str]
    cluster_resource_id: pulumi.Input[str]
    logins: Sequence[str]
    port: int
    logs_kms_key_arn: pulumi.Input[str]
    log_retention_days: int
    idle_client_timeout_seconds: int = 1800
    max_connections_percent: int = 90
    depends_on: Sequence[pulumi.Resource] = ()


def proxy_name(database_identifier: str) -> str:
    """The RDS Proxy's name for the cluster `database_identifier` (settings checks it too)."""
    return f"{database_identifier}-proxy"


def proxy_name_problems(name: str) -> list[str]:
    if PROXY_NAME.fullmatch(name):
        return []
    return [f"proxy name {name!r}: 1..63 letters, digits, single hyphens, a letter first"]


def validate(args: DatabaseProxyArgs) -> list[str]:
    """Problems with `args` (empty when valid)."""
    problems = proxy_name_problems(args.proxy_name)
    if len(args.subnet_ids) < 2:
        problems.append("subnet_ids: RDS Proxy needs subnets in at least two zones")
    if not args.logins:
        problems.append("logins: name the logins clients connect as (none would be usable)")
    if not 1 <= args.idle_client_timeout_seconds <= 28800:
        problems.append("idle_client_timeout_seconds: allowed 1..28800")
    if not 1 <= args.max_connections_percent <= 100:
        problems.append("max_connections_percent: allowed 1..100")
    return problems


def proxy_connect_policy(
    partition: str, region: str, account: str, resource_id: str, logins: Sequence[str]
) -> dict:
    """The proxy may log in to the cluster as exactly the application logins."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectAsApplicationLogins",
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": [
                    f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{login}"
                    for login in sorted(logins)
                ],
            }
        ],
    }


class DatabaseProxy(pulumi.ComponentResource):
    """RDS Proxy, its security group, role, log group, target group and target.

    Outputs: `endpoint` (writes and pooled reads-after-writes), `resource_id` (`prx-...`, for
    clients' `rds-db:connect` ARNs), `security_group_id`.
    """

    def __init__(
        self, name: str, args: DatabaseProxyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("DatabaseProxy", name, args, lambda: validate(args))
        super().__init__("platform:database:DatabaseProxy", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        partition = aws.get_partition_output(opts=invoke).partition

        group = store_security_group(
            self,
            name,
            args.vpc_id,
            args.port,
            args.allowed_security_group_ids,
            "PostgreSQL",
            description=f"{args.proxy_name}: PostgreSQL from the allowed groups, to the database",
        )
        # Security groups are stateful: only the proxy's own connections need an egress rule.
        egress = aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-database",
            security_group_id=group.id,
            referenced_security_group_id=args.database_security_group_id,
            ip_protocol="tcp",
            from_port=args.port,
            to_port=args.port,
            description="PostgreSQL to the Aurora cluster",
            opts=child,
        )
        ingress = aws.vpc.SecurityGroupIngressRule(
            f"{name}-into-database",
            security_group_id=args.database_security_group_id,
            referenced_security_group_id=group.id,
            ip_protocol="tcp",
            from_port=args.port,
            to_port=args.port,
            description="PostgreSQL from the RDS Proxy",
            opts=child,
        )

        role = aws.iam.Role(
            f"{name}-role",
            description=f"RDS Proxy {args.proxy_name}: IAM login to the cluster",
            assume_role_policy=account.apply(
                lambda a: json.dumps(service_trust_policy("rds.amazonaws.com", a))
            ),
            opts=child,
        )
        connect = aws.iam.RolePolicy(
            f"{name}-connect",
            role=role.id,
            policy=pulumi.Output.all(partition, region, account, args.cluster_resource_id).apply(
                lambda v: json.dumps(proxy_connect_policy(*v, args.logins))
            ),
            opts=child,
        )
        # Created first so RDS writes into a KMS-encrypted group with retention.
        log_group = encrypted_log_group(
            f"{name}-logs",
            name=f"/aws/rds/proxy/{args.proxy_name}",
            kms_key_arn=args.logs_kms_key_arn,
            retention_days=args.log_retention_days,
            opts=child,
        )
        self.proxy = aws.rds.Proxy(
            f"{name}",
            name=args.proxy_name,
            engine_family="POSTGRESQL",
            default_auth_scheme="IAM_AUTH",
            role_arn=role.arn,
            vpc_subnet_ids=list(args.subnet_ids),
            vpc_security_group_ids=[group.id],
            require_tls=True,
            idle_client_timeout=args.idle_client_timeout_seconds,
            debug_logging=False,  # would log statement text, including data
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[log_group, connect, egress, ingress]
            ),
        )
        target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-default",
            db_proxy_name=self.proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=args.max_connections_percent,
                max_idle_connections_percent=min(50, args.max_connections_percent),
                connection_borrow_timeout=120,
            ),
            opts=child,
        )
        aws.rds.ProxyTarget(
            f"{name}-cluster",
            db_proxy_name=self.proxy.name,
            target_group_name=target_group.name,
            db_cluster_identifier=args.cluster_identifier,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )

        self.endpoint = self.proxy.endpoint
        # The proxy ARN ends in its resource id: arn:aws:rds:<region>:<account>:db-proxy:prx-…
        self.resource_id = self.proxy.arn.apply(lambda arn: arn.rsplit(":", 1)[-1])
        self.security_group_id = group.id
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "resourceId": self.resource_id,
                "securityGroupId": self.security_group_id,
            }
        )
