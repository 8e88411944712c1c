"""The drill's phases and which command each admits (one table, tested cell by cell). Pure."""

from enum import StrEnum

from infra.drill.record import DrillRecord, Status


class Phase(StrEnum):
    """Where a drill is, derived from its record."""

    NEW = "new"  # nothing restored yet
    RESTORING = "restoring"  # a restore's intent is recorded but it never finished (crash)
    RESTORED = "restored"  # every restore is ready; not verified yet
    RESTORE_FAILED = "restore-failed"  # a restore timed out or failed
    VERIFIED = "verified"  # the last verification passed
    VERIFY_FAILED = "verify-failed"  # the last verification failed
    CLEANED = "cleaned"  # cleanup ran; the drill is over


class Command(StrEnum):
    """The drill's commands (`restore` covers database, bucket and cache)."""

    RESTORE = "restore"
    VERIFY = "verify"
    REPORT = "report"
    CLEANUP = "cleanup"


_INTERRUPTED = "a restore was interrupted (its intent is recorded, it never finished)"
_CLOSED = "this drill is closed"
_NEW_DRILL = "start a new drill (another --state file)"
# None: allowed; text: why the command is refused in that phase.
TABLE: dict[tuple[Phase, Command], str | None] = {
    (Phase.NEW, Command.RESTORE): None,
    (Phase.NEW, Command.VERIFY): "nothing restored yet: run `restore` first",
    (Phase.NEW, Command.REPORT): "nothing restored yet: nothing to report",
    (Phase.NEW, Command.CLEANUP): None,  # still lists by tag: a crash before the first save
    (Phase.RESTORING, Command.RESTORE): f"{_INTERRUPTED}: run `cleanup`, then {_NEW_DRILL}",
    (Phase.RESTORING, Command.VERIFY): f"{_INTERRUPTED}: run `cleanup`",
    (Phase.RESTORING, Command.REPORT): None,  # reports the miss
    (Phase.RESTORING, Command.CLEANUP): None,
    (Phase.RESTORED, Command.RESTORE): None,  # the next data store of the same drill
    (Phase.RESTORED, Command.VERIFY): None,
    (Phase.RESTORED, Command.REPORT): None,  # not verified yet: reports the miss
    (Phase.RESTORED, Command.CLEANUP): None,
    (Phase.RESTORE_FAILED, Command.RESTORE): f"a restore failed: run `cleanup`, then {_NEW_DRILL}",
    (Phase.RESTORE_FAILED, Command.VERIFY): "a restore failed: there is no complete copy to verify",
    (Phase.RESTORE_FAILED, Command.REPORT): None,
    (Phase.RESTORE_FAILED, Command.CLEANUP): None,
    # A restore after verification would be measured against a verification it never had.
    (Phase.VERIFIED, Command.RESTORE): f"the drill is verified: {_NEW_DRILL} to restore more",
    (Phase.VERIFIED, Command.VERIFY): None,
    (Phase.VERIFIED, Command.REPORT): None,
    (Phase.VERIFIED, Command.CLEANUP): None,
    (Phase.VERIFY_FAILED, Command.RESTORE): f"verification ran: {_NEW_DRILL} to restore more",
    (Phase.VERIFY_FAILED, Command.VERIFY): None,  # e.g. after fixing a probe
    (Phase.VERIFY_FAILED, Command.REPORT): None,
    (Phase.VERIFY_FAILED, Command.CLEANUP): None,
    (Phase.CLEANED, Command.RESTORE): f"{_CLOSED} (cleaned up): {_NEW_DRILL}",
    (Phase.CLEANED, Command.VERIFY): f"{_CLOSED}: its copies were removed by cleanup",
    (Phase.CLEANED, Command.REPORT): None,
    (Phase.CLEANED, Command.CLEANUP): None,  # idempotent: lists by tag again
}


def phase_of(record: DrillRecord | None) -> Phase:
    """The phase a record is in (None: a drill that has not started)."""
    if record is None:
        return Phase.NEW
    if record.cleaned_at is not None:
        return Phase.CLEANED
    if not record.restores:
        return Phase.NEW
    statuses = {r.status for r in record.restores}
    if Status.REQUESTED in statuses:
        return Phase.RESTORING
    if statuses & {Status.TIMED_OUT, Status.FAILED}:
        return Phase.RESTORE_FAILED
    if record.verify_ok is True:
        return Phase.VERIFIED
    if record.verify_ok is False:
        return Phase.VERIFY_FAILED
    return Phase.RESTORED


def refusal(record: DrillRecord | None, command: Command) -> str | None:
    """Why `command` is refused for `record` (None when it is allowed)."""
    phase = phase_of(record)
    reason = TABLE[(phase, command)]
    return None if reason is None else f"{command} refused in phase {phase}: {reason}"
