"""Property tests for the subnet planner."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.cidr import MAX_AZS, TIERS, plan_subnets

PRIVATE_BASES = [
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
]


@st.composite
def vpc_cidrs(draw) -> str:
    """Any allowed VPC: a /16../20 block aligned inside one of the RFC 1918 ranges."""
    base = draw(st.sampled_from(PRIVATE_BASES))
    prefix = draw(st.integers(min_value=max(16, base.prefixlen), max_value=20))
    index = draw(st.integers(min_value=0, max_value=2 ** (prefix - base.prefixlen) - 1))
    start = int(base.network_address) + index * 2 ** (32 - prefix)
    return str(ipaddress.IPv4Network((start, prefix)))


azs = st.integers(min_value=1, max_value=MAX_AZS)


@given(vpc_cidrs(), azs)
def test_subnets_lie_inside_the_vpc_and_never_overlap(cidr, az_count):
    plan = plan_subnets(cidr, az_count)
    vpc = ipaddress.IPv4Network(cidr)
    subnets = [ipaddress.IPv4Network(s) for s in plan.all()]
    assert all(s.subnet_of(vpc) for s in subnets)
    for i, a in enumerate(subnets):
        for b in subnets[i + 1 :]:
            assert not a.overlaps(b), (a, b)


@given(vpc_cidrs(), azs)
def test_one_subnet_per_az_in_every_tier(cidr, az_count):
    plan = plan_subnets(cidr, az_count)
    assert all(len(plan.tier(tier)) == az_count for tier in TIERS)


@given(vpc_cidrs(), st.integers(min_value=1, max_value=MAX_AZS - 1))
def test_adding_an_az_never_renumbers_existing_subnets(cidr, az_count):
    before, after = plan_subnets(cidr, az_count), plan_subnets(cidr, az_count + 1)
    for tier in TIERS:
        assert after.tier(tier)[:az_count] == before.tier(tier)


@given(vpc_cidrs(), azs)
def test_private_subnets_are_the_largest_and_all_fit_aws_limits(cidr, az_count):
    plan = plan_subnets(cidr, az_count)
    private = ipaddress.IPv4Network(plan.private[0])
    edge = ipaddress.IPv4Network(plan.isolated[0])
    assert private.num_addresses > edge.num_addresses
    assert all(16 <= ipaddress.IPv4Network(s).prefixlen <= 28 for s in plan.all())


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("10.0.0.0/24", "allowed /16"),
        ("10.0.0.0/8", "allowed /16"),
        ("10.0.0.1/16", "host bits"),
        ("8.8.0.0/16", "not a private"),
        ("banana", "not an IPv4 network"),
    ],
)
def test_bad_vpc_cidrs_are_rejected_with_what_is_allowed(cidr, message):
    with pytest.raises(ValueError, match=message):
        plan_subnets(cidr, 2)
