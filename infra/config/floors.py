"""prod's safety settings are floors, not defaults: its config may raise them, never lower them.

One rule per line below, each reading its floor from the prod profile (`profiles.py` beside
this module) so the number has one home. `floor_problems` checks a prod stack's merged,
validated config (camelCase, as in `Pulumi.prod.yaml`) and names every key that went below
its floor, whatever profile or key set it. Opt-outs the docs call "dev only" are refused
outside dev.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from components.observability.args import duration_seconds
from infra.config.profiles import PROFILES

PROTECTED_ENVIRONMENT = "prod"
_MISSING = object()


@dataclass(frozen=True)
class Floor:
    """`path` (config spelling; `*` for every entry of a map or list) must be `op` its floor.

    `op` is ">=" (a number may only go up) or "==" (a switch that must stay as it is). The
    floor is `value` when given, else the prod profile's value at `path`. `measure` turns a
    value that is not a number (a duration such as "30d") into one before comparing.
    """

    path: str
    op: str
    value: Any = _MISSING
    measure: Callable[[Any], float] | None = None

    def floor(self) -> Any:
        if self.value is not _MISSING:
            return self.value
        found = list(_values(PROFILES[PROTECTED_ENVIRONMENT], self.path.split(".")))
        return found[0][1]


FLOORS = (
    Floor("protect", "=="),
    Floor("network.azCount", ">="),
    Floor("network.natGateways", "=="),
    Floor("network.flowLogRetentionDays", ">="),
    Floor("keys.deletionWindowDays", ">="),
    Floor("storage.replication", "=="),
    Floor("storage.noncurrentVersionExpiryDays", ">="),
    Floor("storage.accessLogExpiryDays", ">="),
    Floor("cluster.endpointPublicAccess", "=="),
    Floor("cluster.logRetentionDays", ">="),
    Floor("cluster.nodeGroups.*.capacityType", "==", "ON_DEMAND"),
    Floor("cluster.nodePools.*.capacityTypes", "==", ["on-demand"]),
    Floor("cluster.nodeAutoscaler", "=="),
    Floor("database.mode", "=="),
    Floor("database.readerCount", ">="),
    Floor("database.backupRetentionDays", ">="),
    Floor("database.crossRegionBackup", "=="),
    Floor("database.logRetentionDays", ">="),
    Floor("cache.multiAz", "=="),
    Floor("cache.numCacheClusters", ">="),
    Floor("cache.snapshotRetentionDays", ">="),
    Floor("cache.finalSnapshot", "=="),
    Floor("cache.logRetentionDays", ">="),
    Floor("streaming.zoneCount", ">="),
    Floor("streaming.brokerCount", ">="),
    Floor("streaming.logRetentionDays", ">="),
    Floor("app.replicas", ">="),
    Floor("app.autoscaling", "=="),
    Floor("app.deployBranches", "=="),
    Floor("app.zoneSpreadStrict", "=="),
    Floor("cluster.controllerReplicas", ">="),
    Floor("observability.level", "=="),
    Floor("observability.prometheusRetention", ">=", measure=duration_seconds),
    Floor("observability.prometheusStorageGib", ">="),
    Floor("observability.elasticsearchStorageGib", ">="),
    Floor("observability.logRetentionDays", ">="),
    Floor("observability.traceRetentionDays", ">="),
)

# Named opt-outs of a safe default that only a disposable environment may take.
DEV_ONLY = (
    "storage.forceDestroy",
    "database.skipFinalSnapshot",
    "services.*.allowPlainHttp",
)


def floor_problems(environment: str, config: dict[str, Any]) -> list[str]:
    """`key: problem` lines for every floor `config` goes below (prod) or dev-only opt-out."""
    problems = []
    if environment == PROTECTED_ENVIRONMENT:
        for floor in FLOORS:
            want = floor.floor()
            for key, value in _values(config, floor.path.split(".")):
                if _holds(value, floor.op, want, floor.measure):
                    continue
                if floor.op == ">=":
                    problems.append(
                        f"{key}: {_shown(value)} is below prod's floor of {_shown(want)}; "
                        "prod may raise it, never lower it"
                    )
                else:
                    problems.append(
                        f"{key}: {_shown(value)} is not allowed in prod; it must stay "
                        f"{_shown(want)} (a safety floor of the prod profile)"
                    )
    if environment != "dev":
        for path in DEV_ONLY:
            for key, value in _values(config, path.split(".")):
                if value is True:
                    problems.append(f"{key}: true is a dev-only opt-out, not for {environment}")
    return problems


def _shown(value: Any) -> str:
    """A value as the YAML config spells it (true, not True)."""
    return json.dumps(value)


def _holds(value: Any, op: str, want: Any, measure: Callable[[Any], float] | None) -> bool:
    if op == ">=":
        if value is None:
            return False
        return measure(value) >= measure(want) if measure else value >= want
    return value == want


def _values(node: Any, parts: list[str], key: str = "") -> Iterator[tuple[str, Any]]:
    """(config key, value) for every match of `parts` in `node` (`*`: every entry)."""
    if not parts:
        yield key, node
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(node, dict):
            for name, child in node.items():
                yield from _values(child, rest, f"{key}.{name}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                yield from _values(child, rest, f"{key}[{index}]")
        return
    if isinstance(node, dict) and head in node:
        yield from _values(node[head], rest, f"{key}.{head}" if key else head)
