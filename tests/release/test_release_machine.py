"""The state machines by hand: (state, observation) -> next action, no ports, no runner."""

from infra.release.actions import (
    Apply,
    Check,
    CheckReady,
    ClearField,
    Done,
    Measure,
    Sample,
    SetField,
    SmokeTest,
    Wait,
)
from infra.release.model import Color, ExitCode, find_service
from infra.release.promote import Promotion
from infra.release.record import Phase, Record
from infra.release.rollback import Rollback
from infra.release.transitions import Policy


def policy() -> Policy:
    """(A function: building a Policy runs code `make mutate` mutates; see conftest.fast.)"""
    return Policy(steps=(10, 100), step_wait=60, window=120, ready_timeout=20, poll_interval=10)


OK = Check(True, "fine")
SERVICE = find_service(
    [
        {
            "name": "api",
            "image": "repo/api",
            "tags": {"blue": "1.4.2", "green": "1.6.0"},
            "activeColor": "blue",
            "allowPlainHttp": True,
        }
    ],
    "api",
)
STAGED = Record(Phase.STAGED, Color.BLUE, Color.GREEN, tag="1.6.0", idle_replicas=0)


def test_promotion_walks_gates_steps_and_rolls_back_on_a_breach():
    machine = Promotion(SERVICE, STAGED, policy())

    assert machine.start() == CheckReady(Color.GREEN, "repo/api:1.6.0", machine.start().why)
    assert isinstance(machine.advance(Check(False, "1/2 ready")), Wait)
    assert isinstance(machine.advance(OK), CheckReady)
    assert isinstance(machine.advance(OK), SmokeTest)
    shift = machine.advance(OK)
    assert isinstance(shift, Apply)
    assert shift.changes == (SetField("trafficSplit", 10),)
    assert shift.intent == STAGED.to(Phase.CANARY, step=10)
    assert machine.advance(OK) == Wait(60, "10 % of traffic on green: baking")
    assert machine.advance(OK) == Measure(Color.GREEN, 120, "gate 3 at 10 %")
    abort = machine.advance(Sample(error_rate=0.3, p95_seconds=0.1))
    assert isinstance(abort, Apply)
    assert abort.changes == (
        SetField("activeColor", Color.BLUE),
        ClearField("trafficSplit"),
        ClearField("idleReplicas"),
    )
    assert (abort.intent.phase, abort.then) == (Phase.ABORT, STAGED)
    done = machine.advance(OK)
    assert isinstance(done, Done) and done.code is ExitCode.GATE_FAILED


def test_promotion_cut_over_writes_back_the_parked_idle_replicas():
    machine = Promotion(SERVICE, STAGED, Policy(steps=(100,)))
    machine.start()
    for _ in ("ready", "smoke passed", "shift applied", "baked"):
        machine.advance(OK)
    flip = machine.advance(Sample(0.0, 0.1))

    assert isinstance(flip, Apply)
    assert SetField("idleReplicas", 0) in flip.changes
    assert flip.then == STAGED.to(Phase.PROMOTED, idle_replicas=None)


def test_promotion_after_an_interrupted_canary_restores_before_anything_else():
    first = Promotion(SERVICE, STAGED.to(Phase.CANARY, step=10), policy()).start()

    assert isinstance(first, Apply)
    assert first.changes[0] == SetField("activeColor", Color.BLUE)
    assert first.then == STAGED


def test_rollback_checks_the_previous_colour_then_flips():
    promoted = find_service(
        [
            {
                "name": "api",
                "image": "repo/api",
                "tags": {"blue": "1.4.2", "green": "1.6.0"},
                "activeColor": "green",
                "allowPlainHttp": True,
            }
        ],
        "api",
    )
    machine = Rollback(promoted, Record(Phase.PROMOTED, Color.BLUE, Color.GREEN), policy())

    check = machine.start()
    flip = machine.advance(OK)

    assert check == CheckReady(Color.BLUE, "repo/api:1.4.2", check.why)
    assert isinstance(flip, Apply)
    assert flip.changes == (SetField("activeColor", Color.BLUE), ClearField("trafficSplit"))
    assert flip.then.phase is Phase.ROLLED_BACK
    assert machine.advance(OK).code is ExitCode.OK
