"""`restore database`: a point-in-time copy, or the newest cross-region backup copy, of the
live Aurora cluster into a NEW cluster with one instance. The live cluster is only read.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from infra.drill.model import (
    RDS_MAX_IDENTIFIER,
    DrillError,
    Kind,
    Resource,
    drill_tags,
    iso,
    restored_name,
)
from infra.drill.ports import Cluster, ClusterRestore, CopyRestore, Instance, RecoveryPoint
from infra.drill.record import Restore, Status
from infra.drill.session import LOG, Policy, Session, deadline, refuse_second

SERVERLESS_CLASS = "db.serverless"
INSTANCE_SUFFIX = "-1"


@dataclass(frozen=True)
class DatabaseRequest:
    """What the operator asked for: `to` a time, `latest`, or the newest cross-region copy.

    Attributes:
        to: the point in time; None with `latest` or `from_copy`.
        latest: restore to the source's LatestRestorableTime.
        from_copy: restore the newest AWS Backup copy in the replica region instead.
        instance_class: override the instance class (default: the source writer's).
    """

    to: datetime | None = None
    latest: bool = False
    from_copy: bool = False
    instance_class: str | None = None

    @property
    def label(self) -> str:
        if self.from_copy:
            return "newest cross-region copy"
        return "latest" if self.latest else str(iso(self.to))


def check_point(requested: datetime, source: Cluster) -> None:
    """Refuse a point outside the source's restorable window (before anything is created)."""
    earliest, latest = source.earliest_restorable, source.latest_restorable
    if earliest is None or latest is None:
        raise DrillError(f"{source.identifier} shows no restorable window: are backups on?")
    if requested < earliest:
        raise DrillError(
            f"{iso(requested)} is before {source.identifier}'s earliest restorable time "
            f"{iso(earliest)}: pick a later point (retention is the backup window)"
        )
    if requested > latest:
        raise DrillError(
            f"{iso(requested)} is after {source.identifier}'s latest restorable time "
            f"{iso(latest)}: use `latest` or an earlier point"
        )


def newest_copy(points: Sequence[RecoveryPoint]) -> RecoveryPoint | None:
    """The newest COMPLETED recovery point (a PARTIAL or expiring one is not a copy)."""
    done = [p for p in points if p.status == "COMPLETED"]
    return max(done, key=lambda p: p.created) if done else None


def instance_class(source: Cluster, override: str | None) -> str:
    """The class of the copy's instance: the override, serverless v2's, or the writer's."""
    if override:
        return override
    if source.serverless_v2 is not None:
        return SERVERLESS_CLASS
    if source.writer_class:
        return source.writer_class
    raise DrillError(f"{source.identifier} has no writer instance to copy the class of")


def restore_database(session: Session, request: DatabaseRequest, policy: Policy) -> Restore:
    """Restore, wait for the cluster, add the instance, wait for it; returns the ready entry."""
    refuse_second(session.record, "database-copy" if request.from_copy else "database")
    db = session.outputs.database
    source = session.cloud.cluster(session.outputs.region, db.cluster_identifier)
    if source is None:
        raise DrillError(
            f"source cluster {db.cluster_identifier} not found in {session.outputs.region}"
        )
    drill_id = session.record.drill_id
    cls = instance_class(source, request.instance_class)
    target = restored_name(source.identifier, drill_id, RDS_MAX_IDENTIFIER)
    # Every refusal happens above and in _plan_*: nothing has been created yet.
    plan = _plan_copy if request.from_copy else _plan_point_in_time
    restore, start = plan(session, request, source, target)
    restore = session.put(restore)  # intent first: from here on cleanup knows the target
    until = deadline(restore.started_at, policy)
    restore = start(restore, until, policy)
    region = restore.region

    def cluster_ready() -> bool | None:
        found = session.cloud.cluster(region, target)
        return True if found is not None and found.status == "available" else None

    if session.wait(f"cluster {target}", cluster_ready, until, policy) is None:
        raise session.give_up(restore, Status.TIMED_OUT, f"cluster {target} not available in time")
    restore = session.put(restore.event("cluster available", session.now()))
    name = restored_name(source.identifier, drill_id, RDS_MAX_IDENTIFIER, INSTANCE_SUFFIX)
    instance = Resource(Kind.RDS_INSTANCE, region, name)
    restore = session.put(
        restore.event("instance requested", session.now(), created=(*restore.created, instance))
    )
    session.cloud.create_instance(
        region, Instance(name, target, cls, source.engine, drill_tags(drill_id))
    )

    def instance_ready() -> bool | None:
        return True if session.cloud.instance_status(region, name) == "available" else None

    if session.wait(f"instance {name}", instance_ready, until, policy) is None:
        raise session.give_up(restore, Status.TIMED_OUT, f"instance {name} not available in time")
    now = session.now()
    LOG.info("database copy %s ready after %s", target, now - restore.started_at)
    return session.put(restore.event("instance available", now, status=Status.READY, ready_at=now))


def _expected(source: Cluster, kms_key_id: str) -> dict[str, object]:
    """What verify compares the copy with: the source's engine and the expected key."""
    return {
        "engine": source.engine,
        "engineVersion": source.engine_version,
        "kmsKeyId": kms_key_id,
        "earliestRestorable": iso(source.earliest_restorable),
        "latestRestorable": iso(source.latest_restorable),
    }


Start = Callable[[Restore, datetime, Policy], Restore]


def _plan_point_in_time(
    session: Session, request: DatabaseRequest, source: Cluster, target: str
) -> tuple[Restore, Start]:
    db, region = session.outputs.database, session.outputs.region
    point = source.latest_restorable if request.latest else request.to
    if point is None:
        raise DrillError(f"{source.identifier} shows no LatestRestorableTime: are backups on?")
    check_point(point, source)
    now = session.now()
    restore = Restore(
        kind="database",
        status=Status.REQUESTED,
        source=source.identifier,
        target=target,
        region=region,
        started_at=now,
        requested=request.label,
        restore_point=point,
        latest_restorable=source.latest_restorable,
        created=(Resource(Kind.RDS_CLUSTER, region, target),),
        expected={**_expected(source, db.kms_key_arn), "restoreToTime": iso(point)},
        events={"restore requested": str(iso(now))},
    )

    def start(restore: Restore, until: datetime, policy: Policy) -> Restore:
        # An explicit RestoreToTime even for `latest`: the copy's point is then known exactly.
        session.cloud.restore_cluster(
            region,
            ClusterRestore(
                source=source.identifier,
                target=target,
                restore_to=point,
                subnet_group_name=db.subnet_group_name,
                security_group_ids=(db.security_group_id,),
                kms_key_id=db.kms_key_arn,
                serverless_v2=source.serverless_v2,
                tags=drill_tags(session.record.drill_id),
            ),
        )
        return restore

    return restore, start


def _plan_copy(
    session: Session, request: DatabaseRequest, source: Cluster, target: str
) -> tuple[Restore, Start]:
    replica, db = session.outputs.replica, session.outputs.database
    if replica is None:
        raise DrillError("--from-copy needs the stack output `replica` (prod's second region)")
    role = db.backup_role_arn
    if role is None:
        raise DrillError("--from-copy needs the stack output database.backupRoleArn")
    points = session.cloud.recovery_points(
        replica.region, replica.backup_vault_name, db.cluster_arn
    )
    newest = newest_copy(points)
    if newest is None:
        raise DrillError(
            f"no completed backup copy of {db.cluster_arn} in vault {replica.backup_vault_name} "
            f"({replica.region}): the cross-region copy is missing"
        )
    now = session.now()
    restore = Restore(
        kind="database-copy",
        status=Status.REQUESTED,
        source=source.identifier,
        target=target,
        region=replica.region,
        started_at=now,
        requested=request.label,
        restore_point=newest.created,
        # A region loss loses everything after the newest copy.
        latest_restorable=newest.created,
        created=(Resource(Kind.RDS_CLUSTER, replica.region, target),),
        expected={
            **_expected(source, replica.kms_key_arn),
            "recoveryPoint": newest.arn,
            "recoveryPointCreated": iso(newest.created),
        },
        events={"restore requested": str(iso(now))},
    )

    def start(restore: Restore, until: datetime, policy: Policy) -> Restore:
        job_id = session.cloud.start_copy_restore(
            replica.region,
            CopyRestore(
                recovery_point_arn=newest.arn,
                vault_name=replica.backup_vault_name,
                role_arn=role,
                target=target,
                subnet_group_name=replica.subnet_group_name,
                security_group_ids=(replica.security_group_id,),
                kms_key_id=replica.kms_key_arn,
            ),
        )
        restore = session.put(
            restore.event(
                "restore job started",
                session.now(),
                expected={**restore.expected, "restoreJobId": job_id},
            )
        )
        jobs = []

        def job_done() -> bool | None:
            job = session.cloud.restore_job(replica.region, job_id)
            jobs.append(job)
            return {"COMPLETED": True, "ABORTED": False, "FAILED": False}.get(job.status)

        outcome = session.wait(f"restore job {job_id}", job_done, until, policy)
        if outcome is None:
            raise session.give_up(
                restore, Status.TIMED_OUT, f"restore job {job_id} did not finish in time"
            )
        if outcome is False:
            raise session.give_up(
                restore,
                Status.FAILED,
                f"restore job {job_id} {jobs[-1].status}: {jobs[-1].message}",
            )
        # AWS Backup does not put the drill's tags on what it creates: tag before anything else.
        session.cloud.tag(restore.created[0], drill_tags(session.record.drill_id))
        return session.put(
            restore.event(
                "restore job completed",
                session.now(),
                expected={
                    **restore.expected,
                    "reportedRecoveryPointCreated": iso(jobs[-1].recovery_point_created),
                },
            )
        )

    return restore, start
