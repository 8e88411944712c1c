"""`restore cache --snapshot latest`: a NEW replication group from the newest snapshot of the
stack's group, with the same node type, engine version, TLS, at-rest KMS key, subnet group,
security group and auth token (read from the secret the stack exports)."""

import json
from collections.abc import Sequence

from infra.drill.model import (
    CACHE_MAX_GROUP_ID,
    DrillError,
    Kind,
    Resource,
    drill_tags,
    iso,
    restored_name,
)
from infra.drill.ports import CacheRestore, CacheSnapshot
from infra.drill.record import Restore, Status
from infra.drill.session import LOG, Policy, Session, deadline, refuse_second


def newest_snapshot(snapshots: Sequence[CacheSnapshot]) -> CacheSnapshot | None:
    """The newest available snapshot, automated or manual.

    One without a creation time (ElastiCache reports it per node; an emulator may not) cannot
    be ranked: it is taken only when it is the sole available snapshot.
    """
    ready = [s for s in snapshots if s.status == "available"]
    timed = [s for s in ready if s.created is not None]
    if timed:
        return max(timed, key=lambda s: s.created)  # type: ignore[arg-type, return-value]
    return ready[0] if len(ready) == 1 else None


def auth_token(secret_string: str) -> str:
    """The token from the cache secret (`{"authToken": "..."}`, written by the Cache component)."""
    try:
        token = json.loads(secret_string)["authToken"]
    except (ValueError, KeyError, TypeError) as error:
        raise DrillError("the cache auth secret holds no JSON authToken") from error
    if not isinstance(token, str) or not token:
        raise DrillError("the cache auth secret's authToken is empty")
    return token


def restore_cache(session: Session, policy: Policy) -> Restore:
    """Create the group from the newest snapshot and wait until it is available."""
    refuse_second(session.record, "cache")
    out, region = session.outputs.cache, session.outputs.region
    source = session.cloud.cache_group(region, out.replication_group_id)
    if source is None:
        raise DrillError(f"replication group {out.replication_group_id} not found in {region}")
    snapshot = newest_snapshot(session.cloud.cache_snapshots(region, source.group_id))
    if snapshot is None:
        raise DrillError(
            f"no available snapshot of {source.group_id} that can be ranked by time: take one "
            "(`aws elasticache create-snapshot`) or wait for the automatic one"
        )
    token = auth_token(session.cloud.secret_string(region, out.auth_secret_arn))
    target = restored_name(source.group_id, session.record.drill_id, CACHE_MAX_GROUP_ID)
    engine = source.engine or "valkey"
    version = snapshot.engine_version or source.engine_version
    now = session.now()
    restore = session.put(
        Restore(
            kind="cache",
            status=Status.REQUESTED,
            source=source.group_id,
            target=target,
            region=region,
            started_at=now,
            requested=f"newest snapshot ({snapshot.name})",
            restore_point=snapshot.created,
            latest_restorable=snapshot.created,
            created=(Resource(Kind.CACHE_GROUP, region, target),),
            expected={
                "engine": engine,
                "engineVersion": version,
                "nodeType": source.node_type,
                "kmsKeyId": out.kms_key_arn,
                "snapshot": snapshot.name,
            },
            events={"restore requested": str(iso(now))},
        )
    )
    session.cloud.create_cache_group(
        region,
        CacheRestore(
            group_id=target,
            snapshot_name=snapshot.name,
            engine=engine,
            engine_version=version,
            node_type=source.node_type,
            subnet_group_name=out.subnet_group_name,
            security_group_ids=(out.security_group_id,),
            kms_key_id=out.kms_key_arn,
            auth_token=token,
            tags=drill_tags(session.record.drill_id),
        ),
    )

    def ready() -> bool | None:
        group = session.cloud.cache_group(region, target)
        return True if group is not None and group.status == "available" else None

    if session.wait(f"replication group {target}", ready, deadline(now, policy), policy) is None:
        raise session.give_up(
            restore, Status.TIMED_OUT, f"replication group {target} not available in time"
        )
    done = session.now()
    LOG.info("cache copy %s ready after %s", target, done - now)
    return session.put(restore.event("group available", done, status=Status.READY, ready_at=done))
