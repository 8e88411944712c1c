"""prod's floors (infra/config/floors.py), driven by the floor table itself.

For every numeric floor a prod config one step below it is refused naming that key and one
step above it is accepted; for every switch each other value is refused. The steps come from
the floor and the field (the neighbouring CloudWatch retention where only those are allowed),
so a floor added to `FLOORS` is tested the day it is added; `FLOOR_VALUES` is the table's exact
content written out, so a floor dropped, renamed or lowered fails too.

Two layers: `floor_problems` alone on the prod profile (the exact line each floor writes), and
the real settings loader on a prod stack's config (the floor is applied whatever other rule a
value also meets, `SettingsError` names the key).
"""

from __future__ import annotations

import copy
import json
import re
import typing
from typing import Any, Literal

import pytest

from components.logs import LOG_RETENTION_DAYS
from infra.config import SettingsError, floors
from infra.config.fields import RetentionDays
from infra.config.floors import FLOORS, Floor, _values, floor_problems
from infra.config.load import load_settings
from infra.config.model import Settings
from infra.config.profiles import PROFILES
from tests.helpers import minimum

# The table's exact content: a floor dropped, renamed or lowered (also through the prod
# profile it reads its number from) fails here; raising one is a deliberate edit of this line.
FLOOR_VALUES: dict[str, Any] = {
    "protect": True,
    "network.azCount": 3,
    "network.natGateways": "perAz",
    "network.flowLogRetentionDays": 365,
    "keys.deletionWindowDays": 30,
    "storage.replication": True,
    "storage.noncurrentVersionExpiryDays": 90,
    "storage.accessLogExpiryDays": 365,
    "cluster.endpointPublicAccess": False,
    "cluster.logRetentionDays": 90,
    "cluster.nodeGroups.*.capacityType": "ON_DEMAND",
    "cluster.nodePools.*.capacityTypes": ["on-demand"],
    "cluster.nodeAutoscaler": "karpenter",
    "database.mode": "provisioned",
    "database.readerCount": 1,
    "database.backupRetentionDays": 30,
    "database.crossRegionBackup": True,
    "database.logRetentionDays": 90,
    "cache.multiAz": True,
    "cache.numCacheClusters": 2,
    "cache.snapshotRetentionDays": 7,
    "cache.finalSnapshot": True,
    "cache.logRetentionDays": 90,
    "streaming.zoneCount": 3,
    "streaming.brokerCount": 3,
    "streaming.logRetentionDays": 90,
    "app.replicas": 3,
    "app.autoscaling": True,
    "app.deployBranches": ["main"],
    "app.zoneSpreadStrict": True,
    "cluster.controllerReplicas": 2,
    "observability.level": "full",
    "observability.prometheusRetention": "30d",
    "observability.prometheusStorageGib": 50,
    "observability.elasticsearchStorageGib": 100,
    "observability.logRetentionDays": 30,
    "observability.traceRetentionDays": 7,
}
NUMERIC = [f for f in FLOORS if f.op == ">="]
SWITCHES = [f for f in FLOORS if f.op == "=="]

# Where a step alone cannot be seen by the floor, because another rule refuses the value first
# (a section's own rule runs before the cross-section floors): the companion keys that make
# the stepped value otherwise valid. Each is asserted to be needed (below).
COMPANIONS: dict[str, dict[str, Any]] = {
    # multiAz needs two nodes: with one node, multiAz must be off for the value to reach the floor
    "cache.numCacheClusters": {"cache.multiAz": False},
    # MSK puts the same number of brokers in every zone
    "streaming.zoneCount": {"streaming.brokerCount": 4},
    "streaming.brokerCount": {"streaming.zoneCount": 2},
}
# The same for a switch's other value: what that value needs to be otherwise valid.
SWITCH_COMPANIONS: dict[str, dict[str, Any]] = {
    "cluster.endpointPublicAccess": {"cluster.publicAccessCidrs": ["203.0.113.0/24"]},
    "database.mode": {"database.minCapacity": 0.5, "database.maxCapacity": 4},
}
# Switches whose other value another rule refuses first, naming the switch too: prod never
# gets there (the floor line itself is asserted on floors.py alone above).
REFUSED_FIRST = {
    "cluster.nodeAutoscaler": "only with nodeAutoscaler: karpenter",  # the pools need it
}
# Floors at the field's (or the region's) maximum: no step above exists. Each is asserted to be
# refused by that bound, so raising the bound makes this list wrong and the test says so.
AT_MAXIMUM = {
    "network.azCount": "zones, but eu-west-1 has 3",  # the region's zones
    "keys.deletionWindowDays": "less than or equal to 30",  # KMS's longest window
    "streaming.zoneCount": "Input should be 2 or 3",  # MSK spans 2 or 3 zones
}
# The step above the floor where the neighbouring number is not a valid value of its own.
ABOVE = {"streaming.brokerCount": 6}  # the next multiple of the 3 zones


def _field(path: str):
    """The pydantic field behind a floor's config path (`*`: a map's entry)."""
    model: Any = Settings
    info = None
    for part in path.split("."):
        if part == "*":
            model = typing.get_args(model)[-1]  # dict[str, Model] -> Model
            continue
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        info = fields[part]
        model = info.annotation
    return info


def _is_retention(path: str) -> bool:
    return _field(path).metadata == list(typing.get_args(RetentionDays)[1:])


def steps(floor: Floor) -> tuple[Any, Any]:
    """(one step below, one step above) a numeric floor, in the field's own units/values."""
    want = floor.floor()
    if isinstance(want, str):  # a duration: "30d" -> "29d", "31d"
        number, unit = re.fullmatch(r"(\d+)([a-z]+)", want).groups()
        return f"{int(number) - 1}{unit}", f"{int(number) + 1}{unit}"
    if _is_retention(floor.path):
        allowed = sorted(LOG_RETENTION_DAYS)
        index = allowed.index(want)
        return allowed[index - 1], allowed[index + 1]
    return want - 1, ABOVE.get(floor.path, want + 1)


def other_values(floor: Floor) -> list[Any]:
    """Every value a switch could be set to other than its floor."""
    want = floor.floor()
    if isinstance(want, bool):
        return [not want]
    annotation = _field(floor.path).annotation
    if isinstance(want, list):
        (item,) = typing.get_args(annotation) or (str,)
        if typing.get_origin(item) is Literal:  # a list of choices: each other choice, and more
            others = [v for v in typing.get_args(item) if v not in want]
            return [*([v] for v in others), [*want, *others]]
        return [["develop"], [*want, "release/*"], ["*"]]
    if typing.get_origin(annotation) is Literal:
        return [v for v in typing.get_args(annotation) if v != want]
    raise AssertionError(f"{floor.path}: no other values known for {want!r}")


def _set(document: dict, path: str, value: Any) -> list[str]:
    """Set `path` (`*`: every entry) in `document`; return the config keys it set."""
    keys = []
    for key, _ in list(_values(document, path.split("."))):
        node = document
        parts = re.findall(r"[^.\[\]]+", key)
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
        keys.append(key)
    assert keys, f"{path}: not in the document"
    return keys


def _prod_profile() -> dict:
    return copy.deepcopy(PROFILES["prod"])


def test_the_floor_table_has_exactly_these_floors():
    assert {f.path: f.floor() for f in FLOORS} == FLOOR_VALUES
    assert len(FLOORS) == len(FLOOR_VALUES), "a floor listed twice"


def test_the_prod_profile_stands_on_every_floor():
    assert floor_problems("prod", _prod_profile()) == []


# -- floors.py alone: the exact line each floor writes --------------------------------------------
@pytest.mark.parametrize("floor", NUMERIC, ids=lambda f: f.path)
def test_one_step_below_a_numeric_floor_is_refused_and_one_above_is_not(floor):
    below, above = steps(floor)
    document = _prod_profile()
    (key,) = _set(document, floor.path, below)
    shown = f'"{below}"' if isinstance(below, str) else below
    want = f'"{floor.floor()}"' if isinstance(floor.floor(), str) else floor.floor()
    assert floor_problems("prod", document) == [
        f"{key}: {shown} is below prod's floor of {want}; prod may raise it, never lower it"
    ]
    _set(document, floor.path, above)
    assert floor_problems("prod", document) == []
    assert floor_problems("uat", document) == floor_problems("dev", document) == []


@pytest.mark.parametrize("floor", SWITCHES, ids=lambda f: f.path)
def test_every_other_value_of_a_switch_is_refused(floor):
    for value in other_values(floor):
        document = _prod_profile()
        keys = _set(document, floor.path, value)
        assert floor_problems("prod", document) == [
            f"{key}: {json.dumps(value)} is not allowed in prod; it must stay "
            f"{json.dumps(floor.floor())} (a safety floor of the prod profile)"
            for key in keys
        ], value


def test_a_numeric_floor_refuses_a_missing_value():
    document = _prod_profile()
    document["database"]["readerCount"] = None
    assert floor_problems("prod", document) == [
        "database.readerCount: null is below prod's floor of 1; prod may raise it, never lower it"
    ]


# -- through the settings loader: a prod stack's config --------------------------------------------
def _config(changes: dict[str, Any]) -> dict[str, Any]:
    """A prod stack's flat config with `changes` (dotted paths) on top of the minimum."""
    config = copy.deepcopy(minimum("prod"))
    for path, value in changes.items():
        section, *rest = path.split(".")
        if not rest:
            config[f"platform:{section}"] = value
            continue
        node = config.setdefault(f"platform:{section}", {})
        if "*" in rest:  # every entry of the profile's map
            entries = PROFILES["prod"][section][rest[0]]
            for name in entries:
                node.setdefault(rest[0], {}).setdefault(name, {})[rest[-1]] = value
            continue
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value
    return config


def _refusal(changes: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", _config(changes))
    return str(caught.value).splitlines()


def _line(lines: list[str], key: str, text: str) -> str | None:
    return next((line for line in lines if f"platform:{key}" in line and text in line), None)


@pytest.mark.parametrize("floor", NUMERIC, ids=lambda f: f.path)
def test_a_prod_stack_one_step_below_a_floor_is_refused_naming_the_key(floor):
    below, above = steps(floor)
    lines = _refusal({**COMPANIONS.get(floor.path, {}), floor.path: below})
    assert _line(lines, floor.path, "below prod's floor of"), lines
    if floor.path in COMPANIONS:  # without the companion another rule refuses first
        assert not _line(_refusal({floor.path: below}), floor.path, "below prod's floor of")
    if floor.path in AT_MAXIMUM:
        assert _line(_refusal({floor.path: above}), floor.path, AT_MAXIMUM[floor.path])
    else:
        load_settings("prod", _config({floor.path: above}))


@pytest.mark.parametrize("floor", SWITCHES, ids=lambda f: f.path)
def test_a_prod_stack_setting_a_switch_to_another_value_is_refused_naming_the_key(floor):
    companions = SWITCH_COMPANIONS.get(floor.path, {})
    keys = [key for key, _ in _values(PROFILES["prod"], floor.path.split("."))]
    for value in other_values(floor):
        lines = _refusal({**companions, floor.path: value})
        text = REFUSED_FIRST.get(floor.path, "is not allowed in prod")
        for key in keys:
            assert _line(lines, key, text), (key, value, lines)
        if companions:  # without them another rule refuses first
            assert not _line(_refusal({floor.path: value}), keys[0], "is not allowed in prod")
    load_settings("prod", _config({floor.path: floor.floor()}))


# The dev-only opt-outs, written out (a dropped one fails), each refused outside dev.
DEV_ONLY = {
    "storage.forceDestroy": {"storage": {"forceDestroy": True}},
    "database.skipFinalSnapshot": {"database": {"skipFinalSnapshot": True}},
    "services.*.allowPlainHttp": {"services": [{"name": "api", "allowPlainHttp": True}]},
}


def test_the_dev_only_opt_outs_are_exactly_these():
    assert set(floors.DEV_ONLY) == set(DEV_ONLY)


@pytest.mark.parametrize("path", list(DEV_ONLY))
@pytest.mark.parametrize("environment", ["uat", "prod"])
def test_a_dev_only_opt_out_is_refused_outside_dev(path, environment):
    document = copy.deepcopy(DEV_ONLY[path])
    key = path.replace(".*", "[0]")
    problems = floor_problems(environment, document)
    assert problems == [f"{key}: true is a dev-only opt-out, not for {environment}"]
    assert floor_problems("dev", document) == []
    off = json.loads(json.dumps(document).replace("true", "false"))
    assert floor_problems(environment, off) == []


def test_a_duration_floor_compares_durations_not_text():
    """ "100d" and "5w" are above "30d" (as text "100d" < "30d"); "4w1d" is below it."""
    for above in ("100d", "5w", "720h", "1y"):
        document = _prod_profile()
        document["observability"]["prometheusRetention"] = above
        assert floor_problems("prod", document) == [], above
    document = _prod_profile()
    document["observability"]["prometheusRetention"] = "4w1d"
    assert floor_problems("prod", document) == [
        'observability.prometheusRetention: "4w1d" is below prod\'s floor of "30d"; prod may '
        "raise it, never lower it"
    ]


def test_every_entry_of_a_map_is_checked_not_only_the_first():
    document = _prod_profile()
    *_, last = document["cluster"]["nodeGroups"]
    document["cluster"]["nodeGroups"][last]["capacityType"] = "SPOT"
    assert floor_problems("prod", document) == [
        f'cluster.nodeGroups.{last}.capacityType: "SPOT" is not allowed in prod; it must stay '
        '"ON_DEMAND" (a safety floor of the prod profile)'
    ]
