"""`rollback` and `rollback --to-tag` (fakes, fake clock)."""

import pytest

from infra.release.model import Color, ConfigError, ExitCode
from infra.release.record import Phase


@pytest.fixture
def promoted(staged):
    """green 1.6.0 promoted over blue 1.4.2."""
    assert staged.promote().code is ExitCode.OK
    staged.stack.history.clear()
    staged.stack.applies.clear()
    staged.clock.sleeps.clear()
    return staged


def test_rollback_flips_instantly_to_the_previous_colour(promoted):
    done = promoted.rollback()

    assert done.code is ExitCode.OK
    assert "rolled back: blue (1.4.2) serves 100 %; green (1.6.0) is idle" in done.message
    assert promoted.converged_on() is Color.BLUE
    assert len(promoted.stack.applies) == 1  # one apply, no waiting
    assert promoted.clock.sleeps == []
    assert promoted.stack.load("api").phase is Phase.ROLLED_BACK


def test_rollback_twice_does_not_flip_back(promoted):
    promoted.rollback()
    promoted.stack.history.clear()

    done = promoted.rollback()

    assert done.code is ExitCode.OK
    assert "already rolled back: blue (1.4.2) serves 100 %" in done.message
    assert promoted.stack.history == []


def test_rollback_with_a_staged_candidate_has_nothing_to_do(staged):
    done = staged.rollback()

    assert done.code is ExitCode.OK
    assert "nothing to roll back: blue (1.4.2) serves 100 %" in done.message
    assert staged.stack.history == []


def test_rollback_scales_a_scaled_down_colour_up_before_flipping(make_world):
    w = make_world(idleReplicas=0)
    w.deploy("1.6.0")
    w.promote()
    assert w.stack.live().idle_replicas == 0  # blue has no pods
    w.stack.applies.clear()
    w.clock.sleeps.clear()
    w.cluster.not_ready_checks = 1

    done = w.rollback()

    assert done.code is ExitCode.OK, done.message
    assert [(a["activeColor"], a.get("idleReplicas")) for a in w.stack.applies] == [
        ("green", None),  # blue back to full size first
        ("blue", 0),  # flip, and green (the bad version) scales down
    ]
    assert w.clock.sleeps == [10]
    assert w.converged_on() is Color.BLUE


def test_rollback_target_never_ready_exits_3_loudly(promoted):
    promoted.cluster.bad_tags = {"1.4.2"}

    done = promoted.rollback()

    assert done.code is ExitCode.ROLLBACK_FAILED
    assert "ROLLBACK FAILED — OPERATOR ACTION NEEDED: blue not ready after 30s" in done.message
    assert "green still serves" in done.message
    assert promoted.stack.live().active is Color.GREEN


def test_rollback_flip_apply_failure_exits_3(promoted):
    promoted.stack.fail_apply = lambda entry: entry["activeColor"] == "blue"

    done = promoted.rollback()

    assert done.code is ExitCode.ROLLBACK_FAILED
    assert "flip failed: RuntimeError: pulumi up failed" in done.message
    assert "'platform:services[0].activeColor' blue" in done.message


def test_emergency_rollback_to_tag_stages_waits_and_flips(promoted):
    promoted.cluster.not_ready_checks = 2

    done = promoted.rollback(to_tag="1.3.9")

    assert done.code is ExitCode.OK, done.message
    assert "rolled back: blue (1.3.9) serves 100 %" in done.message
    assert [(a["activeColor"], a["tags"]["blue"]) for a in promoted.stack.applies] == [
        ("green", "1.3.9"),
        ("blue", "1.3.9"),
    ]
    assert promoted.clock.sleeps == [10, 10]
    assert promoted.converged_on() is Color.BLUE


def test_emergency_rollback_replaces_a_staged_candidate(staged):
    done = staged.rollback(to_tag="1.4.1")

    assert done.code is ExitCode.OK
    live = staged.stack.live()
    assert (live.active, live.tag(Color.GREEN)) == (Color.GREEN, "1.4.1")


def test_emergency_rollback_tag_that_never_gets_ready_exits_3(promoted):
    promoted.cluster.bad_tags = {"1.3.9"}

    done = promoted.rollback(to_tag="1.3.9")

    assert done.code is ExitCode.ROLLBACK_FAILED
    assert promoted.stack.live().active is Color.GREEN  # still on the last good flip


@pytest.mark.parametrize("tag", ["latest", "", "bad tag"])
def test_emergency_rollback_rejects_unpinned_tags(promoted, tag):
    done = promoted.rollback(to_tag=tag)

    assert done.code is ExitCode.USAGE
    assert promoted.stack.history == []


def test_rollback_without_history_flips_to_the_idle_colour(world):
    done = world.rollback()

    assert done.code is ExitCode.OK
    assert world.converged_on() is Color.GREEN


def test_rollback_to_a_colour_without_tag_is_a_usage_error(make_world):
    """`pulumi up` refuses a service without both tags; the release tool reads it with the
    same model, so it names the missing key (the CLI exits USAGE on a ConfigError) instead
    of guessing what to roll back to."""
    w = make_world(tags={"blue": "1.4.2"})

    with pytest.raises(ConfigError, match=r"platform:services\[0\]\.tags\.green: required"):
        w.rollback()
