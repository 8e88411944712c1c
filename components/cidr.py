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

__all__ = [
    "MAX_AZS",
    "MAX_VPC_PREFIX",
    "MIN_VPC_PREFIX",
    "TIERS",
    "SubnetPlan",
    "covers_everything",
    "is_cidr",
    "is_documentation",
    "parse_vpc_cidr",
    "plan_subnets",
    "reach_problems",
    "source_range_problems",
]


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


# -- lists of source ranges (who may reach an endpoint) -----------------------------------------
def source_range_problems(cidrs: object) -> list[str]:
    """Each entry an IPv4 range written as one (`203.0.113.0/24`), once: a bare address
    (`203.0.113.7`) or one with host bits set (`203.0.113.7/24`) is refused with what was
    probably meant, so nobody opens a /24 believing they named one host."""
    if isinstance(cidrs, str) or not isinstance(cidrs, list | tuple):
        return [f"{cidrs!r}: a list of CIDR ranges, e.g. ['203.0.113.0/24']"]
    problems, seen = [], []
    for cidr in cidrs:
        if not isinstance(cidr, str):
            problems.append(f"{cidr!r} is not a CIDR range (text such as '203.0.113.0/24')")
            continue
        if "/" not in cidr:
            problems.append(f"{cidr!r} is an address, not a range; write {cidr}/32 for one host")
            continue
        try:
            network = ipaddress.IPv4Network(cidr, strict=False)
        except ValueError as exc:
            problems.append(f"{cidr!r} is not an IPv4 CIDR: {exc}")
            continue
        if str(network) != cidr:
            problems.append(
                f"{cidr!r} has host bits set: it means {network} (did you mean that, or "
                f"{cidr.split('/')[0]}/32?)"
            )
            continue
        if network in seen:
            problems.append(f"{cidr} is listed twice")
        elif inside := next((str(o) for o in seen if network.subnet_of(o)), None):
            problems.append(f"{cidr} is inside {inside}, already listed")
        seen.append(network)
    return problems


def covers_everything(cidrs: list[str]) -> bool:
    """Whether the ranges together are all of IPv4 (`0.0.0.0/0` in any spelling, e.g. the
    halves 0.0.0.0/1 and 128.0.0.0/1)."""
    networks = [ipaddress.IPv4Network(c, strict=False) for c in cidrs if is_cidr(c)]
    collapsed = list(ipaddress.collapse_addresses(networks))
    return collapsed == [ipaddress.IPv4Network("0.0.0.0/0")]


def reach_problems(cidrs: list[str], *, public: bool, vpc_cidr: str) -> list[str]:
    """Ranges that can never be the sources of an endpoint that is reached from the internet
    (`public`: private, shared or reserved ranges never are) or from the VPC and networks
    routed into it (not `public`: public ranges, and the VPC itself, always allowed already)."""
    vpc = ipaddress.IPv4Network(vpc_cidr, strict=False)
    problems = []
    for cidr in cidrs:
        if not is_cidr(cidr):
            continue
        network = ipaddress.IPv4Network(cidr)
        if network.overlaps(vpc) and not network.supernet_of(vpc) and not public:
            problems.append(f"{cidr} is inside the VPC ({vpc_cidr}), which is always allowed")
        elif network == vpc:
            problems.append(f"{cidr} is the VPC's own range ({vpc_cidr})")
        elif is_documentation(cidr):
            continue  # a placeholder to replace: a warning (Settings.warnings), not an error
        elif public and (network.is_private or network.is_reserved or network.subnet_of(_SHARED)):
            problems.append(
                f"{cidr} is a private or reserved range: no request from it reaches a public "
                "endpoint (the VPC and VPN ranges go in privateAccessCidrs)"
            )
        elif not public and network.is_global:
            problems.append(
                f"{cidr} is a public range: the private endpoint is reached from the VPC and "
                "the networks routed into it (a public source goes in publicAccessCidrs)"
            )
    return problems


# Carrier-grade NAT space (RFC 6598): never a source on the internet.
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
# The documentation ranges (RFC 5737): examples in stack files, to be replaced.
_DOCUMENTATION = tuple(
    ipaddress.IPv4Network(c) for c in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)


def is_documentation(cidr: str) -> bool:
    """Whether a range lies in an RFC 5737 documentation range (an example, not an address)."""
    if not is_cidr(cidr):
        return False
    network = ipaddress.IPv4Network(cidr)
    return any(network.subnet_of(d) for d in _DOCUMENTATION)
