"""The vocabulary between the state machines and the runner.

A machine returns an *action* (what to do next and why); the runner performs it through the
ports and hands back an *observation* (`Check` or `Sample`). Every type is immutable data.
"""

from dataclasses import dataclass

from infra.release.model import Color, ExitCode
from infra.release.record import Record


@dataclass(frozen=True)
class SetField:
    """Set `platform:services[i].<field>` (a dotted path such as `tags.green`)."""

    field: str
    value: str | int


@dataclass(frozen=True)
class ClearField:
    """Remove `platform:services[i].<field>` from the stack config."""

    field: str


Change = SetField | ClearField


@dataclass(frozen=True)
class Apply:
    """Save `intent`, write `changes`, run `pulumi up`, then save `then`."""

    changes: tuple[Change, ...]
    intent: Record
    then: Record
    why: str


@dataclass(frozen=True)
class CheckReady:
    """Ask the cluster whether `color` runs `image` and is fully ready."""

    color: Color
    image: str
    why: str


@dataclass(frozen=True)
class SmokeTest:
    """HTTP GET the health path through the preview Service (the idle colour)."""

    color: Color
    why: str


@dataclass(frozen=True)
class Wait:
    """Sleep `seconds` (bake time of a traffic step, or a readiness poll interval)."""

    seconds: float
    why: str


@dataclass(frozen=True)
class Measure:
    """Query error rate and p95 latency of `color` over the last `window` seconds."""

    color: Color
    window: float
    why: str


@dataclass(frozen=True)
class Done:
    """The run is over: exit with `code` and print `message`."""

    code: ExitCode
    message: str


Step = Apply | CheckReady | SmokeTest | Wait | Measure
Action = Step | Done


@dataclass(frozen=True)
class Check:
    """Outcome of an action that succeeds or fails (apply, readiness, smoke, wait)."""

    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Sample:
    """Metrics of one colour; None means Prometheus had no data for that signal."""

    error_rate: float | None
    p95_seconds: float | None


Observation = Check | Sample


def describe(action: Step) -> str:
    """A short imperative description of an action, for the decision log."""
    match action:
        case Apply(changes=changes, intent=intent):
            edits = ", ".join(_describe_change(change) for change in changes) or "no config change"
            return f"apply [{edits}] (record: {intent.phase})"
        case CheckReady(color=color, image=image):
            return f"check {color} is rolled out with {image} and ready"
        case SmokeTest(color=color):
            return f"smoke-test {color} through the preview Service"
        case Wait(seconds=seconds):
            return f"wait {seconds:g}s"
        case Measure(color=color, window=window):
            return f"measure {color} error rate and p95 over {window:g}s"


def _describe_change(change: Change) -> str:
    if isinstance(change, SetField):
        return f"{change.field}={change.value}"
    return f"-{change.field}"
