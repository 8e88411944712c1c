"""What AWS offers, known offline: regions, their availability zones, EC2 instance types.

Regions and instance types come from the botocore data files the SDK ships (no AWS call), read
directly: botocore's session would parse its whole endpoint table (~0.4 s of every plan) to
answer what `partitions.json` says in a millisecond, and the EC2 model is decoded only as far as
its instance-type list. The zone counts are AWS's published numbers of standard availability
zones a new account can use (Local and Wavelength Zones excluded); a region missing here is
only checked against the planner's maximum. Update the table when AWS adds a region or a zone.
"""

from __future__ import annotations

import difflib
import gzip
import importlib.util
import json
import re
from functools import cache
from pathlib import Path

__all__ = [
    "AVAILABILITY_ZONES",
    "ELB_ACCOUNT_LOG_DELIVERY_REGIONS",
    "ec2_instance_types",
    "instance_type_problems",
    "known_regions",
    "partition_of",
    "region_problems",
    "replica_region_problems",
    "suggest",
    "zone_count_problems",
]


AVAILABILITY_ZONES: dict[str, int] = {
    "af-south-1": 3, "ap-east-1": 3, "ap-east-2": 3, "ap-northeast-1": 3, "ap-northeast-2": 4,
    "ap-northeast-3": 3, "ap-south-1": 3, "ap-south-2": 3, "ap-southeast-1": 3,
    "ap-southeast-2": 3, "ap-southeast-3": 3, "ap-southeast-4": 3, "ap-southeast-5": 3,
    "ap-southeast-7": 3, "ca-central-1": 3, "ca-west-1": 3, "eu-central-1": 3,
    "eu-central-2": 3, "eu-north-1": 3, "eu-south-1": 3, "eu-south-2": 3, "eu-west-1": 3,
    "eu-west-2": 3, "eu-west-3": 3, "il-central-1": 3, "me-central-1": 3, "me-south-1": 3,
    "mx-central-1": 3, "sa-east-1": 3, "us-east-1": 6, "us-east-2": 3, "us-west-1": 2,
    "us-west-2": 4, "us-gov-east-1": 3, "us-gov-west-1": 3,
}  # fmt: skip


# Regions launched before August 2022, where load balancers deliver access logs as the
# region's Elastic Load Balancing account (newer regions use a service principal).
ELB_ACCOUNT_LOG_DELIVERY_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
    "eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3", "me-south-1",
    "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1",
    "us-gov-west-1", "cn-north-1", "cn-northwest-1",
})  # fmt: skip


def _botocore_data() -> Path:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed (it comes with pulumi-aws's lock)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
def _partitions() -> dict[str, frozenset[str]]:
    """Partition id -> its regions, from botocore's partitions.json (pseudo-regions such as
    `aws-global`, the endpoint of a global service, are not regions)."""
    data = json.loads((_botocore_data() / "partitions.json").read_text())
    return {
        partition["id"]: frozenset(r for r in partition["regions"] if not r.endswith("-global"))
        for partition in data["partitions"]
    }


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows in any partition."""
    return frozenset().union(*_partitions().values())


@cache
def partition_of(region: str) -> str | None:
    """The partition (`aws`, `aws-cn`, `aws-us-gov`, ...) a region belongs to, per botocore."""
    return next((p for p, regions in _partitions().items() if region in regions), None)


def replica_region_problems(region: str, replica: str) -> list[str]:
    """A replica region must be another region of the same partition: replication, backup
    copies and KMS keys do not cross partitions (aws / aws-cn / aws-us-gov)."""
    if replica == region:
        return [f"{replica!r} is the stack's own region (aws:region); choose a second region"]
    home, there = partition_of(region), partition_of(replica)
    if home and there and home != there:
        return [
            f"{replica!r} is in partition {there}, the stack's region {region!r} in {home}: "
            "replicas and backup copies cannot cross partitions"
        ]
    return []


def region_problems(region: object) -> list[str]:
    """Why `region` is not an AWS region (with a hint for the usual slips)."""
    if isinstance(region, str) and region in known_regions():
        return []
    hint = ""
    if isinstance(region, str) and region.lower() in known_regions():
        hint = f"; regions are lowercase: {region.lower()!r}"
    else:
        hint = suggest(str(region), known_regions())
    return [f"{region!r} is not an AWS region known to botocore (e.g. eu-west-1){hint}"]


def zone_count_problems(region: str, zones: int) -> list[str]:
    """Why `zones` availability zones cannot be used in `region`."""
    available = AVAILABILITY_ZONES.get(region)
    if available is not None and zones > available:
        return [f"{zones} zones, but {region} has {available} a new account can use"]
    return []


@cache
def ec2_instance_types() -> frozenset[str]:
    """The EC2 instance type list botocore ships (its newest EC2 API model's `InstanceType`)."""
    versions = sorted(p for p in (_botocore_data() / "ec2").iterdir() if p.is_dir())
    with gzip.open(versions[-1] / "service-2.json.gz", "rt", encoding="utf-8") as model:
        text = model.read()
    # Decode only the shape, not the 5 MB model: the first `"InstanceType": {...}` with an
    # enum (members that refer to the shape are `{"shape": "InstanceType"}` objects).
    decoder = json.JSONDecoder()
    for match in re.finditer(r'"InstanceType"\s*:\s*\{', text):
        shape, _ = decoder.raw_decode(text, match.end() - 1)
        if shape.get("type") == "string" and shape.get("enum"):
            return frozenset(shape["enum"])
    return frozenset(json.loads(text)["shapes"]["InstanceType"]["enum"])


def suggest(value: str, choices: frozenset[str] | tuple[str, ...]) -> str:
    """'; did you mean …?' for a likely typo of one of `choices` (empty when none is close)."""
    close = difflib.get_close_matches(value, sorted(choices), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def instance_type_problems(
    value: object, *, prefix: str = "", families: tuple[str, ...] | None = None
) -> list[str]:
    """Why `value` is not `<prefix><EC2 instance type>` of one of `families` (None: any)."""
    if not isinstance(value, str) or not value.startswith(prefix):
        return [f"{value!r} must start with {prefix!r} (e.g. {prefix}m7g.large)"]
    ec2_type = value.removeprefix(prefix)
    family = ec2_type.split(".", 1)[0]
    if families is not None and family not in families:
        return [f"{value!r}: family {family!r} is not offered here; allowed: {', '.join(families)}"]
    if ec2_type not in ec2_instance_types():
        known = frozenset(
            prefix + t
            for t in ec2_instance_types()
            if families is None or t.split(".", 1)[0] in families
        )
        return [f"{value!r} is not a known instance type{suggest(value, known)}"]
    return []
