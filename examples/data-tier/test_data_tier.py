"""The example under Pulumi's mocks (`make test` runs it): what `pulumi up` would create."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pulumi
import pytest

from components.testing import AwsMocks, set_mocks

NODE_SG = "sg-0123456789abcdef0"
CONFIG = {
    "data-tier:clusterVpcId": "vpc-0cluster",
    "data-tier:clusterVpcCidr": "10.0.0.0/16",
    "data-tier:clusterRouteTableIds": ["rtb-0a", "rtb-0b"],
    "data-tier:clusterNodeSecurityGroupId": NODE_SG,
}


def _program():
    spec = importlib.util.spec_from_file_location(
        "data_tier", Path(__file__).with_name("__main__.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mocks() -> AwsMocks:
    mocks = set_mocks("eu-west-1", project="data-tier", stack="dev", config=CONFIG)
    pulumi.runtime.test(_program().main)()  # runs the program and waits for every resource
    return mocks


def test_the_stores_admit_only_the_clusters_nodes(mocks):
    rules = mocks.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted((r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]) for r in rules) == [
        (NODE_SG, 5432),
        (NODE_SG, 6379),
    ]
    assert all("cidrIpv4" not in r.inputs for r in rules)


def test_aurora_is_serverless_encrypted_and_destroyable(mocks):
    (cluster,) = mocks.of_type("aws:rds/cluster:Cluster")
    (key,) = [k for k in mocks.of_type("aws:kms/key:Key") if k.name == "keys-database"]
    assert cluster.inputs["engine"] == "aurora-postgresql"
    assert cluster.inputs["storageEncrypted"] is True
    assert cluster.inputs["kmsKeyId"] == key.outputs["arn"]
    assert cluster.inputs["serverlessv2ScalingConfiguration"] == {
        "maxCapacity": 2,
        "minCapacity": 0.5,
    }
    assert cluster.inputs["clusterIdentifier"] == "data-tier-dev-db"
    assert cluster.inputs["deletionProtection"] is False
    assert cluster.inputs["skipFinalSnapshot"] is True


def test_the_cache_fails_over_across_zones_with_tls_and_auth(mocks):
    (group,) = mocks.of_type("aws:elasticache/replicationGroup:ReplicationGroup")
    assert group.inputs["replicationGroupId"] == "data-tier-dev-cache"
    assert group.inputs["numCacheClusters"] == 2
    assert group.inputs["multiAzEnabled"] is True
    assert group.inputs["automaticFailoverEnabled"] is True
    assert group.inputs["transitEncryptionEnabled"] is True
    assert group.inputs["preferredCacheClusterAzs"] == ["eu-west-1a", "eu-west-1b"]


def test_the_data_vpc_has_no_way_out_but_the_peering(mocks):
    assert mocks.of_type("aws:ec2/natGateway:NatGateway") == []
    (peering,) = mocks.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert (peering.inputs["vpcId"], peering.inputs["autoAccept"]) == ("vpc-0cluster", True)
    routes = mocks.of_type("aws:ec2/route:Route")
    peered = sorted(
        (r.inputs["routeTableId"], r.inputs["destinationCidrBlock"])
        for r in routes
        if r.inputs.get("vpcPeeringConnectionId") == peering.id
    )
    (isolated,) = [
        t for t in mocks.of_type("aws:ec2/routeTable:RouteTable") if "isolated" in t.name
    ]
    assert peered == sorted(
        [("rtb-0a", "10.40.0.0/16"), ("rtb-0b", "10.40.0.0/16"), (isolated.id, "10.0.0.0/16")]
    )
