"""The `rollback` state machine: put the previous colour (or a given tag) back on 100 %.

Plain rollback flips to the idle colour, which after a promotion still runs the previous
version. `--to-tag X` (emergency) first puts X on the idle colour and waits until it is ready.
If a promotion was interrupted, rollback means "return to the colour that served before it":
mid-canary that is one apply (`restore`); after an interrupted cut-over the old colour may
already be scaled down, so it goes through the same scale-up / ready / flip path.
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
from infra.release.model import ConfigError, ExitCode, Service, validate_tag
from infra.release.record import Phase, Record, effective_record
from infra.release.transitions import Policy, flip, restore, rollback_failed


class _Stage(Enum):
    RESTORE = auto()  # undoing an interrupted promotion
    STAGE = auto()  # putting the tag on the target colour / scaling it up
    READY = auto()
    READY_WAIT = auto()
    FLIP = auto()


class Rollback:
    """Decides every step of `rollback [--to-tag X]` for one service."""

    def __init__(
        self, service: Service, record: Record | None, policy: Policy, to_tag: str | None = None
    ) -> None:
        self._service = service
        self._policy = policy
        self._to_tag = to_tag
        self._record = effective_record(service, record)
        self._plan: Record | None = None
        self._stage = _Stage.READY
        self._polls = 0

    def start(self) -> Action:
        """First action, after reading what the previous run left behind."""
        record, svc = self._record, self._service
        serving = svc.label(svc.active)
        phase = record.phase if record is not None else None
        if self._to_tag is not None:
            try:
                validate_tag(self._to_tag)
            except ConfigError as error:
                return Done(ExitCode.USAGE, str(error))
        if record is not None and phase is Phase.FLIP:
            back = Record(
                Phase.ROLLBACK,
                record.target,
                record.source,
                idle_replicas=0 if svc.worker else record.idle_replicas,
            )
            return self._begin(
                back,
                f"a cut-over to {record.target} was interrupted: {record.source} may already be "
                "scaled down, so it is scaled up and checked before traffic returns to it",
                resume=True,
            )
        if record is not None and phase in (Phase.CANARY, Phase.SCALE_UP, Phase.ABORT):
            self._stage = _Stage.RESTORE
            return restore(
                record,
                f"rollback requested while a promotion was in phase {phase}",
                f"a promotion of {record.target} was interrupted (phase {phase}): rolling back "
                f"means returning everything to {record.source}",
                worker=svc.worker,
            )
        if record is not None and phase is Phase.ROLLBACK:
            return self._begin(
                record, "the previous rollback was interrupted: finishing it", resume=True
            )
        if self._to_tag is None and phase is Phase.STAGED:
            return Done(
                ExitCode.OK,
                f"nothing to roll back: {serving} {svc.serves}; {svc.label(svc.idle)} is a "
                "staged candidate that was never promoted",
            )
        if self._to_tag is None and phase is Phase.ROLLED_BACK:
            return Done(ExitCode.OK, f"already rolled back: {serving} {svc.serves}; nothing to do")
        return self._begin(self._fresh_plan(), f"rolling back from {serving}")

    def advance(self, observation: Observation) -> Action:
        """Next action after the observation of the previous one."""
        assert isinstance(observation, Check), observation
        stage = self._stage
        if stage is _Stage.RESTORE:
            return self._after_restore(observation)
        if stage is _Stage.READY_WAIT:
            return self._check_ready(f"poll {self._polls + 1}/{self._policy.max_polls}")
        plan = self._current()
        if not observation.ok and stage is not _Stage.READY:
            what = f"{'staging' if stage is _Stage.STAGE else 'flip'} failed: {observation.detail}"
            safe = plan.source if stage is _Stage.STAGE else plan.target
            return Done(ExitCode.ROLLBACK_FAILED, rollback_failed(self._service, safe, what))
        if stage is _Stage.STAGE:
            return self._check_ready(f"{plan.target} updated; waiting until it is ready")
        if stage is _Stage.READY:
            return self._after_ready(observation)
        return Done(
            ExitCode.OK,
            f"rolled back: {self._label(plan)} {self._service.serves}; "
            f"{self._service.label(plan.source)} is "
            f"{'scaled to 0' if self._service.worker else 'idle'}",
        )

    # -- transitions -------------------------------------------------------------------------

    def _after_restore(self, result: Check) -> Action:
        assert self._record is not None
        source = self._record.source
        if not result.ok:
            return Done(
                ExitCode.ROLLBACK_FAILED, rollback_failed(self._service, source, result.detail)
            )
        label = self._service.label(source)
        if self._to_tag is None:
            return Done(
                ExitCode.OK, f"rolled back: {label} {self._service.serves} (promotion undone)"
            )
        self._record = self._record.to(Phase.STAGED, step=None, reason=None)
        return self._begin(self._fresh_plan(), f"{label} {self._service.serves} again")

    def _after_ready(self, result: Check) -> Action:
        plan = self._current()
        if result.ok:
            self._stage = _Stage.FLIP
            return flip(
                plan,
                Phase.ROLLED_BACK,
                f"{plan.target} is ready ({result.detail}): moving 100 % of traffic to it",
            )
        self._polls += 1
        if self._polls >= self._policy.max_polls:
            what = (
                f"{plan.target} not ready after {self._policy.ready_timeout:g}s: {result.detail}; "
                f"{plan.source} still serves"
            )
            return Done(ExitCode.ROLLBACK_FAILED, rollback_failed(self._service, plan.target, what))
        self._stage = _Stage.READY_WAIT
        return Wait(self._policy.poll_interval, f"{plan.target} not ready yet: {result.detail}")

    # -- action builders ---------------------------------------------------------------------

    def _fresh_plan(self) -> Record:
        svc, record = self._service, self._record
        # A worker's previous colour ends at 0 pods: it would go on consuming the queue.
        if record is not None and record.phase is Phase.STAGED:
            parked = 0 if svc.worker else record.idle_replicas
            return Record(Phase.ROLLBACK, record.source, record.target, self._to_tag, parked)
        parked = 0 if svc.worker else svc.idle_replicas
        return Record(Phase.ROLLBACK, svc.active, svc.idle, self._to_tag, parked)

    def _begin(self, plan: Record, why: str, *, resume: bool = False) -> Action:
        """Stage the target (tag, full size) when needed, else check it is ready.

        A resumed rollback always applies first: the interrupted run may have written config
        that never reached the cluster.
        """
        svc = self._service
        tag = self._to_tag or plan.tag
        self._plan = plan.to(Phase.ROLLBACK, tag=tag)
        changes: list[SetField | ClearField] = []
        if tag is not None and svc.tag(plan.target) != tag:
            changes.append(SetField(f"tags.{plan.target}", tag))
        if svc.idle_replicas is not None:
            changes.append(ClearField("idleReplicas"))
        if changes or resume:
            self._stage = _Stage.STAGE
            return Apply(
                tuple(changes),
                self._plan,
                self._plan,
                f"{why}; preparing {plan.target} ({tag or svc.tag(plan.target)}) at full size",
            )
        if svc.tag(plan.target) is None:
            return Done(
                ExitCode.USAGE,
                f"{plan.target} has no image tag: nothing to roll back to (use --to-tag)",
            )
        return self._check_ready(f"{why}; target {self._label(self._plan)}")

    def _check_ready(self, why: str) -> Action:
        self._stage = _Stage.READY
        plan = self._current()
        return CheckReady(plan.target, f"{self._service.image}:{self._tag(plan)}", why)

    # -- helpers -----------------------------------------------------------------------------

    def _current(self) -> Record:
        assert self._plan is not None
        return self._plan

    def _tag(self, plan: Record) -> str | None:
        return plan.tag or self._service.tag(plan.target)

    def _label(self, plan: Record) -> str:
        return f"{plan.target} ({self._tag(plan)})"
