"""The `promote` state machine of a worker (`kind: worker`): no Ingress, so no traffic to move.

A worker's active colour is the one that runs; its idle colour has 0 pods (`idleReplicas: 0`),
because a running colour consumes the queue whatever the "traffic" says. `deploy` stages the
new tag on the idle colour at 0 pods, and `promote`:

1. scales the candidate up (`idleReplicas` cleared: full size) — record `scale-up`;
2. waits until the candidate runs the tag, fully rolled out and ready (its readiness probe is
   its only health signal: no smoke request, no request metrics, no canary steps);
3. cuts over: the candidate becomes the active colour and the old one is scaled to 0
   (`idleReplicas: 0`) — record `flip`, then `promoted`.

A candidate that never gets ready is scaled back to 0 (record `abort`, then `staged`): the old
colour ran throughout. `rollback` is the same path in reverse (the rollback machine: scale the
previous colour up, wait for it, flip, scale the other down). An interrupted run resumes from
its record: `scale-up` scales up again (idempotent) and waits, `flip` finishes the cut-over,
`abort` finishes scaling the candidate down.
"""

from enum import Enum, auto

from infra.release.actions import (
    Action,
    Apply,
    Check,
    CheckReady,
    ClearField,
    Done,
    Observation,
    SetField,
    Wait,
)
from infra.release.model import Color, ExitCode, Service
from infra.release.record import Phase, Record, effective_record
from infra.release.transitions import Policy, nothing_to_promote, restore, rollback_failed


class _Stage(Enum):
    SCALE = auto()
    READY = auto()
    READY_WAIT = auto()
    FLIP = auto()
    ABORT = auto()


class WorkerPromotion:
    """Decides every step of `promote` for one worker."""

    def __init__(self, service: Service, record: Record | None, policy: Policy) -> None:
        self._service = service
        self._policy = policy
        self._record = effective_record(service, record)
        self._stage = _Stage.SCALE
        self._polls = 0
        self._failure = ""

    def start(self) -> Action:
        """First action, after reading what the previous run left behind."""
        record, svc = self._record, self._service
        if (settled := nothing_to_promote(svc, record, "runs alone")) is not None:
            return settled
        if record.phase is Phase.FLIP:
            return self._flip(
                record,
                f"the previous run was interrupted during the cut-over to {record.target}, "
                "after it was ready: finishing the cut-over",
            )
        if record.phase is Phase.ABORT:
            self._failure = f"the interrupted run was scaling down because: {record.reason}"
            return self._abort(record, record.reason or "interrupted rollback")
        if svc.tag(record.target) is None:
            return Done(ExitCode.USAGE, f"{record.target} has no image tag: nothing to promote")
        resumed = record.phase is Phase.SCALE_UP
        why = (
            f"the previous run was interrupted while {record.target} was starting: scaling it "
            "up again and waiting for it"
            if resumed
            else f"promoting {self._candidate()} over {self._old()}: starting it next to "
            f"{record.source}"
        )
        # A hand-set trafficSplit on a worker is refused by the config; clear nothing else.
        scaling = record.to(Phase.SCALE_UP, step=None, reason=None)
        self._record = scaling
        self._stage = _Stage.SCALE
        return Apply((ClearField("idleReplicas"),), scaling, scaling, why)

    def advance(self, observation: Observation) -> Action:
        """Next action after the observation of the previous one."""
        assert isinstance(observation, Check), observation
        stage = self._stage
        if stage is _Stage.SCALE:
            if observation.ok:
                return self._check_ready(f"{self._target()} scaled up; gate (ready)")
            return self._fail("apply", f"scaling {self._target()} up failed: {observation.detail}")
        if stage is _Stage.READY_WAIT:
            return self._check_ready(f"poll {self._polls + 1}/{self._policy.max_polls}")
        if stage is _Stage.READY:
            return self._after_ready(observation)
        if stage is _Stage.FLIP:
            if observation.ok:
                return Done(
                    ExitCode.OK,
                    f"promoted: {self._candidate()} runs alone; {self._old()} is scaled to 0 and "
                    "kept for rollback (which scales it back up first)",
                )
            return self._fail("apply", f"cut-over failed: {observation.detail}")
        if not observation.ok:
            what = f"{self._failure}; then scaling the candidate down failed: {observation.detail}"
            return Done(
                ExitCode.ROLLBACK_FAILED,
                rollback_failed(self._service, self._current().source, what),
            )
        return Done(
            ExitCode.GATE_FAILED,
            f"{self._failure}; rolled back: {self._old()} runs alone, {self._candidate()} is "
            "scaled to 0 and stays staged (fix, deploy again, promote)",
        )

    # -- transitions -------------------------------------------------------------------------

    def _after_ready(self, result: Check) -> Action:
        if result.ok:
            return self._flip(
                self._current(),
                f"{self._target()} is ready ({result.detail}): making it the running colour and "
                f"scaling {self._current().source} to 0",
            )
        self._polls += 1
        if self._polls >= self._policy.max_polls:
            return self._fail(
                "ready",
                f"{self._target()} not ready after {self._policy.ready_timeout:g}s: "
                f"{result.detail}",
            )
        self._stage = _Stage.READY_WAIT
        return Wait(self._policy.poll_interval, f"{self._target()} not ready yet: {result.detail}")

    def _flip(self, record: Record, why: str) -> Action:
        self._record = record
        self._stage = _Stage.FLIP
        return Apply(
            (
                SetField("activeColor", record.target),
                ClearField("trafficSplit"),
                SetField("idleReplicas", 0),
            ),
            record.to(Phase.FLIP, step=None),
            record.to(Phase.PROMOTED, idle_replicas=None, step=None, reason=None),
            why,
        )

    def _fail(self, gate: str, detail: str) -> Action:
        self._failure = f"gate '{gate}' failed: {detail}"
        return self._abort(self._current(), self._failure)

    def _abort(self, record: Record, reason: str) -> Action:
        self._record = record
        self._stage = _Stage.ABORT
        return restore(
            record,
            reason,
            f"{reason}: scaling {record.target} back to 0; {record.source} runs alone",
            worker=True,
        )

    def _check_ready(self, why: str) -> Action:
        self._stage = _Stage.READY
        target = self._target()
        return CheckReady(target, self._service.image_ref(target), why)

    # -- helpers -----------------------------------------------------------------------------

    def _current(self) -> Record:
        assert self._record is not None
        return self._record

    def _target(self) -> Color:
        return self._current().target

    def _candidate(self) -> str:
        return self._service.label(self._current().target)

    def _old(self) -> str:
        return self._service.label(self._current().source)
