"""Will it fit? The sizes of EC2 instances as Kubernetes sees them, and the rules that need
two keys to decide (a request against the node it must fit on, replicas that must sit in
different zones against the zones and nodes there are, retention against the disk).

Instance shapes follow the EC2 naming rules for the families the platform uses (AWS "Instance
types" tables: vCPUs and memory per size; "Maximum IP addresses per network interface": ENIs
and IPv4 addresses per ENI). What a node gives pods is what EKS's AL2023 nodes reserve less:
max pods = ENIs x (IPv4 per ENI - 1) + 2 (the VPC CNI without prefix delegation);
kube-reserved memory = 255 MiB + 11 MiB x max pods; kube-reserved CPU = 6 % of the first core,
1 % of the second, 0.5 % of the next two, 0.25 % of the rest; hard eviction at 100 MiB (the
EKS AMI's bootstrap, kept by nodeadm). A type outside these tables is not judged (None).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from components.kubernetes_rules import MEBIBYTE, quantity

__all__ = [
    "EVICTION_MEMORY",
    "GIB",
    "Shape",
    "instance_shape",
    "request_fit_problems",
    "retention_fit_problems",
    "spread_problems",
]


GIB = 2.0**30
# GiB of memory per vCPU by family letter (general purpose, compute, memory optimised).
_MEMORY_PER_VCPU = {"m": 4, "c": 2, "r": 8}
# Burstable sizes: (vCPUs, GiB).
_BURSTABLE = {
    "nano": (2, 0.5), "micro": (2, 1), "small": (2, 2), "medium": (2, 4), "large": (2, 8),
    "xlarge": (4, 16), "2xlarge": (8, 32),
}  # fmt: skip
# (ENIs, IPv4 addresses per ENI) by size: burstable, and the Nitro m/c/r families.
_BURSTABLE_ENIS = {
    "nano": (2, 2), "micro": (2, 2), "small": (3, 4), "medium": (3, 6), "large": (3, 12),
    "xlarge": (4, 15), "2xlarge": (4, 15),
}  # fmt: skip
_NITRO_ENIS = {
    "medium": (2, 4), "large": (3, 10), "xlarge": (4, 15), "2xlarge": (4, 15),
    "4xlarge": (8, 30), "8xlarge": (8, 30), "12xlarge": (8, 30), "16xlarge": (15, 50),
    "24xlarge": (15, 50),
}  # fmt: skip
_TYPE = re.compile(r"^([a-z]+)(\d+)([a-z]*)\.([0-9]*x?[a-z]+)$")
EVICTION_MEMORY = 100 * MEBIBYTE


@dataclass(frozen=True)
class Shape:
    """An instance type as the scheduler sees it.

    Attributes:
        vcpus: vCPUs.
        memory_gib: memory (GiB).
        max_pods: pods the VPC CNI can give addresses to (without prefix delegation).
    """

    vcpus: int
    memory_gib: float
    max_pods: int

    @property
    def allocatable_cpu(self) -> float:
        """Cores left for pods once kube-reserved is taken."""
        reserved, left = 0.0, float(self.vcpus)
        for share, cores in ((0.06, 1), (0.01, 1), (0.005, 2), (0.0025, float("inf"))):
            take = min(left, cores)
            reserved += take * share
            left -= take
        return self.vcpus - reserved

    @property
    def allocatable_memory(self) -> float:
        """Bytes left for pods once kube-reserved and the eviction threshold are taken."""
        reserved = (255 + 11 * self.max_pods) * MEBIBYTE + EVICTION_MEMORY
        return self.memory_gib * GIB - reserved


def instance_shape(instance_type: str) -> Shape | None:
    """The shape of `t3.medium`, `m6i.large`, `r7g.2xlarge`, ... (None: not in the tables)."""
    match = _TYPE.fullmatch(instance_type)
    if match is None:
        return None
    family, _generation, _attributes, size = match.groups()
    if family == "t":
        if size not in _BURSTABLE:
            return None
        vcpus, memory = _BURSTABLE[size]
        enis, addresses = _BURSTABLE_ENIS[size]
    elif family in _MEMORY_PER_VCPU and size in _NITRO_ENIS:
        vcpus = _vcpus(size)
        if vcpus is None:
            return None
        memory = vcpus * _MEMORY_PER_VCPU[family]
        enis, addresses = _NITRO_ENIS[size]
    else:
        return None
    return Shape(vcpus, memory, enis * (addresses - 1) + 2)


def _vcpus(size: str) -> int | None:
    if size == "medium":
        return 1
    if size == "large":
        return 2
    if size == "xlarge":
        return 4
    multiple = re.fullmatch(r"(\d+)xlarge", size)
    return 4 * int(multiple.group(1)) if multiple else None


def request_fit_problems(
    cpu_request: str, memory_request: str, instance_types: list[str]
) -> list[str]:
    """A pod whose requests exceed what the smallest of its node group's instance types
    gives pods stays Pending on such a node (managed node groups launch any of the listed
    types): why, in numbers."""
    shapes = {t: instance_shape(t) for t in instance_types}
    known = {t: s for t, s in shapes.items() if s is not None}
    cpu, memory = quantity(cpu_request), quantity(memory_request)
    if not known or cpu is None or memory is None:
        return []
    problems = []
    for name, shape in known.items():
        if cpu > shape.allocatable_cpu:
            problems.append(
                f"cpu request {cpu_request} is more than a {name} node gives pods "
                f"({shape.allocatable_cpu:.2f} of {shape.vcpus} cores after kube-reserved)"
            )
        if memory > shape.allocatable_memory:
            problems.append(
                f"memory request {memory_request} is more than a {name} node gives pods "
                f"({shape.allocatable_memory / GIB:.2f} of {shape.memory_gib:g} GiB after "
                "kube-reserved and eviction)"
            )
    return problems


def spread_problems(replicas: int, zones: int, nodes: int | None, what: str) -> list[str]:
    """Replicas that must each sit in another zone (hard anti-affinity) need as many zones,
    and as many nodes in the group they are pinned to (`nodes`: its maximum size)."""
    problems = []
    if replicas > zones:
        problems.append(
            f"{what}: {replicas} replicas must sit in different zones and the network has {zones}"
        )
    if nodes is not None and replicas > nodes:
        problems.append(
            f"{what}: {replicas} replicas must sit on different nodes and the group they are "
            f"pinned to has at most {nodes}"
        )
    return problems


def retention_fit_problems(
    days: float, gib_per_day: float, copies: int, capacity_gib: float, what: str
) -> list[str]:
    """`days` of data at `gib_per_day` (x `copies` replicas) must fit the usable `capacity_gib`:
    otherwise the store deletes (or stops at) data before the retention says."""
    need = days * gib_per_day * copies
    if need > capacity_gib:
        return [
            f"{what}: {days:g} days at about {gib_per_day:g} GiB/day"
            f"{f' x {copies} copies' if copies > 1 else ''} is about {need:.0f} GiB, more than "
            f"the {capacity_gib:.0f} GiB usable"
        ]
    return []


def node_pod_problems(instance_types: list[str], agents: Sequence[str]) -> list[str]:
    """A node whose max pods the node agents (DaemonSets) already fill runs nothing else."""
    problems = []
    for name in instance_types:
        shape = instance_shape(name)
        if shape is not None and shape.max_pods <= len(agents):
            problems.append(
                f"a {name} node takes {shape.max_pods} pods (VPC CNI: ENIs x (IPv4 per ENI - 1) "
                f"+ 2) and every node runs {len(agents)} node agents ({', '.join(agents)}): no "
                "room for any other pod; use a larger instance type"
            )
    return problems


def pod_room(instance_types: list[str], max_size: int, agents: int) -> int | None:
    """Pods beyond the node agents a group holds at its maximum size, on its smallest listed
    type (a managed node group may launch any of them); None when no type is known."""
    shapes = [s for s in map(instance_shape, instance_types) if s is not None]
    if not shapes:
        return None
    return max_size * max(0, min(s.max_pods for s in shapes) - agents)
