"""Which object versions were current at a point in time, and what brings a prefix back. Pure.

S3 keeps every write as a version and every delete as a delete marker. The object a key
showed at time T is its newest version or delete marker with LastModified <= T; none (the key
did not exist yet) or a delete marker means the key was absent at T.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# CopyObject copies at most 5 GiB; larger objects need a multipart copy the drill does not do.
MAX_COPY_BYTES = 5 * 1024**3


@dataclass(frozen=True)
class Version:
    """One entry of ListObjectVersions: an object version or a delete marker.

    Attributes:
        key: object key.
        version_id: S3's version id (`null` for objects written before versioning).
        last_modified: when this version or marker was written.
        is_latest: whether it is the key's current entry.
        delete_marker: True for a delete marker (then `etag` and `size` are None).
        etag: the version's ETag (quoted, as S3 returns it).
        size: bytes.
    """

    key: str
    version_id: str
    last_modified: datetime
    is_latest: bool
    delete_marker: bool = False
    etag: str | None = None
    size: int | None = None


class Action(StrEnum):
    """What to do with one key."""

    KEEP = "keep"  # the current version is the one of time T: nothing to write in place
    COPY = "copy"  # copy the version of time T on top (a new current version)
    DELETE = "delete"  # absent at T but present now: a delete marker in place
    ABSENT = "absent"  # absent at T and now: nothing to do


@dataclass(frozen=True)
class Step:
    """The decision for one key; `version` is the version of time T (None when absent)."""

    key: str
    action: Action
    version: Version | None


def version_at(versions: Iterable[Version], at: datetime) -> Version | None:
    """The key's entry current at `at`: the newest with LastModified <= at (None: none yet).

    Equal times keep S3's listing order (newest first), so the first listed wins.
    """
    candidates = [v for v in versions if v.last_modified <= at]
    if not candidates:
        return None
    newest = max(v.last_modified for v in candidates)
    return next(v for v in candidates if v.last_modified == newest)


def plan(versions: Sequence[Version], at: datetime) -> list[Step]:
    """One step per key under the listed prefix, sorted by key."""
    by_key: dict[str, list[Version]] = {}
    for version in versions:
        by_key.setdefault(version.key, []).append(version)
    steps = []
    for key in sorted(by_key):
        entries = by_key[key]
        then = version_at(entries, at)
        then = None if then is None or then.delete_marker else then
        current = next((v for v in entries if v.is_latest), None)
        present_now = current is not None and not current.delete_marker
        if then is None:
            steps.append(Step(key, Action.DELETE if present_now else Action.ABSENT, None))
        elif present_now and current is not None and current.version_id == then.version_id:
            steps.append(Step(key, Action.KEEP, then))
        else:
            steps.append(Step(key, Action.COPY, then))
    return steps


def expected_at(steps: Iterable[Step]) -> dict[str, dict[str, str]]:
    """Key -> ETag and version id of every object that existed at T (what a restored prefix
    must hold)."""
    return {
        s.key: {"etag": s.version.etag or "", "versionId": s.version.version_id}
        for s in steps
        if s.version is not None
    }


def current(versions: Iterable[Version]) -> dict[str, str]:
    """Key -> ETag of every object a listing shows as present now."""
    return {v.key: v.etag or "" for v in versions if v.is_latest and not v.delete_marker}


def too_large(steps: Iterable[Step]) -> list[str]:
    """Keys whose version of T is over CopyObject's 5 GiB limit."""
    return [
        s.key for s in steps if s.version is not None and (s.version.size or 0) > MAX_COPY_BYTES
    ]
