"""What every drill step shares: the ports, the stack outputs, the state file and the waits."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from infra.drill.model import DrillError, ExitCode
from infra.drill.outputs import StackOutputs
from infra.drill.ports import Ports
from infra.drill.record import DrillRecord, Restore, StateFile, Status

LOG = logging.getLogger("infra.drill")


@dataclass(frozen=True)
class Policy:
    """How long a restore may take and how often it is polled (seconds)."""

    timeout: float = 3600.0
    interval: float = 30.0

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.interval <= 0:
            raise DrillError(f"timeout and poll interval must be positive, got {self}")


class Session:
    """One command's run: reads and writes the record through the state file."""

    def __init__(
        self, ports: Ports, outputs: StackOutputs, state: StateFile, record: DrillRecord
    ) -> None:
        self.ports = ports
        self.cloud = ports.cloud
        self.outputs = outputs
        self.state = state
        self.record = record

    def now(self) -> datetime:
        return self.ports.clock.now()

    def save(self, record: DrillRecord) -> None:
        """Persist before acting on it (the intent-first rule)."""
        self.state.save(record)
        self.record = record

    def put(self, restore: Restore) -> Restore:
        """Save the record with `restore` added or updated; the drill's failure instant is
        the start of its first restore."""
        record = self.record.with_restore(restore)
        if record.failed_at is None:
            record = replace(record, failed_at=restore.started_at)
        self.save(record)
        return restore

    def wait(
        self, what: str, poll: Callable[[], bool | None], deadline: datetime, policy: Policy
    ) -> bool | None:
        """Poll until `poll` says ready (True) or failed (False); None when `deadline` passed."""
        while True:
            outcome = poll()
            if outcome is not None:
                return outcome
            now = self.now()
            if now >= deadline:
                return None
            LOG.info("waiting for %s (%ss left)", what, round((deadline - now).total_seconds()))
            self.ports.clock.sleep(min(policy.interval, (deadline - now).total_seconds()))

    def give_up(self, restore: Restore, status: Status, why: str) -> DrillError:
        """Record a timed-out or failed restore; the error says what cleanup will remove."""
        self.put(restore.event(str(status), self.now(), status=status))
        created = ", ".join(str(r) for r in restore.created) or "nothing"
        return DrillError(
            f"{why}. Recorded in {self.state.path} as created: {created}. Run `cleanup` "
            "with the same --state to remove it.",
            ExitCode.FAILED,
        )


def deadline(start: datetime, policy: Policy) -> datetime:
    """The instant a restore started at `start` must be ready by."""
    return start + timedelta(seconds=policy.timeout)


def refuse_second(record: DrillRecord, kind: str) -> None:
    """One restore of each kind per drill (their names would collide)."""
    if any(r.kind == kind for r in record.restores):
        raise DrillError(f"this drill already has a {kind} restore: start a new drill for another")
