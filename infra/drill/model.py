"""The drill's vocabulary: exit codes, tags, resources, names and times. Pure."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum

# Every resource the drill creates carries both tags; cleanup deletes nothing without them.
TAG_DRILL_ID = "platform:drill-id"
TAG_CREATED_BY = "platform:created-by"
CREATED_BY = "drill"

# Identifier limits of the services the drill creates in (lowercase letters, digits, hyphens;
# a letter first; no `--`; no trailing hyphen).
RDS_MAX_IDENTIFIER = 63
CACHE_MAX_GROUP_ID = 40
_DRILL_ID = re.compile(r"^[a-z0-9]{1,16}$")
_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$")


class ExitCode(IntEnum):
    """Process exit codes of `python -m infra.drill`."""

    OK = 0
    TARGET_MISSED = 1  # report: an RTO/RPO target was missed or the copy was not verified
    USAGE = 2  # bad command line, outputs or state; a refusal before anything was created
    FAILED = 3  # a restore, verification or cleanup step failed (what was created is recorded)


class DrillError(ValueError):
    """A refusal or a failure with a message for the operator."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code


class Kind(StrEnum):
    """What a created resource is (decides how cleanup reads its tags and deletes it)."""

    RDS_CLUSTER = "rds-cluster"
    RDS_INSTANCE = "rds-instance"
    CACHE_GROUP = "cache-group"
    BUCKET = "bucket"
    OBJECT_VERSION = "object-version"  # identifier `<bucket>/<key>?versionId=<id>`


# Deletion order: what depends on something goes first (instances before their cluster).
DELETE_ORDER = (
    Kind.OBJECT_VERSION,
    Kind.RDS_INSTANCE,
    Kind.RDS_CLUSTER,
    Kind.CACHE_GROUP,
    Kind.BUCKET,
)


@dataclass(frozen=True, order=True)
class Resource:
    """One AWS resource, by kind, region and identifier (cluster id, group id, bucket name)."""

    kind: Kind
    region: str
    identifier: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.identifier} ({self.region})"


def drill_id_problems(drill_id: str) -> list[str]:
    """A drill id is 1..16 lowercase letters or digits (it ends every name the drill makes)."""
    if _DRILL_ID.match(drill_id):
        return []
    return [f"drill id {drill_id!r}: 1..16 lowercase letters or digits"]


def new_drill_id(now: datetime) -> str:
    """The default drill id: the UTC minute it started, e.g. `202611221041`."""
    return now.astimezone(UTC).strftime("%Y%m%d%H%M")


def restored_name(source: str, drill_id: str, limit: int, suffix: str = "") -> str:
    """`<source>-drill-<id><suffix>`, the source part shortened so the whole fits `limit`.

    The drill id is never cut (it is what tells two drills apart). The result is a valid
    RDS/ElastiCache identifier: lowercase, a letter first, no `--`, no trailing hyphen.
    """
    if drill_id_problems(drill_id):
        raise DrillError(drill_id_problems(drill_id)[0])
    tail = f"-drill-{drill_id}{suffix}"
    room = limit - len(tail)
    head = re.sub(r"[^a-z0-9-]", "-", source.lower())[: max(room, 0)]
    head = re.sub(r"-{2,}", "-", head).strip("-")
    name = f"{head}{tail}"
    if not head or len(name) > limit or not _IDENTIFIER.match(name):
        raise DrillError(f"cannot name a copy of {source!r} within {limit} characters: {name!r}")
    return name


def drill_tags(drill_id: str) -> dict[str, str]:
    """The tags on everything the drill creates."""
    return {TAG_DRILL_ID: drill_id, TAG_CREATED_BY: CREATED_BY}


def carries_drill_tags(tags: Mapping[str, str], drill_id: str) -> bool:
    """Whether `tags` mark a resource as created by drill `drill_id`."""
    return tags.get(TAG_DRILL_ID) == drill_id and tags.get(TAG_CREATED_BY) == CREATED_BY


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; naive means UTC (`2026-11-22T10:41:00Z`, `2026-11-22 10:41`)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise DrillError(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-22T10:41:00Z)") from error
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """UTC ISO text of a time (None stays None)."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")
