"""Subnet CIDR planning: pure functions, no Pulumi.

Layout of a VPC of prefix length P (P = 16..20):

    first 6/8 of the VPC   8 slots of /(P+3): private subnets for AZ 0..5, slots 6 and 7 spare
    slot 6 of /(P+3)       split into 8 x /(P+6): public subnets for AZ 0..5
    slot 7 of /(P+3)       split into 8 x /(P+6): isolated (data) subnets for AZ 0..5

Every subnet's address depends only on (tier, AZ index), never on how many AZs are in use, so
going from 2 to 3 AZs adds subnets and leaves the existing ones where they are. Private
subnets are the largest because the VPC CNI gives every pod a VPC address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MAX_AZS = 6
MIN_VPC_PREFIX = 16  # the largest VPC AWS allows
MAX_VPC_PREFIX = 20  # smaller VPCs leave too few pod addresses per private subnet
TIERS = ("public", "private", "isolated")

_PRIVATE_EXTRA_BITS = 3
_EDGE_EXTRA_BITS = 6
_PUBLIC_SLOT, _ISOLATED_SLOT = 6, 7


@dataclass(frozen=True)
class SubnetPlan:
    """Subnet CIDRs per tier, index i is for the i-th availability zone."""

    vpc_cidr: str
    public: tuple[str, ...]
    private: tuple[str, ...]
    isolated: tuple[str, ...]

    def tier(self, tier: str) -> tuple[str, ...]:
        return getattr(self, tier)

    def all(self) -> list[str]:
        return [*self.public, *self.private, *self.isolated]


def is_cidr(value: object) -> bool:
    """A network in CIDR notation ('10.0.0.0/20', host bits zero); a bare address is not."""
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return True


def parse_vpc_cidr(cidr: str) -> ipaddress.IPv4Network:
    """Parse and check a VPC CIDR; raise ValueError saying what is allowed."""
    try:
        network = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{cidr!r} is not an IPv4 network in CIDR notation with no host bits set "
            f"(e.g. 10.0.0.0/16): {exc}"
        ) from None
    if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(
            f"{cidr!r} has prefix /{network.prefixlen}; allowed /{MIN_VPC_PREFIX} (largest a VPC "
            f"may be) to /{MAX_VPC_PREFIX} (smallest that leaves room for pods in every AZ)"
        )
    if not network.is_private:
        raise ValueError(f"{cidr!r} is not a private (RFC 1918) range")
    return network


def plan_subnets(vpc_cidr: str, az_count: int) -> SubnetPlan:
    """Plan public/private/isolated subnets for `az_count` AZs inside `vpc_cidr`."""
    if not 1 <= az_count <= MAX_AZS:
        raise ValueError(f"az_count {az_count} is outside 1..{MAX_AZS}")
    vpc = parse_vpc_cidr(vpc_cidr)
    slots = list(vpc.subnets(prefixlen_diff=_PRIVATE_EXTRA_BITS))
    edge_bits = _EDGE_EXTRA_BITS - _PRIVATE_EXTRA_BITS
    public = list(slots[_PUBLIC_SLOT].subnets(prefixlen_diff=edge_bits))
    isolated = list(slots[_ISOLATED_SLOT].subnets(prefixlen_diff=edge_bits))
    return SubnetPlan(
        vpc_cidr=str(vpc),
        public=tuple(str(s) for s in public[:az_count]),
        private=tuple(str(s) for s in slots[:az_count]),
        isolated=tuple(str(s) for s in isolated[:az_count]),
    )
