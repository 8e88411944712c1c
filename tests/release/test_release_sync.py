"""The live stack is the release state: a deploy of main, or a release from a fresh checkout,
takes the colours, tags and splits from the stack's outputs, never from an older stack file."""

import copy

import pytest

from infra.release.cli import main, sync_live_fields
from infra.release.model import Color, find_service
from infra.release.sync import RELEASE_FIELDS, Drift, live_fields, reconcile

LIVE = {
    "api": {
        "activeColor": "green",
        "tags": {"blue": "1.4.2", "green": "1.6.0"},
        "trafficSplit": None,
        "idleReplicas": 0,
    }
}


def entry(**overrides):
    base = {
        "name": "api",
        "image": "repo/api",
        "tags": {"blue": "1.4.2", "green": "1.6.0"},
        "activeColor": "green",
        "idleReplicas": 0,
        "allowPlainHttp": True,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("file_entry", "expected"),
    [
        # The file caught up: nothing to do.
        (entry(), []),
        # An older file (the release's pull request not merged yet): each field wins back.
        (entry(activeColor="blue"), [("activeColor", "blue", "green")]),
        (entry(tags={"blue": "1.4.2", "green": "1.5.0"}), [("tags.green", "1.5.0", "1.6.0")]),
        (entry(trafficSplit=10), [("trafficSplit", 10, None)]),
        (entry(idleReplicas=None), [("idleReplicas", None, 0)]),
        (
            entry(activeColor="blue", tags={"blue": "1.4.2", "green": "1.5.0"}, trafficSplit=50),
            [
                ("activeColor", "blue", "green"),
                ("tags.green", "1.5.0", "1.6.0"),
                ("trafficSplit", 50, None),
            ],
        ),
        # A tag YAML read as a number is a drift too: the live text goes back as text.
        (entry(tags={"blue": 1.42, "green": "1.6.0"}), [("tags.blue", 1.42, "1.4.2")]),
    ],
    ids=["in-step", "colour", "tag", "split", "idle", "several", "number-for-text"],
)
def test_reconcile_names_every_field_the_file_lags_behind(file_entry, expected):
    drifts = reconcile([{"name": "web"}, file_entry], LIVE)

    assert [(d.field, d.file_value, d.live_value) for d in drifts] == expected
    assert all((d.service, d.index) == ("api", 1) for d in drifts)


def test_a_service_the_stack_never_deployed_keeps_the_files_values():
    assert reconcile([entry(name="new", activeColor="blue")], LIVE) == []


def test_the_release_fields_are_exactly_what_the_tool_writes():
    assert RELEASE_FIELDS == (
        "activeColor",
        "tags.blue",
        "tags.green",
        "trafficSplit",
        "idleReplicas",
    )
    assert set(live_fields({"api": {"activeColor": "blue", "roleArn": "x"}})["api"]) == {
        "activeColor",
        "tags",
        "trafficSplit",
        "idleReplicas",
    }


def test_a_drift_says_which_value_wins_and_why():
    line = Drift("api", 0, "tags.green", "1.5.0", "1.6.0").describe()
    assert "platform:services[0].tags.green (api)" in line
    assert "'1.5.0'" in line and "'1.6.0'" in line and "keeping the live value" in line


def test_a_release_survives_the_next_deploy_of_an_older_stack_file(world, staged):
    """Promote green; the release's pull request is not merged; main (blue) deploys again."""
    assert staged.promote().code.name == "OK"
    promoted = copy.deepcopy(staged.stack.applied)
    checkout_of_main = copy.deepcopy(promoted)
    checkout_of_main[0]["activeColor"] = "blue"
    checkout_of_main[0]["tags"]["green"] = "1.5.0"
    staged.stack.services = checkout_of_main

    drifts = sync_live_fields(staged.stack)

    assert {d.field for d in drifts} == {"activeColor", "tags.green"}
    assert staged.stack.services == promoted  # what `pulumi up` of the deploy will apply
    assert find_service(staged.stack.services, "api").active is Color.GREEN


def test_every_release_command_starts_from_the_live_stack(staged, capsys):
    """A rollback from a fresh checkout (older file) still rolls back what runs."""
    assert staged.promote().code.name == "OK"
    staged.stack.services[0]["activeColor"] = "blue"  # the older file says blue

    code = main(["status", "--stack", "dev", "--service", "api"], connect=lambda a: staged.ports)

    assert code == 0
    assert "100 % green" in capsys.readouterr().out


def test_the_sync_command_writes_the_live_fields_and_exits_0(staged, capsys):
    assert staged.promote().code.name == "OK"
    staged.stack.services[0]["activeColor"] = "blue"

    assert main(["sync", "--stack", "dev"], connect=lambda a: staged.ports) == 0

    assert staged.stack.services[0]["activeColor"] == "green"
    assert "1 field(s) taken from the live stack" in capsys.readouterr().out
