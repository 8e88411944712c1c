"""The drill's pure decisions: names, the version current at T, targets, the phase table,
the outputs parser and the state file."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from infra.drill import outputs
from infra.drill.model import (
    CACHE_MAX_GROUP_ID,
    RDS_MAX_IDENTIFIER,
    DrillError,
    Kind,
    Resource,
    carries_drill_tags,
    drill_tags,
    new_drill_id,
    parse_time,
    restored_name,
)
from infra.drill.phases import TABLE, Command, Phase, phase_of, refusal
from infra.drill.record import Check, DrillRecord, Restore, StateFile, Status, from_json, to_json
from infra.drill.targets import RPO_TARGET, RTO_TARGET, measure
from infra.drill.versions import Action, Version, plan, version_at
from tests.drill.fakes import T0, outputs_json

_VALID = re.compile(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$")


# -- names --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source, limit",
    [
        ("platform-prod-database", RDS_MAX_IDENTIFIER),
        ("platform-dev-alice-experiments-with-a-very-long-stack-name-database", RDS_MAX_IDENTIFIER),
        ("platform-prod-cache", CACHE_MAX_GROUP_ID),
        ("platform-dev-alice-long-stack-cache", CACHE_MAX_GROUP_ID),
        ("Platform--Odd_Name-", RDS_MAX_IDENTIFIER),
    ],
)
def test_restored_names_fit_the_limit_keep_the_drill_id_and_are_valid(source, limit):
    name = restored_name(source, "202611221041", limit)
    assert len(name) <= limit and name.endswith("-drill-202611221041") and _VALID.match(name)


def test_restored_name_is_source_dash_drill_dash_id_when_it_fits():
    assert restored_name("platform-prod-database", "d1", 63) == "platform-prod-database-drill-d1"
    assert (
        restored_name("platform-prod-database", "d1", 63, "-1")
        == "platform-prod-database-drill-d1-1"
    )


def test_a_source_shortened_to_a_trailing_hyphen_never_yields_a_double_hyphen():
    name = restored_name("abcdefgh-ijkl", "d1", len("abcdefgh--drill-d1"))
    assert name == "abcdefgh-drill-d1"


@pytest.mark.parametrize("drill_id", ["", "UPPER", "with-hyphen", "x" * 17])
def test_bad_drill_ids_are_refused(drill_id):
    with pytest.raises(DrillError, match="drill id"):
        restored_name("platform-prod-database", drill_id, 63)


def test_a_name_that_cannot_fit_is_refused():
    with pytest.raises(DrillError, match="cannot name"):
        restored_name("platform", "x" * 16, 20)


def test_default_drill_id_is_the_utc_minute():
    assert new_drill_id(datetime(2026, 11, 22, 10, 41, 59, tzinfo=UTC)) == "202611221041"


def test_drill_tags_mark_only_this_drill():
    tags = drill_tags("d1")
    assert carries_drill_tags(tags, "d1")
    assert not carries_drill_tags(tags, "d2")
    assert not carries_drill_tags({"platform:drill-id": "d1"}, "d1")  # created-by missing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-22T10:41:00Z", datetime(2026, 11, 22, 10, 41, tzinfo=UTC)),
        ("2026-11-22 10:41", datetime(2026, 11, 22, 10, 41, tzinfo=UTC)),
        ("2026-11-22T11:41:00+01:00", datetime(2026, 11, 22, 10, 41, tzinfo=UTC)),
    ],
)
def test_times_are_iso_and_naive_means_utc(text, expected):
    assert parse_time(text) == expected


def test_a_bad_time_is_a_clear_error():
    with pytest.raises(DrillError, match="ISO 8601"):
        parse_time("yesterday")


# -- versions -----------------------------------------------------------------------------------
def _v(key, vid, minutes, latest=False, marker=False):
    return Version(
        key, vid, T0 + timedelta(minutes=minutes), latest, marker, None if marker else f'"{vid}"', 1
    )


def test_version_at_is_the_newest_at_or_before_t():
    versions = [_v("k", "3", 30, True), _v("k", "2", 10), _v("k", "1", 0)]
    assert version_at(versions, T0 + timedelta(minutes=10)).version_id == "2"  # equal counts
    assert version_at(versions, T0 + timedelta(minutes=9)).version_id == "1"
    assert version_at(versions, T0 - timedelta(minutes=1)) is None


def test_plan_covers_overwrite_delete_create_unchanged_and_resurrection():
    at = T0 + timedelta(minutes=15)
    versions = [
        _v("overwritten", "o2", 20, True),
        _v("overwritten", "o1", 5),
        _v("deleted", "dm", 20, True, marker=True),
        _v("deleted", "d1", 5),
        _v("created-after", "c1", 20, True),
        _v("unchanged", "u1", 5, True),
        _v("deleted-before", "x1", 20, True),
        _v("deleted-before", "xm", 10, marker=True),
        _v("deleted-before", "x0", 1),
        _v("gone-then-and-now", "gm", 10, True, marker=True),
        _v("gone-then-and-now", "g0", 1),
    ]
    steps = {
        s.key: (s.action, s.version.version_id if s.version else None) for s in plan(versions, at)
    }
    assert steps == {
        "overwritten": (Action.COPY, "o1"),
        "deleted": (Action.COPY, "d1"),
        "created-after": (Action.DELETE, None),
        "unchanged": (Action.KEEP, "u1"),
        "deleted-before": (Action.DELETE, None),  # a delete marker was current at T
        "gone-then-and-now": (Action.ABSENT, None),
    }


# -- targets ------------------------------------------------------------------------------------
def test_rto_is_ready_minus_start_plus_verification_and_rpo_is_failure_minus_latest():
    m = measure(
        "database",
        T0,
        T0,
        T0 + timedelta(minutes=12),
        timedelta(minutes=2),
        T0 - timedelta(minutes=5),
        T0 - timedelta(hours=1),
    )
    assert (m.rto, m.rpo, m.lag) == (
        timedelta(minutes=14),
        timedelta(minutes=5),
        timedelta(minutes=55),
    )
    assert m.met


def test_targets_are_limits_inclusive_and_missing_either_fails():
    assert measure("database", T0, T0, T0 + RTO_TARGET, timedelta(0), T0 - RPO_TARGET, None).met
    assert not measure("database", T0, T0, T0 + RTO_TARGET, timedelta(seconds=1), T0, None).met
    assert not measure(
        "database", T0, T0, T0, timedelta(0), T0 - RPO_TARGET - timedelta(seconds=1), None
    ).met


def test_unverified_has_no_rto_and_the_cache_rpo_is_not_judged():
    assert not measure("bucket", T0, T0, T0, None, T0, T0).met
    cache = measure("cache", T0, T0, T0, timedelta(0), T0 - timedelta(days=1), None)
    assert cache.rpo_met is None and cache.met
    assert measure("database", T0, T0, T0, timedelta(0), None, None).rpo_met is False


# -- phases -------------------------------------------------------------------------------------
def _record(*statuses: Status, checks=None, cleaned=False) -> DrillRecord:
    restores = tuple(
        Restore(f"kind{i}", s, "src", f"t{i}", "eu-west-1", T0, "latest")
        for i, s in enumerate(statuses)
    )
    record = DrillRecord("d1", "uat", T0 if restores else None, restores)
    if checks is not None:
        record = replace(record, verify_started_at=T0, verified_at=T0, checks=(Check("c", checks),))
    return replace(record, cleaned_at=T0) if cleaned else record


RECORDS = {
    Phase.NEW: _record(),
    Phase.RESTORING: _record(Status.READY, Status.REQUESTED),
    Phase.RESTORED: _record(Status.READY),
    Phase.RESTORE_FAILED: _record(Status.READY, Status.TIMED_OUT),
    Phase.VERIFIED: _record(Status.READY, checks=True),
    Phase.VERIFY_FAILED: _record(Status.READY, checks=False),
    Phase.CLEANED: _record(Status.READY, checks=True, cleaned=True),
}
ALLOWED = {
    Phase.NEW: {Command.RESTORE, Command.CLEANUP},
    Phase.RESTORING: {Command.REPORT, Command.CLEANUP},
    Phase.RESTORED: {Command.RESTORE, Command.VERIFY, Command.REPORT, Command.CLEANUP},
    Phase.RESTORE_FAILED: {Command.REPORT, Command.CLEANUP},
    Phase.VERIFIED: {Command.VERIFY, Command.REPORT, Command.CLEANUP},
    Phase.VERIFY_FAILED: {Command.VERIFY, Command.REPORT, Command.CLEANUP},
    Phase.CLEANED: {Command.REPORT, Command.CLEANUP},
}


def test_the_table_has_every_cell():
    assert set(TABLE) == {(p, c) for p in Phase for c in Command}


@pytest.mark.parametrize("phase", list(Phase))
def test_each_phase_is_derived_from_its_record(phase):
    assert phase_of(RECORDS[phase]) is phase


@pytest.mark.parametrize("phase, command", [(p, c) for p in Phase for c in Command])
def test_phase_by_command(phase, command):
    reason = refusal(RECORDS[phase], command)
    if command in ALLOWED[phase]:
        assert reason is None
    else:
        assert reason and f"{command} refused in phase {phase}" in reason


def test_no_record_is_a_new_drill():
    assert phase_of(None) is Phase.NEW and refusal(None, Command.VERIFY)


# -- outputs ------------------------------------------------------------------------------------
def test_outputs_parse_the_realistic_json():
    parsed = outputs.parse(outputs_json())
    assert parsed.database.cluster_identifier == "platform-prod-database"
    assert parsed.database.subnet_group_name == "platform-prod-data"
    assert parsed.cache.kms_key_arn.endswith("key/cache-key")
    assert parsed.replica and parsed.replica.region == "eu-central-1"
    assert outputs.parse(outputs_json(replica=False)).replica is None


@pytest.mark.parametrize(
    "path, message",
    [
        (("database", "clusterIdentifier"), "stack output database.clusterIdentifier is missing"),
        (("cache", "securityGroupId"), "stack output cache.securityGroupId is missing"),
        (("kmsKeyArns", "storage"), "stack output kmsKeyArns.storage is missing"),
        (
            ("replica", "database", "kmsKeyArn"),
            "stack output replica.database.kmsKeyArn is missing",
        ),
        (("dbSubnetGroupName",), "stack output dbSubnetGroupName is missing"),
    ],
)
def test_a_missing_output_is_named(path, message):
    data = outputs_json()
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    with pytest.raises(DrillError, match=re.escape(message)):
        outputs.parse(data)


def test_a_wrongly_typed_output_is_named():
    data = outputs_json()
    data["database"]["securityGroupId"] = ["sg-1"]
    with pytest.raises(
        DrillError, match=re.escape("database.securityGroupId must be a non-empty string")
    ):
        outputs.parse(data)


# -- state file ---------------------------------------------------------------------------------
def test_the_record_survives_the_file(tmp_path):
    restore = Restore(
        "database",
        Status.READY,
        "src",
        "dst",
        "eu-west-1",
        T0,
        "latest",
        ready_at=T0,
        restore_point=T0,
        latest_restorable=T0,
        created=(Resource(Kind.RDS_CLUSTER, "eu-west-1", "dst"),),
        expected={"engine": "aurora-postgresql"},
        events={"b": "2", "a": "1"},
    )
    record = DrillRecord(
        "d1", "uat", T0, (restore,), T0, T0, (Check("c", True, "d"),), None, ("x",)
    )
    state = StateFile(tmp_path / "sub" / "drill-d1.json")
    state.save(record)
    assert state.load() == record
    assert list(state.load().restores[0].events) == ["b", "a"]  # the order they happened
    assert from_json(to_json(record)) == record


def test_a_broken_state_file_is_a_usage_error(tmp_path):
    path = tmp_path / "drill.json"
    path.write_text('{"schema": 99}')
    with pytest.raises(DrillError, match="unreadable drill state"):
        StateFile(path).load()
