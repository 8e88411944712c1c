"""Interrupted runs: a crash before any write leaves a state the next run converges from."""

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.release.actions import Sample
from infra.release.model import Color, ExitCode
from infra.release.record import Phase

ERRORS = Sample(error_rate=0.5, p95_seconds=0.2)
EMPTY = Sample(error_rate=None, p95_seconds=None)


def staged_world(make_world):
    """A world where `deploy --tag 1.6.0` staged green."""
    w = make_world()
    w.deploy("1.6.0")
    return w


def promoted_world(make_world):
    """A world where green 1.6.0 was promoted over blue."""
    w = staged_world(make_world)
    w.promote()
    return w


def writes_of(prepare, operation) -> list[str]:
    """The write sequence of an uninterrupted `operation` on a world from `prepare()`."""
    w = prepare()
    w.stack.history.clear()
    operation(w)
    return list(w.stack.history)


def crash_world(prepare, operation, crash_index: int):
    """A world from `prepare()` where `operation` died just before its `crash_index`-th write."""
    ops = writes_of(prepare, operation)
    assert crash_index < len(ops), ops
    w = prepare()
    w.stack.crash_before = ops[crash_index]
    w.stack.crash_occurrence = ops[: crash_index + 1].count(ops[crash_index])
    assert w.crashes(lambda: operation(w))
    return w


def test_crash_after_a_split_was_applied_restores_then_restarts(staged, caplog):
    caplog.set_level(logging.INFO, logger="infra.release")
    staged.stack.crash_before = "set trafficSplit=50"
    assert staged.crashes(staged.promote)
    assert staged.stack.live().split == 10  # 10 % of users are on green, nobody watching

    done = staged.promote()

    assert done.code is ExitCode.OK, done.message
    assert any(
        "interrupted mid-canary (at or moving to 50 % on green): returning 100 % to blue"
        in r.getMessage()
        for r in caplog.records
    )
    splits = [(a["activeColor"], a.get("trafficSplit")) for a in staged.stack.applies]
    assert splits[:2] == [("blue", 10), ("blue", None)]  # crashed run, then the restore
    assert splits[-1] == ("green", None)
    assert staged.converged_on() is Color.GREEN


def test_crash_after_split_then_rollback_returns_to_old_colour(staged):
    staged.stack.crash_before = "set trafficSplit=50"
    assert staged.crashes(staged.promote)

    done = staged.rollback()

    assert done.code is ExitCode.OK
    assert "rolled back: blue (1.4.2) serves 100 % (promotion undone)" in done.message
    assert staged.converged_on() is Color.BLUE


def test_split_set_by_hand_without_a_record_is_treated_as_interrupted_canary(make_world):
    w = make_world(trafficSplit=30)

    done = w.rollback()

    assert done.code is ExitCode.OK
    assert w.converged_on() is Color.BLUE


def test_crash_after_flip_before_clear_finishes_the_cut_over(staged):
    staged.stack.crash_before = "clear trafficSplit"
    assert staged.crashes(staged.promote)
    config = staged.stack.config()
    assert (config.active, config.split) == (Color.GREEN, 100)  # ambiguous without the record
    assert staged.stack.load("api").phase is Phase.FLIP

    done = staged.promote()

    assert done.code is ExitCode.OK
    assert len(staged.metrics.calls) == 3  # the first run's; gates are not measured again
    assert staged.converged_on() is Color.GREEN


def test_crash_after_flip_before_clear_then_rollback_returns_to_old_colour(staged):
    staged.stack.crash_before = "clear trafficSplit"
    assert staged.crashes(staged.promote)

    done = staged.rollback()

    assert done.code is ExitCode.OK
    assert staged.converged_on() is Color.BLUE
    assert staged.stack.load("api").phase is Phase.ROLLED_BACK


def test_rollback_after_a_cut_over_that_scaled_the_old_colour_down(make_world):
    w = make_world(idleReplicas=0)
    w.deploy("1.6.0")
    w.stack.crash_before = "save promoted"  # the cut-over was applied: blue has no pods
    assert w.crashes(w.promote)
    assert w.stack.live().idle_replicas == 0
    w.stack.applies.clear()

    done = w.rollback()

    assert done.code is ExitCode.OK, done.message
    assert [(a["activeColor"], a.get("idleReplicas")) for a in w.stack.applies] == [
        ("green", None),  # blue scaled up first, checked ready, only then...
        ("blue", 0),  # ...traffic returns to it and green scales down
    ]
    assert w.converged_on() is Color.BLUE


def test_failed_cut_over_restores_both_colours_to_full_size(make_world):
    w = make_world(idleReplicas=0)
    w.deploy("1.6.0")
    w.stack.fail_apply = lambda entry: entry["activeColor"] == "green"

    done = w.promote()

    assert done.code is ExitCode.GATE_FAILED
    assert w.converged_on() is Color.BLUE
    assert w.stack.live().idle_replicas is None
    assert w.stack.load("api").idle_replicas == 0  # still parked for the next cut-over


def test_crash_during_automatic_rollback_is_finished_and_not_retried(staged):
    staged.metrics.script = [ERRORS]
    staged.stack.crash_before = "clear trafficSplit"
    assert staged.crashes(staged.promote)
    assert staged.stack.load("api").phase is Phase.ABORT

    done = staged.promote()

    assert done.code is ExitCode.GATE_FAILED
    assert "the interrupted run was rolling back because: gate 'error-rate'" in done.message
    assert staged.converged_on() is Color.BLUE
    assert len(staged.metrics.calls) == 1


def test_promote_refuses_while_a_rollback_is_in_flight(make_world):
    w = make_world(activeColor="green", idleReplicas=0)  # blue is scaled down
    w.cluster.bad_tags = {"1.4.2"}
    assert w.rollback().code is ExitCode.ROLLBACK_FAILED

    done = w.promote()

    assert done.code is ExitCode.USAGE
    assert "run `rollback` to finish it" in done.message


@pytest.mark.parametrize("index", range(17))
def test_every_crash_point_of_a_promotion_converges_on_rerun(make_world, index):
    w = crash_world(lambda: staged_world(make_world), lambda w: w.promote(), index)

    assert w.promote().code is ExitCode.OK
    assert w.converged_on() is Color.GREEN
    assert w.promote().code is ExitCode.OK  # and again: nothing left to do


@pytest.mark.parametrize("index", range(17))
def test_every_crash_point_of_a_promotion_then_rollback_serves_old_colour(make_world, index):
    w = crash_world(lambda: staged_world(make_world), lambda w: w.promote(), index)

    assert w.rollback().code is ExitCode.OK
    assert w.converged_on() is Color.BLUE


@pytest.mark.parametrize("index", range(9))
def test_every_crash_point_of_an_emergency_rollback_converges(make_world, index):
    def to_tag(w):
        return w.rollback(to_tag="1.3.9")

    w = crash_world(lambda: promoted_world(make_world), to_tag, index)

    assert to_tag(w).code is ExitCode.OK
    assert w.converged_on() is Color.BLUE
    assert w.stack.live().tag(Color.BLUE) == "1.3.9"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    samples=st.lists(st.sampled_from([Sample(0.01, 0.2), ERRORS, EMPTY]), max_size=3),
    crash=st.integers(min_value=0, max_value=12),
    rerun=st.sampled_from(["promote", "rollback"]),
)
def test_any_crash_then_any_rerun_serves_from_exactly_one_colour(make_world, samples, crash, rerun):
    def promote(w):
        w.metrics.script = list(samples)
        return w.promote()

    ops = writes_of(lambda: staged_world(make_world), promote)
    if crash < len(ops):
        w = crash_world(lambda: staged_world(make_world), promote, crash)
    else:
        w = staged_world(make_world)
        promote(w)
    w.metrics.script = []

    done = w.promote() if rerun == "promote" else w.rollback()

    assert done.code in (ExitCode.OK, ExitCode.GATE_FAILED), done.message
    w.converged_on()
    assert w.stack.load("api").phase in (Phase.STAGED, Phase.PROMOTED, Phase.ROLLED_BACK)
