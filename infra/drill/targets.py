"""The brief's recovery targets and the arithmetic that judges a drill against them. Pure.

RTO of one restore = how long it took to get a verified copy: from the restore's start until
it was ready, plus the verification. RPO = the data a failure at the drill's start would have
lost: the simulated failure instant minus the latest point the platform could restore to at
that instant (PITR's LatestRestorableTime, the newest backup copy, the newest snapshot;
versioned buckets lose nothing). Restoring to an earlier point on purpose (a corruption at
10:41) is the operator's choice, shown as `lag`, not held against the platform.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

RTO_TARGET = timedelta(minutes=15)
RPO_TARGET = timedelta(minutes=60)
# The cache is rebuildable from the database (docs/restore.md): its RPO is shown, not judged.
RPO_JUDGED = frozenset({"database", "database-copy", "bucket"})


@dataclass(frozen=True)
class Measured:
    """One restore against the targets.

    Attributes:
        rto: time to a verified copy, or None when it was never ready and verified.
        rpo: failure instant minus the latest restorable point at that instant, or None
            when unknown (a snapshot without a creation time).
        lag: latest restorable point minus the restore point chosen (0 for `latest`).
        rpo_judged: whether RPO counts for this kind (not for the rebuildable cache).
    """

    rto: timedelta | None
    rpo: timedelta | None
    lag: timedelta | None
    rpo_judged: bool

    @property
    def rto_met(self) -> bool:
        """Verified, and within RTO_TARGET."""
        return self.rto is not None and self.rto <= RTO_TARGET

    @property
    def rpo_met(self) -> bool | None:
        """Within RPO_TARGET; None when RPO is not judged for this kind."""
        if not self.rpo_judged:
            return None
        return self.rpo is not None and self.rpo <= RPO_TARGET

    @property
    def met(self) -> bool:
        """Every judged target met."""
        return self.rto_met and self.rpo_met is not False


def measure(
    kind: str,
    failed_at: datetime,
    started_at: datetime,
    ready_at: datetime | None,
    verification: timedelta | None,
    latest_restorable: datetime | None,
    restore_point: datetime | None,
) -> Measured:
    """Judge one restore (see the module docstring for the definitions)."""
    rto = None if ready_at is None or verification is None else ready_at - started_at + verification
    rpo = None if latest_restorable is None else max(failed_at - latest_restorable, timedelta(0))
    lag = (
        None
        if latest_restorable is None or restore_point is None
        else max(latest_restorable - restore_point, timedelta(0))
    )
    return Measured(rto=rto, rpo=rpo, lag=lag, rpo_judged=kind in RPO_JUDGED)
