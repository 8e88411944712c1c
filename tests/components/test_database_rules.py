"""Aurora PostgreSQL's class x engine-version rule, against AWS's table."""

from __future__ import annotations

import pytest

from components.database.args import (
    CLASS_MINIMUM_MINOR,
    ENGINE_VERSIONS,
    INSTANCE_FAMILIES,
    class_version_problems,
    engine_major,
)


# Aurora PostgreSQL per class family (AWS's "Supported DB engines for DB instance classes"):
# the lowest minor of each major it runs; below it, or a major it lacks, is refused.
def _class_versions() -> list[tuple[str, str, bool]]:
    return [
    ("db.r8g.large", "16.3", True), ("db.r8g.large", "16.2", False),
    ("db.r7i.large", "16.2", False), ("db.r7i.large", "16.3", True),
    ("db.r7g.large", "16.1", True), ("db.r6g.large", "17.4", True),
    ("db.r6g.large", "17.3", False), ("db.t4g.medium", "17.5", True),
    ("db.r5.large", "16.1", True), ("db.x2g.large", "15.9", False),
]  # fmt: skip


@pytest.mark.parametrize("instance_class,version,runs", _class_versions())
def test_a_class_runs_the_versions_aws_lists_for_its_family(instance_class, version, runs):
    problems = class_version_problems(instance_class, version)
    assert (problems == []) == runs, problems
    if not runs:
        assert problems[0].startswith(f"{instance_class} runs ")
        assert problems[0].endswith(f", not {version}; choose another class or engine version")


def test_the_refusal_says_what_the_class_runs():
    assert class_version_problems("db.r8g.large", "16.2") == [
        "db.r8g.large runs Aurora PostgreSQL 16 from 16.3 only, not 16.2; choose another class "
        "or engine version"
    ]
    assert class_version_problems("db.x2g.large", "15.9") == [
        "db.x2g.large runs no Aurora PostgreSQL 15.x version, not 15.9; choose another class or "
        "engine version"
    ]


@pytest.mark.parametrize(
    "instance_class,version",
    [("db.m5.large", "16.1"), ("db.r8g", "16.2"), ("r8g.large", "16.2"), ("db.r8g.large", "16"),
     ("db.r8g.large", "16.x")],
)  # fmt: skip
def test_what_the_table_cannot_judge_is_left_to_the_other_rules(instance_class, version):
    assert class_version_problems(instance_class, version) == []


def test_every_offered_family_has_its_version_row():
    assert set(INSTANCE_FAMILIES) == set(CLASS_MINIMUM_MINOR)
    for family, rows in CLASS_MINIMUM_MINOR.items():
        assert {engine_major(v) for v in ENGINE_VERSIONS} <= set(rows), family
