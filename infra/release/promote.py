"""The `promote` state machine: gates, canary steps, cut-over, automatic rollback.

Pure: it turns (state, observation) into the next action; `runner.run` performs the actions.

Gates, in order: (1) the candidate colour is rolled out and ready, (2) a smoke request through
the preview Service succeeds, (3) for each traffic step: shift, bake, then the candidate's error
rate and p95 latency pass `judge`. Then the cut-over (`flip`). Any failure after traffic moved
returns all traffic to the previous colour (`restore`).
"""

from enum import Enum, auto

from infra.release.actions import (
    Action,
    Apply,
    Check,
    CheckReady,
    Done,
    Measure,
    Observation,
    Sample,
    SetField,
    SmokeTest,
    Wait,
)
from infra.release.gates import judge
from infra.release.model import Color, ExitCode, Service
from infra.release.record import Phase, Record, effective_record
from infra.release.runner import Machine
from infra.release.transitions import Policy, flip, nothing_to_promote, restore, rollback_failed
from infra.release.worker import WorkerPromotion


class _Stage(Enum):
    RECOVER = auto()  # restoring the old colour after an interrupted canary
    FINISH_ABORT = auto()  # finishing an interrupted automatic rollback
    READY = auto()
    READY_WAIT = auto()
    SMOKE = auto()
    SHIFT = auto()
    BAKE = auto()
    MEASURE = auto()
    FLIP = auto()
    ABORT = auto()


class Promotion:
    """Decides every step of `promote` for one service."""

    def __init__(self, service: Service, record: Record | None, policy: Policy) -> None:
        self._service = service
        self._policy = policy
        self._record = effective_record(service, record)
        self._stage = _Stage.READY
        self._step = 0
        self._polls = 0
        self._moved = False  # traffic may have moved in this run: a failure must roll back
        self._failure = ""

    def start(self) -> Action:
        """First action, after reading what the previous run left behind."""
        record, svc = self._record, self._service
        if (settled := nothing_to_promote(svc, record, "serves 100 %")) is not None:
            return settled
        if record.phase is Phase.FLIP:
            self._moved = True
            self._stage = _Stage.FLIP
            return flip(
                record,
                Phase.PROMOTED,
                f"the previous run was interrupted during the cut-over to {record.target}, after "
                "every gate had passed: finishing the cut-over",
            )
        if record.phase is Phase.ABORT:
            self._stage = _Stage.FINISH_ABORT
            return restore(
                record,
                record.reason or "interrupted rollback",
                f"the previous run was interrupted while rolling back a failed promotion "
                f"({record.reason}): finishing that rollback to {record.source}",
            )
        if record.phase is Phase.CANARY:
            self._stage = _Stage.RECOVER
            return restore(
                record,
                f"run interrupted mid-canary at {record.step} %",
                f"the previous run was interrupted mid-canary (at or moving to {record.step} % "
                f"on {record.target}): returning 100 % to {record.source}, then restarting the "
                "promotion from the first gate",
            )
        return self._check_ready(
            f"promoting {self._candidate()} over {self._old()}: gate 1 (ready)"
        )

    def advance(self, observation: Observation) -> Action:
        """Next action after the observation of the previous one."""
        stage = self._stage
        if stage is _Stage.MEASURE:
            return self._after_measure(observation)
        assert isinstance(observation, Check), observation
        if stage is _Stage.RECOVER:
            return self._after_recover(observation)
        if stage is _Stage.FINISH_ABORT:
            return self._after_abort(observation, self._record_reason())
        if stage is _Stage.READY:
            return self._after_ready(observation)
        if stage is _Stage.READY_WAIT:
            return self._check_ready(f"poll {self._polls + 1}/{self._policy.max_polls}")
        if stage is _Stage.SMOKE:
            if observation.ok:
                return self._shift(0, f"smoke test passed ({observation.detail})")
            return self._fail(
                "smoke", f"{self._target()} health check failed: {observation.detail}"
            )
        if stage is _Stage.SHIFT:
            return self._after_shift(observation)
        if stage is _Stage.BAKE:
            self._stage = _Stage.MEASURE
            step = self._policy.steps[self._step]
            return Measure(self._target(), self._policy.window, f"gate 3 at {step} %")
        if stage is _Stage.FLIP:
            if observation.ok:
                return Done(
                    ExitCode.OK,
                    f"promoted: {self._candidate()} serves 100 %; {self._old()} is idle and kept "
                    "for rollback",
                )
            return self._fail("apply", f"cut-over failed: {observation.detail}")
        return self._after_abort(observation, self._failure)

    # -- transitions -------------------------------------------------------------------------

    def _after_recover(self, result: Check) -> Action:
        assert self._record is not None
        if not result.ok:
            return Done(
                ExitCode.ROLLBACK_FAILED,
                rollback_failed(self._service, self._record.source, result.detail),
            )
        self._record = self._record.to(Phase.STAGED, step=None, reason=None)
        return self._check_ready(f"{self._old()} serves 100 % again; restarting at gate 1 (ready)")

    def _after_ready(self, result: Check) -> Action:
        if result.ok:
            self._stage = _Stage.SMOKE
            return SmokeTest(self._target(), f"gate 1 passed ({result.detail}); gate 2 (smoke)")
        self._polls += 1
        if self._polls >= self._policy.max_polls:
            return self._fail(
                "ready",
                f"{self._target()} not ready after {self._policy.ready_timeout:g}s: "
                f"{result.detail}",
            )
        self._stage = _Stage.READY_WAIT
        return Wait(self._policy.poll_interval, f"{self._target()} not ready yet: {result.detail}")

    def _after_shift(self, result: Check) -> Action:
        step = self._policy.steps[self._step]
        if not result.ok:
            return self._fail("apply", f"shifting {step} % failed: {result.detail}")
        self._stage = _Stage.BAKE
        return Wait(self._policy.step_wait, f"{step} % of traffic on {self._target()}: baking")

    def _after_measure(self, result: Observation) -> Action:
        step = self._policy.steps[self._step]
        if isinstance(result, Check):
            return self._fail("metrics", f"could not query metrics: {result.detail}")
        assert isinstance(result, Sample)
        final = self._step == len(self._policy.steps) - 1
        verdict = judge(result, self._policy.thresholds, final=final)
        notes = "".join(f"; WARNING: {warning}" for warning in verdict.warnings)
        if not verdict.passed:
            assert verdict.gate is not None
            return self._fail(verdict.gate, f"{self._target()} {verdict.summary}{notes}")
        passed = f"step {step} % passed: {verdict.summary}{notes}"
        if final:
            self._stage = _Stage.FLIP
            record = self._current()
            return flip(record, Phase.PROMOTED, f"{passed}; all gates passed: cutting over")
        return self._shift(self._step + 1, passed)

    def _after_abort(self, result: Check, failure: str) -> Action:
        assert self._record is not None
        if not result.ok:
            what = f"{failure}; then the rollback failed: {result.detail}"
            return Done(
                ExitCode.ROLLBACK_FAILED, rollback_failed(self._service, self._record.source, what)
            )
        return Done(
            ExitCode.GATE_FAILED,
            f"{failure}; rolled back: {self._old()} serves 100 %, {self._candidate()} stays "
            "deployed on the idle colour (fix, deploy again, promote)",
        )

    # -- action builders ---------------------------------------------------------------------

    def _check_ready(self, why: str) -> Action:
        self._stage = _Stage.READY
        target = self._current().target
        if self._service.tag(target) is None:
            return Done(ExitCode.USAGE, f"{target} has no image tag: nothing to promote")
        return CheckReady(target, self._service.image_ref(target), why)

    def _shift(self, index: int, why: str) -> Action:
        self._step = index
        self._stage = _Stage.SHIFT
        self._moved = True
        step = self._policy.steps[index]
        record = self._current()
        canary = record.to(Phase.CANARY, step=step)
        return Apply(
            (SetField("trafficSplit", step),),
            canary,
            canary,
            f"{why}; sending {step} % of traffic to {record.target}",
        )

    def _fail(self, gate: str, detail: str) -> Action:
        canary = self._stage in (_Stage.SHIFT, _Stage.BAKE, _Stage.MEASURE)
        where = f" at step {self._policy.steps[self._step]} %" if canary else ""
        failure = f"gate '{gate}' failed{where}: {detail}"
        if not self._moved:
            return Done(
                ExitCode.GATE_FAILED,
                f"{failure}; no traffic was shifted: {self._old()} still serves 100 %",
            )
        self._failure = failure
        self._stage = _Stage.ABORT
        return restore(self._current(), failure, f"{failure}: rolling back to {self._old()}")

    # -- helpers -----------------------------------------------------------------------------

    def _current(self) -> Record:
        assert self._record is not None
        return self._record

    def _record_reason(self) -> str:
        return f"the interrupted run was rolling back because: {self._current().reason}"

    def _target(self) -> Color:
        return self._current().target

    def _candidate(self) -> str:
        return self._service.label(self._current().target)

    def _old(self) -> str:
        return self._service.label(self._current().source)


def promotion(service: Service, record: Record | None, policy: Policy) -> Machine:
    """The promote machine for this kind of service: traffic steps for a web service, scaling
    for a worker (no Ingress, so nothing to weigh)."""
    if service.worker:
        return WorkerPromotion(service, record, policy)
    return Promotion(service, record, policy)
