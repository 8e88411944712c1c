"""Building blocks shared by the machines: policy, the traffic-moving applies, messages.

All pure: each function returns data describing a change, never performs it.
"""

import math
from dataclasses import dataclass, field

from infra.release.actions import Apply, ClearField, Done, SetField
from infra.release.gates import Thresholds
from infra.release.model import Color, ConfigError, ExitCode, Service
from infra.release.record import Phase, Record

DEFAULT_STEPS = (10, 50, 100)


@dataclass(frozen=True)
class Policy:
    """Timing and thresholds of a run (all seconds)."""

    steps: tuple[int, ...] = DEFAULT_STEPS
    step_wait: float = 300.0
    window: float = 300.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    ready_timeout: float = 600.0
    poll_interval: float = 10.0

    def __post_init__(self) -> None:
        steps = self.steps
        if not steps or any(not 1 <= s <= 100 for s in steps) or list(steps) != sorted(set(steps)):
            raise ConfigError(f"--steps must be increasing percentages in 1..100, got {steps}")
        for name in ("step_wait", "window", "ready_timeout", "poll_interval"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def max_polls(self) -> int:
        """Readiness checks allowed before the ready gate gives up."""
        return max(1, math.ceil(self.ready_timeout / self.poll_interval))


def restore(record: Record, reason: str, why: str, *, worker: bool = False) -> Apply:
    """All traffic back to `record.source`; the candidate stays deployed (record -> staged).

    Both colours end at full size: `idleReplicas` stays parked in the record, so a cut-over
    that failed after scaling the old colour down is undone too. A worker has no traffic to
    move: its candidate is scaled back to 0 (it would go on consuming the queue), and
    `record.source` keeps running or is made the running colour again.
    """
    scale: SetField | ClearField = (
        SetField("idleReplicas", 0) if worker else ClearField("idleReplicas")
    )
    return Apply(
        changes=(
            SetField("activeColor", record.source),
            ClearField("trafficSplit"),
            scale,
        ),
        intent=record.to(Phase.ABORT, reason=reason, step=None),
        then=record.to(Phase.STAGED, reason=None, step=None),
        why=why,
    )


def flip(record: Record, settled: Phase, why: str) -> Apply:
    """Make `record.target` the active colour, clear the split, put back `idleReplicas`."""
    changes: list[SetField | ClearField] = [
        SetField("activeColor", record.target),
        ClearField("trafficSplit"),
    ]
    if record.idle_replicas is not None:
        changes.append(SetField("idleReplicas", record.idle_replicas))
    in_flight = Phase.FLIP if settled is Phase.PROMOTED else Phase.ROLLBACK
    return Apply(
        changes=tuple(changes),
        intent=record.to(in_flight, step=None),
        then=record.to(settled, idle_replicas=None, step=None, reason=None),
        why=why,
    )


def by_hand(service: Service, color: Color) -> str:
    """The manual commands that make `color` serve 100 % (for loud failure messages)."""
    key = f"platform:services[{service.index}]"
    if service.worker:
        # Scale the other colour up first only if `color` has no pods: this leaves it alone.
        return (
            f"pulumi config set --path '{key}.activeColor' {color} && "
            f"pulumi config set --type int --path '{key}.idleReplicas' 0 && pulumi up"
        )
    return (
        f"pulumi config set --path '{key}.activeColor' {color} && "
        f"pulumi config rm --path '{key}.trafficSplit' && pulumi up"
    )


def rollback_failed(service: Service, color: Color, what: str) -> str:
    """The loud exit-3 message: what failed and how an operator restores `color`."""
    serving = "running" if service.worker else "serving"
    return (
        f"ROLLBACK FAILED — OPERATOR ACTION NEEDED: {what}. {service.name} may not be {serving} "
        f"from {color} alone. Restore by hand: {by_hand(service, color)}"
    )


def nothing_to_promote(svc: Service, record: Record | None, alone: str) -> Done | None:
    """`promote`'s answer when the record leaves nothing to promote (no release staged, already
    promoted, a rollback in flight), for a web service and a worker alike; `alone` says how the
    active colour runs ("serves 100 %", "runs alone"). None: there is a promotion to run."""
    running = f"{svc.label(svc.active)} {alone}"
    if record is None or record.phase is Phase.ROLLED_BACK:
        return Done(
            ExitCode.USAGE,
            f"nothing to promote: no release is staged for {svc.name}; {running}. Stage one "
            "with `deploy --tag <tag>` first.",
        )
    if record.phase is Phase.PROMOTED:
        return Done(ExitCode.OK, f"already promoted: {running}; nothing to do")
    if record.phase is Phase.ROLLBACK:
        return Done(
            ExitCode.USAGE,
            f"a rollback of {svc.name} to {record.target} is in flight; run `rollback` to "
            "finish it before promoting",
        )
    return None
