"""The release record: intent written to stack config *before* every change.

It is stored as a JSON string under `release:<service>` in `Pulumi.<stack>.yaml`, next to
`platform:services`, so it is versioned with the config it describes. A run that dies between
two writes leaves a record whose phase says what it was doing; the next run reads it and
converges (see `effective_record` and docs/release.md, "Interrupted runs").
"""

import json
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from infra.release.model import Color, ConfigError, Service

RECORD_NAMESPACE = "release"


class Phase(StrEnum):
    """What the last run was doing (in flight) or what it finished (settled)."""

    STAGED = "staged"  # deploy put a candidate tag on the idle colour; awaiting promote
    CANARY = "canary"  # promote is sending `step` % of traffic to the candidate
    SCALE_UP = "scale-up"  # a worker's candidate is starting next to the active colour
    FLIP = "flip"  # every gate passed; making the candidate the active colour
    ABORT = "abort"  # a promotion failed; returning all traffic to `source`
    ROLLBACK = "rollback"  # the rollback command is moving traffic to `target`
    PROMOTED = "promoted"  # settled: `target` serves 100 %, `source` is the previous colour
    ROLLED_BACK = "rolled-back"  # settled: `target` serves 100 % after a rollback


IN_FLIGHT = frozenset({Phase.CANARY, Phase.SCALE_UP, Phase.FLIP, Phase.ABORT, Phase.ROLLBACK})


@dataclass(frozen=True)
class Record:
    """One service's release record.

    `source` is the colour that served when the operation began, `target` the colour the
    operation moves traffic to. `idle_replicas` is the operator's `idleReplicas`, parked while
    the idle colour must run at full size and written back by the final flip.
    """

    phase: Phase
    source: Color
    target: Color
    tag: str | None = None
    idle_replicas: int | None = None
    step: int | None = None
    reason: str | None = None

    def to(self, phase: Phase, **changes: Any) -> "Record":
        """A copy in another phase (and with other fields changed)."""
        return replace(self, phase=phase, **changes)

    def to_json(self) -> str:
        """Compact JSON, without empty fields."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_json(cls, text: str) -> "Record":
        """Parse a stored record; a malformed one is a config error naming the key."""
        try:
            data = json.loads(text)
            return cls(
                phase=Phase(data["phase"]),
                source=Color(data["source"]),
                target=Color(data["target"]),
                tag=data.get("tag"),
                idle_replicas=data.get("idle_replicas"),
                step=data.get("step"),
                reason=data.get("reason"),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigError(f"unreadable release record {text!r}: {error}") from error


def effective_record(service: Service, record: Record | None) -> Record | None:
    """The record the machines should act on, reconciled with the service config.

    * A settled or staged record that no longer matches `activeColor` (someone changed the
      config by hand) is stale: it is ignored (None, a fresh start).
    * A `trafficSplit` set without an in-flight record means a canary was interrupted (or set
      by hand): it is treated as an interrupted canary towards the idle colour.
    """
    if record is not None and record.phase in IN_FLIGHT:
        return record
    if record is not None:
        expected = record.source if record.phase is Phase.STAGED else record.target
        if expected is not service.active:
            record = None
    if service.split is None:
        return record
    if record is None or record.phase is not Phase.STAGED:
        record = Record(Phase.STAGED, service.active, service.idle)
    return record.to(Phase.CANARY, step=service.split)
