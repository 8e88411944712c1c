"""`report`: measured RTO and achieved RPO of each restore against the targets, as a table
or JSON; the exit code says whether every judged target was met."""

import json
from datetime import timedelta
from typing import Any

from infra.drill.model import ExitCode, iso
from infra.drill.record import DrillRecord, Restore, Status
from infra.drill.targets import RPO_TARGET, RTO_TARGET, Measured, measure


def measured(record: DrillRecord, restore: Restore) -> Measured:
    """Judge one restore; unverified (or failed verification) means no RTO."""
    verification = (
        record.verified_at - record.verify_started_at
        if record.verify_ok and record.verified_at and record.verify_started_at
        else None
    )
    ready = restore.ready_at if restore.status is Status.READY else None
    return measure(
        restore.kind,
        record.failed_at or restore.started_at,
        restore.started_at,
        ready,
        verification,
        restore.latest_restorable,
        restore.restore_point,
    )


def met(record: DrillRecord) -> bool:
    """Every restore verified and within every judged target."""
    return bool(record.restores) and all(measured(record, r).met for r in record.restores)


def exit_code(record: DrillRecord) -> ExitCode:
    """OK when every target is met, TARGET_MISSED otherwise."""
    return ExitCode.OK if met(record) else ExitCode.TARGET_MISSED


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 1)


def as_json(record: DrillRecord) -> str:
    """The report as JSON (for the job summary, Slack and dashboards)."""
    rows: list[dict[str, Any]] = []
    for restore in record.restores:
        m = measured(record, restore)
        rows.append(
            {
                "kind": restore.kind,
                "source": restore.source,
                "target": restore.target,
                "region": restore.region,
                "status": str(restore.status),
                "requested": restore.requested,
                "restorePoint": iso(restore.restore_point),
                "latestRestorableAtFailure": iso(restore.latest_restorable),
                "startedAt": iso(restore.started_at),
                "readyAt": iso(restore.ready_at),
                "events": dict(restore.events),
                "rtoSeconds": _seconds(m.rto),
                "rpoSeconds": _seconds(m.rpo),
                "lagSeconds": _seconds(m.lag),
                "rtoMet": m.rto_met,
                "rpoMet": m.rpo_met,
            }
        )
    document = {
        "drillId": record.drill_id,
        "stack": record.stack,
        "failedAt": iso(record.failed_at),
        "verifiedAt": iso(record.verified_at),
        "verified": record.verify_ok is True,
        "targets": {
            "rtoSeconds": RTO_TARGET.total_seconds(),
            "rpoSeconds": RPO_TARGET.total_seconds(),
        },
        "restores": rows,
        "failedChecks": [f"{c.name}: {c.detail}" for c in record.checks if not c.ok],
        "met": met(record),
    }
    return json.dumps(document, indent=2)


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(round(value.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def _verdict(value: bool | None) -> str:
    return "n/a" if value is None else ("met" if value else "MISSED")


def as_table(record: DrillRecord) -> str:
    """A Markdown table (readable in a terminal, renders in a job summary)."""
    verified = {True: "verified", False: "verification FAILED", None: "not verified"}
    lines = [
        f"### DR drill {record.drill_id} on {record.stack}: "
        f"{'targets met' if met(record) else 'TARGET MISSED'}",
        "",
        f"Simulated failure {iso(record.failed_at)}, {verified[record.verify_ok]}"
        f"{' at ' + str(iso(record.verified_at)) if record.verified_at else ''}. "
        f"Targets: RTO {_duration(RTO_TARGET)}, RPO {_duration(RPO_TARGET)}.",
        "",
        "| restore | copy | requested | restore point | RTO | | RPO | | lag |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for restore in record.restores:
        m = measured(record, restore)
        lines.append(
            f"| {restore.kind} ({restore.status}) | {restore.target} ({restore.region}) | "
            f"{restore.requested} | {iso(restore.restore_point) or 'unknown'} | "
            f"{_duration(m.rto)} | {_verdict(m.rto_met)} | {_duration(m.rpo)} | "
            f"{_verdict(m.rpo_met)} | {_duration(m.lag)} |"
        )
    failed = [c for c in record.checks if not c.ok]
    if failed:
        lines += ["", "Failed checks:", *(f"* {c.name}: {c.detail}" for c in failed)]
    lines += [
        "",
        "RTO: restore start to a ready copy, plus verification. RPO: the simulated failure "
        "minus the latest point restorable then (the cache's is shown, not judged: it is "
        "rebuilt from the database). lag: how far before that the chosen point was.",
    ]
    return "\n".join(lines)
