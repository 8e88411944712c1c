"""The drill's state: one small JSON file (`--state drill-<id>.json`) shared by every step.

Written *before* each call that creates something (intent first, like the release record), so
a run that dies or times out still names everything it may have created, and `cleanup` can
remove it. Times are UTC ISO text in the file.
"""

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from infra.drill.model import DrillError, Kind, Resource, iso, parse_time

SCHEMA = 1


class Status(StrEnum):
    """Where one restore is."""

    REQUESTED = "requested"  # intent recorded; the create call may or may not have happened
    READY = "ready"  # the copy is available (cluster + instance, group, objects written)
    TIMED_OUT = "timed-out"  # not available within the timeout (it may still appear)
    FAILED = "failed"  # AWS reported the restore failed


@dataclass(frozen=True)
class Restore:
    """One restore of a drill.

    Attributes:
        kind: `database` (PITR), `database-copy` (cross-region AWS Backup copy), `bucket`,
            `cache`.
        status: see Status.
        source: what was copied (cluster id, bucket name, replication group id).
        target: the new copy (cluster id, bucket name, group id).
        region: where the copy lives.
        started_at: when the restore began (after the checks that refuse it).
        ready_at: when the copy became available, or None.
        requested: what the operator asked for (`latest`, an ISO time, `newest copy`, ...).
        restore_point: the point in time whose data the copy holds, when known.
        latest_restorable: the latest point restorable at the simulated failure (for RPO).
        created: everything this restore created or may have created (for cleanup).
        expected: what `verify` compares the copy with (engine, version, key, ETags, ...).
        events: the restore's own timestamps, e.g. `cluster available` -> ISO time.
    """

    kind: str
    status: Status
    source: str
    target: str
    region: str
    started_at: datetime
    requested: str
    ready_at: datetime | None = None
    restore_point: datetime | None = None
    latest_restorable: datetime | None = None
    created: tuple[Resource, ...] = ()
    expected: Mapping[str, Any] = field(default_factory=dict)
    events: Mapping[str, str] = field(default_factory=dict)

    def event(self, name: str, at: datetime, **changes: Any) -> "Restore":
        """A copy with one more timestamped event (and other fields changed)."""
        return replace(self, events={**self.events, name: iso(at)}, **changes)


@dataclass(frozen=True)
class Check:
    """One verification: its name, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class DrillRecord:
    """The whole drill.

    Attributes:
        drill_id: ends every name and tags everything the drill creates.
        stack: the stack (environment) the outputs came from.
        failed_at: the simulated failure: when the drill's first restore began.
        restores: one entry per restore, in order.
        verify_started_at / verified_at: the last verification's start and end.
        checks: the last verification's results (empty before `verify`).
        cleaned_at: when `cleanup` last finished.
        refused: identifiers cleanup refused (not carrying the drill's tag).
    """

    drill_id: str
    stack: str
    failed_at: datetime | None = None
    restores: tuple[Restore, ...] = ()
    verify_started_at: datetime | None = None
    verified_at: datetime | None = None
    checks: tuple[Check, ...] = ()
    cleaned_at: datetime | None = None
    refused: tuple[str, ...] = ()

    @property
    def verify_ok(self) -> bool | None:
        """None before `verify`, else whether every check passed."""
        return None if self.verified_at is None else all(c.ok for c in self.checks)

    def with_restore(self, restore: Restore) -> "DrillRecord":
        """Add `restore`, or replace the entry with the same kind and target."""
        restores = list(self.restores)
        for index, entry in enumerate(restores):
            if (entry.kind, entry.target) == (restore.kind, restore.target):
                restores[index] = restore
                break
        else:
            restores.append(restore)
        return replace(self, restores=tuple(restores))

    def created(self) -> list[Resource]:
        """Everything the drill's restores recorded as created."""
        return sorted({res for r in self.restores for res in r.created})


# -- JSON -----------------------------------------------------------------------------------------
_TIMES = ("failed_at", "verify_started_at", "verified_at", "cleaned_at")
_RESTORE_TIMES = ("started_at", "ready_at", "restore_point", "latest_restorable")


def to_json(record: DrillRecord) -> str:
    """Indented JSON with a schema number."""
    data = asdict(record)
    for key in _TIMES:
        data[key] = iso(getattr(record, key))
    data["restores"] = [_restore_json(r) for r in record.restores]
    return json.dumps({"schema": SCHEMA, **data}, indent=2, default=str) + "\n"


def _restore_json(restore: Restore) -> dict[str, Any]:
    data = asdict(restore)
    for key in _RESTORE_TIMES:
        data[key] = iso(getattr(restore, key))
    data["created"] = [asdict(res) for res in restore.created]
    return data


def from_json(text: str, source: str = "state") -> DrillRecord:
    """Parse a state file; a malformed one is a usage error naming the file."""
    try:
        data = json.loads(text)
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, expected {SCHEMA}")
        return DrillRecord(
            drill_id=data["drill_id"],
            stack=data["stack"],
            restores=tuple(_restore(r) for r in data["restores"]),
            checks=tuple(Check(**c) for c in data["checks"]),
            refused=tuple(data["refused"]),
            **{key: _time(data[key]) for key in _TIMES},
        )
    except (ValueError, KeyError, TypeError, DrillError) as error:
        raise DrillError(f"unreadable drill state {source}: {error}") from error


def _restore(data: Mapping[str, Any]) -> Restore:
    return Restore(
        kind=data["kind"],
        status=Status(data["status"]),
        source=data["source"],
        target=data["target"],
        region=data["region"],
        requested=data["requested"],
        created=tuple(
            Resource(Kind(c["kind"]), c["region"], c["identifier"]) for c in data["created"]
        ),
        expected=data["expected"],
        events=data["events"],
        **{key: _time(data[key]) for key in _RESTORE_TIMES},  # type: ignore[arg-type]
    )


def _time(value: str | None) -> datetime | None:
    return None if value is None else parse_time(value)


class StateFile:
    """The record on disk; `save` replaces the file atomically (never a half-written one)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> DrillRecord | None:
        """The saved record, or None when the file does not exist yet."""
        if not self.path.exists():
            return None
        return from_json(self.path.read_text(), str(self.path))

    def save(self, record: DrillRecord) -> None:
        """Write to a temporary file beside it, fsync, then rename over the old one."""
        directory = self.path.parent if str(self.path.parent) else Path(".")
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=directory, prefix=f".{self.path.name}.", delete=False
        ) as handle:
            handle.write(to_json(record))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, self.path)
