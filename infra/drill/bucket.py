"""`restore bucket`: bring a prefix back to the object versions current at a point in time.

In place (the default), the version of time T is copied on top of each changed key and keys
that did not exist at T get a delete marker: no version is ever deleted, so the restore itself
can be undone the same way. `--into` writes the objects of time T into a scratch bucket
instead (created by the drill if missing, and then removed by cleanup).
"""

from dataclasses import dataclass
from datetime import datetime

from infra.drill.model import DrillError, Kind, Resource, drill_tags, iso
from infra.drill.record import Restore, Status
from infra.drill.session import LOG, Session, refuse_second
from infra.drill.versions import Action, expected_at, plan, too_large


@dataclass(frozen=True)
class BucketRequest:
    """Attributes: purpose (a key of bucketNames), to (time T), prefix, into (scratch bucket
    name, or None for in place)."""

    purpose: str
    to: datetime
    prefix: str = ""
    into: str | None = None


def restore_bucket(session: Session, request: BucketRequest) -> Restore:
    """Plan from the version listing, refuse what cannot be done, then write."""
    refuse_second(session.record, "bucket")
    buckets, region = session.outputs.buckets, session.outputs.region
    if request.purpose not in buckets:
        raise DrillError(f"--bucket {request.purpose!r}: the stack has {sorted(buckets)}")
    source = buckets[request.purpose]
    now = session.now()
    if request.to > now:
        raise DrillError(f"--to {iso(request.to)} is in the future")
    if request.into in buckets.values():
        raise DrillError(f"--into {request.into}: a live bucket of the stack, not a scratch one")
    steps = plan(session.cloud.object_versions(region, source, request.prefix), request.to)
    if large := too_large(steps):
        raise DrillError(f"objects over CopyObject's 5 GiB limit (copy them by hand): {large}")
    target = request.into or source
    tags = drill_tags(session.record.drill_id)
    created: tuple[Resource, ...] = ()
    if request.into is not None:
        if session.cloud.bucket_exists(region, target):
            if session.cloud.object_versions(region, target, request.prefix):
                raise DrillError(f"scratch bucket {target} is not empty under {request.prefix!r}")
        else:
            created = (Resource(Kind.BUCKET, region, target),)
    restore = session.put(
        Restore(
            kind="bucket",
            status=Status.REQUESTED,
            source=source,
            target=target,
            region=region,
            started_at=now,
            requested=str(iso(request.to)),
            restore_point=request.to,
            # Versioning keeps every write: a failure now loses nothing.
            latest_restorable=session.record.failed_at or now,
            created=created,
            expected={
                "prefix": request.prefix,
                "objects": expected_at(steps),
                "inPlace": request.into is None,
            },
            events={"restore requested": str(iso(now))},
        )
    )
    if created:
        session.cloud.create_bucket(region, target, session.outputs.storage_kms_key_arn, tags)
    counts = {action: 0 for action in Action}
    written = list(restore.created)
    for step in steps:
        counts[step.action] += 1
        if step.action is Action.DELETE and request.into is None:
            session.cloud.delete_marker(region, source, step.key)
        elif step.version is not None and (step.action is Action.COPY or request.into is not None):
            # In place the objects keep their own tags; in a scratch bucket they carry the
            # drill's, so cleanup can prove it wrote them.
            version_id = session.cloud.copy_version(
                region, source, step.version, target, tags if request.into else None
            )
            if request.into and not created:
                written.append(
                    Resource(
                        Kind.OBJECT_VERSION, region, f"{target}/{step.key}?versionId={version_id}"
                    )
                )
    done = session.now()
    LOG.info("bucket %s: %s", target, ", ".join(f"{a} {n}" for a, n in counts.items()))
    return session.put(
        restore.event(
            "objects written",
            done,
            status=Status.READY,
            ready_at=done,
            created=tuple(written),
            expected={**restore.expected, "steps": {str(a): n for a, n in counts.items()}},
        )
    )
