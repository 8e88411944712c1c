"""A data tier for an EKS cluster that already exists: its own VPC (isolated subnets, no NAT),
Aurora PostgreSQL Serverless v2 and a Valkey cache, reachable from the cluster's nodes only.

The cluster's VPC is peered with the data VPC; the stores' security groups admit the cluster's
node security group by id, which AWS allows across a same-region peering.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cache import Cache, CacheArgs
from components.database import Database, DatabaseArgs
from components.encryption import Keys, KeysArgs
from components.network import Network, NetworkArgs


def main() -> None:
    config = pulumi.Config()
    prefix = f"{pulumi.get_project()}-{pulumi.get_stack()}"
    keys = Keys("keys", KeysArgs(domains=["logs", "database", "cache"], alias_prefix=prefix))
    network = Network(
        "data",
        NetworkArgs(
            name_prefix=prefix,
            cidr=config.get("dataVpcCidr") or "10.40.0.0/16",
            az_count=3,
            nat_gateways="none",  # the stores never call out
            flow_log_kms_key_arn=keys.arns["logs"],
            flow_log_retention_days=30,
            interface_endpoints=False,
        ),
    )
    cluster_cidr = config.require("clusterVpcCidr")
    peering = aws.ec2.VpcPeeringConnection(
        "cluster-to-data",
        vpc_id=config.require("clusterVpcId"),
        peer_vpc_id=network.vpc_id,
        auto_accept=True,  # same account and region
        tags={"Name": f"{prefix}-cluster-to-data"},
    )
    for i, table in enumerate(config.require_object("clusterRouteTableIds")):
        aws.ec2.Route(
            f"cluster-to-data-{i}",
            route_table_id=table,
            destination_cidr_block=network.vpc_cidr,
            vpc_peering_connection_id=peering.id,
        )
    # The stores' replies go back over the peering from the isolated tier only.
    aws.ec2.Route(
        "data-to-cluster",
        route_table_id=network.isolated_route_table.id,
        destination_cidr_block=cluster_cidr,
        vpc_peering_connection_id=peering.id,
    )
    placement = {
        "name_prefix": prefix,
        "vpc_id": network.vpc_id,
        "allowed_security_group_ids": {"nodes": config.require("clusterNodeSecurityGroupId")},
        "logs_kms_key_arn": keys.arns["logs"],
    }
    database = Database(
        "db",
        DatabaseArgs(
            **placement,
            kms_key_arn=keys.arns["database"],
            subnet_group_name=network.db_subnet_group_name,
            min_capacity=0.5,
            max_capacity=2,
            deletion_protection=False,  # an example: destroyable
            skip_final_snapshot=True,
        ),
    )
    cache = Cache(
        "cache",
        CacheArgs(
            **placement,
            kms_key_arn=keys.arns["cache"],
            subnet_group_name=network.cache_subnet_group_name,
            num_cache_clusters=2,
            multi_az=True,
            availability_zones=network.availability_zones[:2],
        ),
    )
    pulumi.export("databaseEndpoint", database.endpoint)
    pulumi.export("databaseSecretArn", database.master_secret_arn)
    pulumi.export("cacheEndpoint", cache.primary_endpoint)
    pulumi.export("cacheAuthSecretArn", cache.auth_secret_arn)


if __name__ == "__main__":  # how `pulumi up` runs this file; the test calls main() itself
    main()
