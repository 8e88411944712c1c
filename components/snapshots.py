"""Final-snapshot names that never collide.

RDS and ElastiCache refuse a final snapshot whose name already exists, so a fixed
`<id>-final` makes the second `pulumi destroy` of a re-created stack fail (the first one's
snapshot is still there, on purpose). The name gets a random part that is born with the store
and regenerated only when the store is recreated (the RandomId's keeper is the identifier), so
it is stable for the store's lifetime — no diff on routine `up`s — and new for each lifetime.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

__all__ = [
    "SUFFIX_BYTES",
    "final_snapshot_identifier",
]


SUFFIX_BYTES = 4  # 8 hex characters


def final_snapshot_identifier(
    parent: pulumi.Resource, resource_name: str, identifier: str
) -> pulumi.Output[str]:
    """`<identifier>-final-<8 hex>`, unique per lifetime of the store named `identifier`."""
    suffix = random.RandomId(
        f"{resource_name}-final-snapshot",
        byte_length=SUFFIX_BYTES,
        keepers={"identifier": identifier},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return suffix.hex.apply(lambda hex_: f"{identifier}-final-{hex_}")
