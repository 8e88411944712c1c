"""`deploy`: stage a tag on the idle colour, never on the active one."""

import pytest

from infra.release.model import Color, ExitCode
from infra.release.record import Phase


def test_deploy_puts_the_tag_on_the_idle_colour_only(world):
    done = world.deploy("1.6.0")

    assert done.code is ExitCode.OK
    assert "deployed 1.6.0 to green (idle); blue (1.4.2) still serves 100 %" in done.message
    live = world.stack.live()
    assert (live.active, live.tag(Color.BLUE), live.tag(Color.GREEN)) == (
        Color.BLUE,
        "1.4.2",
        "1.6.0",
    )
    assert world.stack.history == ["save staged", "set tags.green=1.6.0", "apply", "save staged"]
    assert world.stack.load("api").phase is Phase.STAGED


@pytest.mark.parametrize("tag", ["latest", "LATEST", "", "  ", None, "-rc1", "a" * 64, "1.6:0"])
def test_deploy_rejects_unpinned_or_invalid_tags(world, tag):
    done = world.deploy(tag)

    assert done.code is ExitCode.USAGE
    assert world.stack.history == []


def test_deploy_refuses_the_active_colour(world):
    done = world.deploy("1.6.0", color=Color.BLUE)

    assert done.code is ExitCode.USAGE
    assert "refusing to deploy onto the active colour blue (1.4.2)" in done.message
    assert world.stack.history == []


def test_deploy_accepts_the_idle_colour_named_explicitly(world):
    assert world.deploy("1.6.0", color=Color.GREEN).code is ExitCode.OK


def test_deploy_refuses_while_traffic_is_split(make_world):
    w = make_world(trafficSplit=10)

    done = w.deploy("1.6.0")

    assert done.code is ExitCode.USAGE
    assert "in flight (phase canary, blue -> green)" in done.message


def test_deploy_scales_a_scaled_down_idle_colour_up_and_parks_the_setting(make_world):
    w = make_world(idleReplicas=0)

    assert w.deploy("1.6.0").code is ExitCode.OK
    assert w.stack.live().idle_replicas is None
    assert w.stack.load("api").idle_replicas == 0
    assert w.deploy("1.6.1").code is ExitCode.OK  # redeploy keeps the parked value
    assert w.stack.load("api").idle_replicas == 0


def test_deploy_apply_failure_leaves_active_colour_serving(world):
    world.stack.fail_apply = lambda entry: True

    done = world.deploy("1.6.0")

    assert done.code is ExitCode.GATE_FAILED
    assert "apply failed" in done.message
    assert world.stack.live().active is Color.BLUE
