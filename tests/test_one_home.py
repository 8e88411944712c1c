"""Each fact has one home: settings defaults are the components' defaults, rules are shared.

These fail when someone re-types a default or a rule in a second place (the drift this
project once had: node disk 40 vs 50 GiB, MSK storage target 70 vs 60 %, Aurora max ACU 2 vs
4, three vs four MSK monitoring levels).
"""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest
from pydantic_core import PydanticUndefined

from components import streaming
from components.bluegreen.args import BlueGreenServiceArgs, ContainerResources
from components.cache import CacheArgs
from components.cluster.args import ClusterArgs, NodeGroupSpec
from components.database.args import DatabaseArgs
from components.storage import BucketsArgs
from components.streaming import StreamingArgs
from components.topics import TopicSpec
from infra.config import cluster, data_stores, fields, foundation, services
from infra.config.model import Settings
from infra.config.profiles import PROFILES

ROOT = Path(__file__).resolve().parent.parent

# settings model -> the Args class its values become, and fields named differently there.
MAPPED = {
    cluster.NodeGroupSettings: (NodeGroupSpec, {}),
    cluster.ClusterSettings: (ClusterArgs, {"version": "kubernetes_version"}),
    data_stores.DatabaseSettings: (DatabaseArgs, {}),
    data_stores.CacheSettings: (CacheArgs, {}),
    data_stores.StreamingSettings: (StreamingArgs, {"broker_instance_type": "instance_type"}),
    foundation.StorageSettings: (BucketsArgs, {}),
    services.ServiceSettings: (BlueGreenServiceArgs, {"name": "service_name"}),
    services.ServiceResources: (ContainerResources, {}),
    services.TopicSettings: (TopicSpec, {}),
}


def _settings_default(model, name):
    field = model.model_fields[name]
    if field.default_factory is not None:
        return field.default_factory()
    return None if field.default is PydanticUndefined else field.default


def _args_default(args_class, name):
    field = args_class.__dataclass_fields__[name]
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None if field.default is dataclasses.MISSING else field.default


PAIRS = [
    (model, name, args_class, renames.get(name, name))
    for model, (args_class, renames) in MAPPED.items()
    for name, field in model.model_fields.items()
    if not field.is_required()
    and _settings_default(model, name) is not None
    and renames.get(name, name) in args_class.__dataclass_fields__
    and _args_default(args_class, renames.get(name, name)) is not None
]


@pytest.mark.parametrize(
    ("model", "name", "args_class", "args_name"),
    PAIRS,
    ids=[f"{m.__name__}.{n}" for m, n, _, _ in PAIRS],
)
def test_every_settings_default_is_the_components_own_default(model, name, args_class, args_name):
    assert _plain(_settings_default(model, name)) == _plain(_args_default(args_class, args_name))


def _plain(value):
    """Compare values, not containers: [] == (), a settings model == its dataclass."""
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return list(value)
    return value


def test_the_defaults_that_once_drifted_are_one_value_each():
    assert cluster.NodeGroupSettings.model_fields["disk_size_gib"].default == 40
    assert NodeGroupSpec(name="x", instance_types=["t3.large"]).disk_size_gib == 40
    assert data_stores.StreamingSettings.model_fields["storage_target_utilization"].default == 70
    assert StreamingArgs.__dataclass_fields__["storage_target_utilization"].default == 70
    # Aurora capacity differs by environment: the profile names it, settings has no default.
    assert data_stores.DatabaseSettings.model_fields["max_capacity"].default is None
    levels = typing.get_args(
        data_stores.StreamingSettings.model_fields["enhanced_monitoring"].annotation
    )
    assert set(levels) == set(streaming.MONITORING_LEVELS)


def _flatten(node, prefix=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix, node


def test_values_that_differ_by_environment_have_no_settings_default():
    """A default in settings would silently stand in for a profile that forgot the key."""
    flat = {env: dict(_flatten(profile)) for env, profile in PROFILES.items()}
    keys = set().union(*flat.values())
    varying = {k for k in keys if len({repr(f.get(k)) for f in flat.values()}) > 1}
    assert "cluster.nodeGroups.system.minSize" in varying
    assert "cluster.nodeAutoscaler" in varying
    for key in sorted(varying):
        model, field = _field_of(key)
        if model is None:
            continue  # inside a user-named map entry (node groups): checked per group model
        assert _settings_default(model, field) in (None, False), (key, field)


def _field_of(key: str):
    model = Settings
    parts = key.split(".")
    for index, part in enumerate(parts):
        match = next(((n, f) for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if match is None:
            return None, None
        name, field = match
        if index == len(parts) - 1:
            return model, name
        inner = [a for a in typing.get_args(field.annotation) or (field.annotation,)]
        nested = [a for a in inner if isinstance(a, type) and issubclass(a, fields.ConfigModel)]
        if not nested:
            return None, None
        model = nested[0]
    return None, None


def test_settings_names_no_literal_range_or_pattern_of_its_own():
    """Rules come from the components: settings has no regex and no numeric bound literals
    besides the generic ones (0, 1, 100 percent, 65535 ports)."""
    sections = sorted((ROOT / "infra" / "config").glob("*.py"))
    assert len(sections) > 5
    trees = [ast.parse(path.read_text()) for path in sections if path.stem != "profiles"]
    patterns = [
        node
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("compile", "fullmatch")
    ]
    assert patterns == []
    bounds = {
        kw.value.value
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Field"
        for kw in node.keywords
        if kw.arg in ("ge", "le", "gt", "lt") and isinstance(kw.value, ast.Constant)
    }
    assert bounds <= {0, 1, 100, 65535}, bounds


def test_data_stores_share_one_placement_skeleton():
    """Placement and encryption fields are documented and checked once (`StorePlacement`);
    each store's Args keeps only what is its own."""
    from components.data_store import StorePlacement

    shared = set(StorePlacement.__annotations__)
    assert shared == {
        "name_prefix",
        "vpc_id",
        "allowed_security_group_ids",
        "kms_key_arn",
        "logs_kms_key_arn",
        "log_retention_days",
        "protect",
    }
    for args_class in (DatabaseArgs, CacheArgs, StreamingArgs):
        assert issubclass(args_class, StorePlacement), args_class
        assert shared.isdisjoint(args_class.__annotations__), args_class


def _calls(path: Path, dotted: str) -> int:
    tree = ast.parse(path.read_text())
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == dotted
    )


def test_log_groups_and_store_security_groups_are_built_in_one_place_each():
    """Every KMS-encrypted log group goes through `encrypted_log_group`, every data-store
    security group through `store_security_group`."""
    sources = [p for p in (ROOT / "components").rglob("*.py")]
    log_groups = {p.name: _calls(p, "aws.cloudwatch.LogGroup") for p in sources}
    assert {name for name, n in log_groups.items() if n} == {"logs.py"}
    store_dirs = ("database", "cache.py", "streaming.py")
    groups = {
        str(p.relative_to(ROOT)): _calls(p, "aws.ec2.SecurityGroup")
        for p in sources
        if any(part in store_dirs for part in p.relative_to(ROOT / "components").parts)
    }
    assert not any(groups.values()), groups
