"""Network component under the mock engine."""

from __future__ import annotations

import json

import pytest

from components.network import Network, NetworkArgs
from infra.offline.mockengine import run_program

KEY = "arn:aws:kms:eu-west-1:123456789012:key/logs"


def network(**overrides):
    args = dict(
        name_prefix="platform-test",
        cidr="10.50.0.0/16",
        az_count=3,
        nat_gateways="single",
        flow_log_kms_key_arn=KEY,
        flow_log_retention_days=30,
    )
    args.update(overrides)
    return run_program(lambda: Network("net", NetworkArgs(**args)), stack="test", config={})


def test_subnets_follow_the_cidr_plan_across_distinct_azs():
    rec = network()
    subnets = rec.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 9
    private = sorted(
        s.inputs["cidrBlock"] for s in subnets if s.inputs["tags"]["tier"] == "private"
    )
    assert private == ["10.50.0.0/19", "10.50.32.0/19", "10.50.64.0/19"]
    zones = {
        s.inputs["availabilityZone"] for s in subnets if s.inputs["tags"]["tier"] == "isolated"
    }
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}


@pytest.mark.parametrize(("mode", "count"), [("single", 1), ("perAz", 3)])
def test_nat_gateways_single_or_per_az_each_in_a_public_subnet(mode, count):
    rec = network(nat_gateways=mode)
    nats = rec.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == count
    public_ids = {
        s.id for s in rec.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == "public"
    }
    assert {n.inputs["subnetId"] for n in nats} <= public_ids
    private_routes = [r for r in rec.of_type("aws:ec2/route:Route") if "natGatewayId" in r.inputs]
    assert len(private_routes) == 3
    assert len({r.inputs["natGatewayId"] for r in private_routes}) == count


def test_flow_logs_are_encrypted_retained_and_the_role_is_scoped_to_its_log_group():
    rec = network()
    (group,) = rec.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["kmsKeyId"] == KEY
    assert group.inputs["retentionInDays"] == 30
    assert group.inputs["name"] == "/platform-test/vpc-flow-logs"
    (policy,) = rec.of_type("aws:iam/rolePolicy:RolePolicy")
    resources = json.loads(policy.inputs["policy"])["Statement"][0]["Resource"]
    assert all(
        r.startswith("arn:aws:logs:eu-west-1:123456789012:log-group:/platform-test/")
        for r in resources
    )
    (role,) = rec.of_type("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_interface_endpoints_can_be_turned_off_but_the_s3_gateway_stays():
    rec = network(interface_endpoints=False)
    endpoints = rec.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert [e.inputs["vpcEndpointType"] for e in endpoints] == ["Gateway"]
    with_endpoints = network()
    interface = [
        e
        for e in with_endpoints.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Interface"
    ]
    assert sorted(e.inputs["serviceName"] for e in interface) == [
        "com.amazonaws.eu-west-1.ecr.api",
        "com.amazonaws.eu-west-1.ecr.dkr",
        "com.amazonaws.eu-west-1.logs",
        "com.amazonaws.eu-west-1.sts",
    ]


def test_endpoint_security_group_only_admits_https_from_the_vpc():
    rec = network()
    (rule,) = rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (
        443,
        443,
        "tcp",
    )
    assert rule.inputs["cidrIpv4"] == "10.50.0.0/16"


def test_s3_gateway_endpoint_serves_private_and_isolated_route_tables():
    rec = network()
    tables = {t.name: t.id for t in rec.of_type("aws:ec2/routeTable:RouteTable")}
    (gateway,) = [
        e
        for e in rec.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Gateway"
    ]
    expected = {tables[n] for n in tables if "-private-" in n or n.endswith("-isolated")}
    assert set(gateway.inputs["routeTableIds"]) == expected


def test_cluster_tag_marks_public_and_private_subnets_when_a_cluster_is_named():
    rec = network(cluster_name="platform-test")
    for subnet in rec.of_type("aws:ec2/subnet:Subnet"):
        shared = subnet.inputs["tags"].get("kubernetes.io/cluster/platform-test") == "shared"
        assert shared == (subnet.inputs["tags"]["tier"] != "isolated")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nat_gateways": "None"}, "nat_gateways 'None': one of single, perAz, none"),
        ({"nat_gateways": "per_az"}, "nat_gateways 'per_az': one of single, perAz, none"),
        ({"az_count": 1}, "az_count 1: allowed 2..6"),
        ({"cidr": "10.0.0.0/8"}, "cidr:"),
        ({"flow_log_retention_days": 45}, "flow_log_retention_days 45"),
    ],
)
def test_invalid_args_fail_before_anything_is_registered(changes, message):
    from infra.offline import mockengine

    with pytest.raises(ValueError, match=message):
        network(**changes)
    assert not [r for r in mockengine.last_run.monitor.recorded if r.type.startswith("aws:")]
    assert not [r for r in mockengine.last_run.monitor.recorded if r.type.startswith("platform:")]


def test_only_regular_availability_zones_are_considered_whatever_their_state():
    from infra.offline.mockengine import PlatformMocks

    class Capturing(PlatformMocks):
        calls: list = []

        def call(self, args):
            self.calls.append((args.token, args.args))
            return super().call(args)

    mocks = Capturing("eu-west-1")
    run_program(
        lambda: Network("net", NetworkArgs(
            name_prefix="p", cidr="10.50.0.0/16", az_count=2, nat_gateways="single",
            flow_log_kms_key_arn=KEY, flow_log_retention_days=30,
        )),
        stack="test", config={}, mocks=mocks,
    )  # fmt: skip
    (zones,) = [a for t, a in mocks.calls if t.endswith("getAvailabilityZones")]
    assert zones["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    assert "state" not in zones
