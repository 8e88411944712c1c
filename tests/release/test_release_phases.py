"""Every release command in every phase of the record (infra/release/record.py `Phase`).

The table is the state machine's documentation: phase x command -> what the command does
first. A refusal names why with its exact message and writes nothing (no record, no config
field, no apply); a no-op says why and writes nothing; an allowed command is named by its first
action (for a change: the phase it records as intent before touching config). A phase added to
`Phase` without a row here fails `test_every_phase_has_a_decision_for_every_command`.

`status` and `sync` are not in the table: neither reads the record's phase (status prints it,
sync copies the live fields), and both are tested in test_release_cli.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from infra.release.actions import Apply, CheckReady, Done
from infra.release.deploy import Deployment
from infra.release.model import Color, ExitCode
from infra.release.promote import promotion
from infra.release.record import Phase, Record
from infra.release.rollback import Rollback
from infra.release.runner import run
from tests.release.conftest import World, fast, make_world

B, G = Color.BLUE, Color.GREEN
TAGS = {"blue": "1.4.2", "green": "1.6.0"}
REASON = "gate 3 at 10 %: error rate 30.0 %"

# Each phase as the stack holds it: the service's live fields and the stored record. `None`:
# no record at all (a service never released).
STATES: dict[Phase | None, tuple[dict, Record | None]] = {
    None: ({}, None),
    Phase.STAGED: ({"tags": TAGS}, Record(Phase.STAGED, B, G, tag="1.6.0")),
    Phase.CANARY: ({"tags": TAGS, "trafficSplit": 10},
                   Record(Phase.CANARY, B, G, tag="1.6.0", step=10)),
    # Only a worker (kind: worker, its idle colour at 0 pods) scales a candidate up.
    Phase.SCALE_UP: ({"tags": TAGS, "kind": "worker", "idleReplicas": 0, "allowPlainHttp": None},
                     Record(Phase.SCALE_UP, B, G, tag="1.6.0")),
    Phase.FLIP: ({"tags": TAGS}, Record(Phase.FLIP, B, G, tag="1.6.0")),
    Phase.ABORT: ({"tags": TAGS}, Record(Phase.ABORT, B, G, tag="1.6.0", reason=REASON)),
    Phase.ROLLBACK: ({"tags": TAGS, "activeColor": "green"}, Record(Phase.ROLLBACK, G, B)),
    Phase.PROMOTED: ({"tags": TAGS, "activeColor": "green"},
                     Record(Phase.PROMOTED, B, G, tag="1.6.0")),
    Phase.ROLLED_BACK: ({"tags": TAGS}, Record(Phase.ROLLED_BACK, G, B)),
}  # fmt: skip

COMMANDS = {
    "deploy --tag 1.7.0": lambda svc, record: Deployment(svc, record, "1.7.0"),
    # The release tool's own dispatch: traffic steps for a web service, scaling for a worker.
    "promote": lambda svc, record: promotion(svc, record, fast()),
    "rollback": lambda svc, record: Rollback(svc, record, fast()),
    "rollback --to-tag 1.3.9": lambda svc, record: Rollback(svc, record, fast(), "1.3.9"),
}


@dataclass(frozen=True)
class Refused:
    code: ExitCode
    message: str


@dataclass(frozen=True)
class Nothing:
    """Exit 0 without a change: the state already is what the command would reach."""

    message: str


@dataclass(frozen=True)
class Records:
    """Allowed: the first action is a change whose intent (this phase) is recorded first;
    on a healthy platform the command then ends with `ends`."""

    intent: Phase
    ends: ExitCode = ExitCode.OK


@dataclass(frozen=True)
class Checks:
    """Allowed: the first action reads readiness of `color` (nothing to change yet)."""

    color: Color


def in_flight(phase: str, route: str, finish: str = "`promote` or `rollback`") -> Refused:
    return Refused(
        ExitCode.USAGE,
        f"a release of api is in flight (phase {phase}, {route}): run {finish} first",
    )


NOTHING_STAGED = Refused(
    ExitCode.USAGE,
    "nothing to promote: no release is staged for api; blue (1.4.2) serves 100 %. Stage one "
    "with `deploy --tag <tag>` first.",
)
D, P, R, RT = COMMANDS
DECISIONS: dict[Phase | None, dict[str, object]] = {
    None: {D: Records(Phase.STAGED), P: NOTHING_STAGED, R: Checks(G),
           RT: Records(Phase.ROLLBACK)},
    Phase.STAGED: {
        D: Records(Phase.STAGED),  # a newer candidate replaces the staged one
        P: Checks(G),
        R: Nothing("nothing to roll back: blue (1.4.2) serves 100 %; green (1.6.0) is a staged "
                   "candidate that was never promoted"),
        RT: Records(Phase.ROLLBACK),
    },
    Phase.CANARY: {D: in_flight("canary", "blue -> green"), P: Records(Phase.ABORT),
                   R: Records(Phase.ABORT), RT: Records(Phase.ABORT)},
    # promote resumes the scale-up; rollback scales the candidate back to 0 (an abort)
    Phase.SCALE_UP: {D: in_flight("scale-up", "blue -> green"), P: Records(Phase.SCALE_UP),
                     R: Records(Phase.ABORT), RT: Records(Phase.ABORT)},
    Phase.FLIP: {D: in_flight("flip", "blue -> green"), P: Records(Phase.FLIP),
                 R: Records(Phase.ROLLBACK), RT: Records(Phase.ROLLBACK)},
    # promote finishes the interrupted abort and reports the failed promotion it belonged to
    Phase.ABORT: {D: in_flight("abort", "blue -> green"),
                  P: Records(Phase.ABORT, ends=ExitCode.GATE_FAILED),
                  R: Records(Phase.ABORT), RT: Records(Phase.ABORT)},
    Phase.ROLLBACK: {
        D: in_flight("rollback", "green -> blue", "`rollback`"),
        P: Refused(ExitCode.USAGE, "a rollback of api to blue is in flight; run `rollback` to "
                                   "finish it before promoting"),
        R: Records(Phase.ROLLBACK), RT: Records(Phase.ROLLBACK),
    },
    Phase.PROMOTED: {
        D: Records(Phase.STAGED),
        P: Nothing("already promoted: green (1.6.0) serves 100 %; nothing to do"),
        R: Checks(B), RT: Records(Phase.ROLLBACK),
    },
    Phase.ROLLED_BACK: {
        D: Records(Phase.STAGED), P: NOTHING_STAGED,
        R: Nothing("already rolled back: blue (1.4.2) serves 100 %; nothing to do"),
        RT: Records(Phase.ROLLBACK),
    },
}  # fmt: skip
CELLS = [(phase, command) for phase in DECISIONS for command in COMMANDS]


def _world(phase: Phase | None) -> World:
    fields, record = STATES[phase]
    world = make_world(**fields)
    if record is not None:
        world.stack.records["api"] = record.to_json()
    return world


def test_every_phase_has_a_decision_for_every_command():
    assert set(STATES) == set(DECISIONS) == {None, *Phase}
    for phase, row in DECISIONS.items():
        assert list(row) == list(COMMANDS), phase


def _decision(action) -> object:
    match action:
        case Done(code=ExitCode.OK, message=message):
            return Nothing(message)
        case Done(code=code, message=message):
            return Refused(code, message)
        case Apply(intent=intent):
            return Records(intent.phase)
        case CheckReady(color=color):
            return Checks(color)
    raise AssertionError(f"unexpected first action {action}")


@pytest.mark.parametrize(
    ("phase", "command"), CELLS, ids=[f"{p or 'no record'} x {c}" for p, c in CELLS]
)
def test_each_command_in_each_phase_does_what_the_table_says(phase, command):
    world = _world(phase)
    service, record = world.stack.config(), world.stack.load("api")
    expected = DECISIONS[phase][command]
    first = _decision(COMMANDS[command](service, record).start())
    if isinstance(expected, Records):
        assert first == Records(expected.intent)
    else:
        assert first == expected

    before = (dict(world.stack.records), world.stack.read_services())
    done = run(COMMANDS[command](service, record), service, world.ports)
    if isinstance(expected, Refused | Nothing):
        assert (done.code, done.message) == (
            (expected.code, expected.message)
            if isinstance(expected, Refused)
            else (ExitCode.OK, expected.message)
        )
        assert world.stack.history == [], "a refusal or no-op writes nothing"
        assert (world.stack.records, world.stack.read_services()) == before
        return
    # Allowed: on a healthy platform the command completes, recording its intent before the
    # first config change and ending on one colour at 100 %.
    assert done.code is getattr(expected, "ends", ExitCode.OK), done.message
    first_write = next(op for op in world.stack.history if not op.startswith("save"))
    saves = world.stack.history[: world.stack.history.index(first_write)]
    assert saves and saves[0].startswith("save "), world.stack.history
    if isinstance(expected, Records):
        assert saves[0] == f"save {expected.intent}"
    world.converged_on()
