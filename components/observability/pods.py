"""Scheduling and hardening values every observability chart shares (pure).

Each chart spells its keys differently; the builders pick the key, these build the value.
"""

from __future__ import annotations

from components.observability.args import Placement

__all__ = [
    "TOLERATE_EVERYTHING",
    "ZONE_KEY",
    "node_selector",
    "scheduling",
    "tolerations",
    "zone_spread",
]


ZONE_KEY = "topology.kubernetes.io/zone"
_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE":
            "PreferNoSchedule"}  # fmt: skip


def node_selector(placement: Placement | None) -> dict[str, str]:
    return dict(placement.node_selector) if placement else {}


def tolerations(placement: Placement | None) -> list[dict]:
    """The placement's taints as Kubernetes tolerations (EKS spells effects NO_SCHEDULE)."""
    if placement is None:
        return []
    return [
        {"key": t.key, "operator": "Equal", "value": t.value, "effect": _EFFECTS[t.effect]}
        for t in placement.tolerations
    ]


# Node-level agents must run on every node, tainted ones included.
TOLERATE_EVERYTHING = [{"operator": "Exists"}]


def scheduling(placement: Placement | None) -> dict:
    """`nodeSelector` + `tolerations`, the spelling most charts share."""
    return {"nodeSelector": node_selector(placement), "tolerations": tolerations(placement)}


def zone_spread(labels: dict[str, str], strict: bool) -> list[dict]:
    """Spread replicas over zones; `strict` refuses to place two in one zone's failure."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": ZONE_KEY,
            "whenUnsatisfiable": "DoNotSchedule" if strict else "ScheduleAnyway",
            "labelSelector": {"matchLabels": labels},
        }
    ]
