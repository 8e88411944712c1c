"""`verify`: connect-free checks that each copy is what it should be, plus optional probes.

Each check is a pure function of what AWS reports and what the restore recorded; only the
caller's probes (`--sql-probe`, `--http-probe`) connect to the copy.
"""

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from infra.drill.model import carries_drill_tags, iso, parse_time
from infra.drill.ports import CacheGroup, Cluster, Fingerprint
from infra.drill.record import Check, DrillRecord, Restore
from infra.drill.session import Session
from infra.drill.versions import current

KEY_MISMATCHES_SHOWN = 5


@dataclass(frozen=True)
class ProbeRequest:
    """Attributes: sql (a command line, run without a shell), http (a URL), timeout (s)."""

    sql: str | None = None
    http: str | None = None
    timeout: float = 60.0


def _equal(name: str, expected: object, actual: object) -> Check:
    if actual is None:
        return Check(name, False, f"expected {expected}, AWS reported none")
    return Check(name, expected == actual, f"expected {expected}, got {actual}")


def database_checks(
    restore: Restore, copy: Cluster | None, instance: str | None, drill_id: str
) -> list[Check]:
    """Available, same engine and version, encrypted with the expected key, the right point."""
    want = restore.expected
    if copy is None:
        return [Check(f"{restore.target} exists", False, "cluster not found")]
    checks = [
        Check(
            f"{restore.target} available",
            copy.status == "available" and instance == "available",
            f"cluster {copy.status}, instance {instance}",
        ),
        _equal("engine", want["engine"], copy.engine),
        _equal("engine version", want["engineVersion"], copy.engine_version),
        Check(
            "storage encrypted with the expected key",
            copy.storage_encrypted and copy.kms_key_id == want["kmsKeyId"],
            f"encrypted {copy.storage_encrypted}, key {copy.kms_key_id}, want {want['kmsKeyId']}",
        ),
        Check(
            "carries the drill's tags",
            carries_drill_tags(copy.tags, drill_id),
            str(dict(copy.tags)),
        ),
    ]
    return [*checks, _point_check(restore)]


def _point_check(restore: Restore) -> Check:
    """RDS reports no restore point on a PITR copy: the point sent must be the one requested and
    inside the source's window at the time. A backup copy's job reports its recovery point."""
    want = restore.expected
    if restore.kind == "database-copy":
        return _equal(
            "restore point (recovery point created)",
            want["recoveryPointCreated"],
            want.get("reportedRecoveryPointCreated"),
        )
    sent = parse_time(want["restoreToTime"])
    earliest, latest = parse_time(want["earliestRestorable"]), parse_time(want["latestRestorable"])
    ok = sent == restore.restore_point and earliest <= sent <= latest
    return Check(
        "restore point",
        ok,
        f"requested {restore.requested}, sent {iso(sent)}, window {iso(earliest)}..{iso(latest)}",
    )


def bucket_checks(
    restore: Restore,
    now: Mapping[str, str],
    fingerprint: Callable[[str, str, str | None], Fingerprint],
) -> list[Check]:
    """Same keys, same count and same content per key as the source's versions at T.

    `now` is key -> ETag of the target's current objects; `fingerprint(bucket, key, version)`
    settles an ETag difference (SSE-KMS ETags are not digests) by the objects' checksums.
    """
    objects: Mapping[str, Mapping[str, str]] = restore.expected["objects"]
    missing = sorted(set(objects) - set(now))
    extra = sorted(set(now) - set(objects))
    differ = []
    for key in sorted(set(objects) & set(now)):
        if now[key] == objects[key]["etag"]:
            continue
        was = fingerprint(restore.source, key, objects[key]["versionId"])
        got = fingerprint(restore.target, key, None)
        if was.checksum is None or was.checksum != got.checksum:
            differ.append(key)
    return [
        Check(
            "object count",
            len(now) == len(objects),
            f"{len(objects)} at T, {len(now)} in {restore.target}",
        ),
        Check("no object missing", not missing, ", ".join(missing[:KEY_MISMATCHES_SHOWN])),
        Check(
            "no object that did not exist at T", not extra, ", ".join(extra[:KEY_MISMATCHES_SHOWN])
        ),
        Check(
            "content per key (ETag, else checksum)",
            not differ,
            ", ".join(differ[:KEY_MISMATCHES_SHOWN]),
        ),
    ]


def cache_checks(
    restore: Restore, group: CacheGroup | None, drill_id: str, tags: Mapping[str, str] | None
) -> list[Check]:
    """Available, same engine, version and node type, TLS, auth and the expected key at rest."""
    want = restore.expected
    if group is None:
        return [Check(f"{restore.target} exists", False, "replication group not found")]
    return [
        Check(f"{restore.target} available", group.status == "available", group.status),
        _equal("engine", want["engine"], group.engine),
        _equal("engine version", want["engineVersion"], group.engine_version),
        _equal("node type", want["nodeType"], group.node_type),
        Check(
            "encrypted at rest with the expected key",
            group.at_rest_encryption and group.kms_key_id == want["kmsKeyId"],
            f"at rest {group.at_rest_encryption}, key {group.kms_key_id}, want {want['kmsKeyId']}",
        ),
        Check(
            "TLS and auth token",
            group.transit_encryption and group.auth_token_enabled,
            f"transit {group.transit_encryption}, auth {group.auth_token_enabled}",
        ),
        Check("carries the drill's tags", carries_drill_tags(tags or {}, drill_id), str(tags)),
    ]


def _prefixed(restore: Restore, checks: list[Check]) -> list[Check]:
    return [replace(c, name=f"{restore.kind} {restore.target}: {c.name}") for c in checks]


def verify(session: Session, probes: ProbeRequest) -> DrillRecord:
    """Run every check and probe; save and return the record with the results."""
    started = session.now()
    cloud, record = session.cloud, session.record
    checks: list[Check] = []
    env: dict[str, str] = {"DRILL_ID": record.drill_id}
    for restore in record.restores:
        if restore.kind in ("database", "database-copy"):
            copy = cloud.cluster(restore.region, restore.target)
            instance = next((r for r in restore.created if r.kind == "rds-instance"), None)
            status = (
                cloud.instance_status(restore.region, instance.identifier) if instance else None
            )
            checks += _prefixed(restore, database_checks(restore, copy, status, record.drill_id))
            if copy is not None and copy.endpoint:
                env |= {"DRILL_DB_ENDPOINT": copy.endpoint, "DRILL_DB_PORT": str(copy.port or 5432)}
        elif restore.kind == "bucket":
            prefix = restore.expected["prefix"]
            now = current(cloud.object_versions(restore.region, restore.target, prefix))
            fingerprint = lambda b, k, v, r=restore.region: cloud.fingerprint(r, b, k, v)  # noqa: E731
            checks += _prefixed(restore, bucket_checks(restore, now, fingerprint))
            env["DRILL_BUCKET"] = restore.target
        elif restore.kind == "cache":
            group = cloud.cache_group(restore.region, restore.target)
            tags = cloud.tags(restore.created[0]) if group else None
            checks += _prefixed(restore, cache_checks(restore, group, record.drill_id, tags))
            if group is not None and group.endpoint:
                env["DRILL_CACHE_ENDPOINT"] = group.endpoint
    checks += _probes(session, probes, env)
    done = replace(
        record, verify_started_at=started, verified_at=session.now(), checks=tuple(checks)
    )
    session.save(done)
    return done


def _probes(session: Session, request: ProbeRequest, env: Mapping[str, str]) -> list[Check]:
    checks = []
    if request.sql:
        check = session.ports.probes.command(shlex.split(request.sql), env, request.timeout)
        checks.append(replace(check, name=f"sql probe: {check.name}"))
    if request.http:
        check = session.ports.probes.http(request.http, request.timeout)
        checks.append(replace(check, name=f"http probe: {check.name}"))
    return checks


def summary(checks: tuple[Check, ...] | list[Check]) -> str:
    """One line per check."""
    return "\n".join(f"  {'ok ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in checks)
