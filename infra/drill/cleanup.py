"""`cleanup`: delete only what the drill created.

Candidates are what the record names, what carries the drill's tag in the drill's regions, and
any identifier named on the command line. Each is deleted only if it carries BOTH tags
`platform:drill-id=<id>` and `platform:created-by=drill`; anything else is refused, whoever
named it. The record outlives the copies, so `report` still works afterwards.
"""

from dataclasses import dataclass, replace

from infra.drill.model import DELETE_ORDER, TAG_DRILL_ID, ExitCode, Resource, carries_drill_tags
from infra.drill.session import LOG, Session


@dataclass(frozen=True)
class Outcome:
    """What cleanup did: deleted, already gone, refused (not the drill's), failed (an error)."""

    deleted: tuple[Resource, ...]
    gone: tuple[Resource, ...]
    refused: tuple[Resource, ...]
    failed: tuple[tuple[Resource, str], ...]

    @property
    def code(self) -> ExitCode:
        if self.failed:
            return ExitCode.FAILED
        return ExitCode.USAGE if self.refused else ExitCode.OK

    def message(self) -> str:
        parts = [f"deleted {len(self.deleted)}: {', '.join(map(str, self.deleted)) or '-'}"]
        if self.gone:
            parts.append(f"already gone: {', '.join(map(str, self.gone))}")
        if self.refused:
            parts.append(
                "REFUSED (does not carry this drill's tags, so the drill did not create it): "
                + ", ".join(map(str, self.refused))
            )
        if self.failed:
            parts.append("FAILED: " + "; ".join(f"{r}: {e}" for r, e in self.failed))
        return "; ".join(parts)


def ordered(resources: set[Resource]) -> list[Resource]:
    """Dependants first (object versions, instances), then clusters, groups, buckets."""
    return sorted(resources, key=lambda r: (DELETE_ORDER.index(r.kind), r.region, r.identifier))


def cleanup(session: Session, named: tuple[Resource, ...] = ()) -> Outcome:
    """Delete every candidate that carries the drill's tags; refuse the others."""
    record, cloud = session.record, session.cloud
    regions = {session.outputs.region} | {r.region for r in record.created()}
    if session.outputs.replica is not None:
        regions.add(session.outputs.replica.region)
    candidates = set(record.created()) | set(named)
    for region in sorted(regions):
        candidates |= set(cloud.tagged(region, TAG_DRILL_ID, record.drill_id))
    deleted, gone, refused, failed = [], [], [], []
    for resource in ordered(candidates):
        try:
            tags = cloud.tags(resource)
            if tags is None:
                gone.append(resource)
            elif not carries_drill_tags(tags, record.drill_id):
                refused.append(resource)
            else:
                LOG.info("deleting %s", resource)
                cloud.delete(resource)
                deleted.append(resource)
        except Exception as error:  # one failure must not stop the rest of the cleanup
            failed.append((resource, f"{type(error).__name__}: {error}"))
    outcome = Outcome(tuple(deleted), tuple(gone), tuple(refused), tuple(failed))
    session.save(
        replace(
            record,
            cleaned_at=None if failed else session.now(),
            refused=tuple(str(r) for r in refused),
        )
    )
    return outcome
