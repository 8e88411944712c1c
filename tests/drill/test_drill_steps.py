"""The drill's steps end to end through the CLI, on the in-memory fakes (tests/drill/fakes.py).

These cover what moto does not emulate: AWS Backup (recovery points, restore jobs), the
restorable-window refusal (moto restores to any time), restore timeouts, snapshot creation
times and the cache engine version (moto reports neither). tests/drill/test_drill_moto.py
runs the same commands against moto where it does emulate the calls.
"""

import json
from datetime import timedelta

import pytest

from components.cache import DEFAULT_ENGINE_VERSION as CACHE_VERSION
from infra.drill.cli import main
from infra.drill.model import ExitCode, Kind, Resource
from infra.drill.ports import CacheSnapshot, RecoveryPoint
from infra.drill.record import StateFile, Status
from infra.drill.versions import Version
from tests.drill.fakes import (
    OUTPUTS,
    REGION,
    REPLICA,
    T0,
    FakeClock,
    FakeCloud,
    FakeProbes,
    outputs_json,
    ports,
)

DRILL = "d1"
TARGET = "platform-prod-database-drill-d1"


@pytest.fixture
def world(tmp_path):
    cloud, clock, probes = FakeCloud(), FakeClock(), FakeProbes()
    cloud.add_source_cluster()
    cloud.add_source_cache()
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(outputs_json()))
    state = tmp_path / f"drill-{DRILL}.json"

    class World:
        def __init__(self):
            self.cloud, self.clock, self.probes, self.state = cloud, clock, probes, state

        def run(self, *argv: str) -> int:
            command = [*argv, "--state", str(state), "--outputs", str(outputs), "--drill-id", DRILL]
            return main(command, connect=lambda args: ports(cloud, clock, probes))

        def record(self):
            return StateFile(state).load()

    return World()


def test_point_in_time_restore_verify_report_cleanup(world, capsys):
    point = (T0 - timedelta(hours=1)).isoformat()
    assert world.run("restore", "database", "--to", point, "--poll-interval", "10") == 0
    restore = world.record().restores[0]
    assert (restore.target, restore.status, restore.restore_point.isoformat()) == (
        TARGET,
        Status.READY,
        point,
    )
    assert world.cloud.last_restore.kms_key_id == OUTPUTS.database.kms_key_arn
    assert world.cloud.last_restore.security_group_ids == (OUTPUTS.database.security_group_id,)
    # Serverless v2 source: a db.serverless instance, the scaling configuration copied.
    assert world.cloud.last_instance.instance_class == "db.serverless"
    assert world.cloud.last_restore.serverless_v2 == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    assert list(restore.events) == [
        "restore requested",
        "cluster available",
        "instance requested",
        "instance available",
    ]
    assert "restore point: " + point.replace("+00:00", "Z") in capsys.readouterr().out
    assert world.run("verify", "--sql-probe", "psql -c 'select 1'") == 0
    (_, argv, env, _) = world.probes.ran[0]
    assert argv == ("psql", "-c", "select 1") and env["DRILL_DB_ENDPOINT"] == f"{TARGET}.example"
    capsys.readouterr()
    assert world.run("report", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    (row,) = report["restores"]
    # 2 polls of 10 s for the cluster, 2 for the instance; the source's LRT was 5 min old.
    assert (row["rtoSeconds"], row["rpoSeconds"], row["lagSeconds"]) == (40.0, 300.0, 3300.0)
    assert report["met"] is True and report["verified"] is True
    assert world.run("cleanup") == 0
    assert (REGION, TARGET) not in world.cloud.clusters
    assert world.cloud.instances == {}
    assert world.record().cleaned_at is not None
    assert world.run("verify") == ExitCode.USAGE  # the drill is closed


def test_a_provisioned_source_gives_the_writers_class_and_no_scaling(world):
    world.cloud.add_source_cluster(serverless=False)
    assert world.run("restore", "database", "--to", "latest") == 0
    assert world.cloud.last_instance.instance_class == "db.r7g.large"
    assert world.cloud.last_restore.serverless_v2 is None
    assert world.cloud.last_restore.restore_to == T0 - timedelta(minutes=5)  # the LRT, explicitly


def test_a_time_before_the_earliest_restorable_time_is_refused_before_anything_is_created(
    world, capsys
):
    early = (T0 - timedelta(days=8)).isoformat()
    assert world.run("restore", "database", "--to", early) == ExitCode.USAGE
    assert "before platform-prod-database's earliest restorable time" in capsys.readouterr().err
    assert not world.cloud.created_anything()
    assert world.record() is None  # nothing to clean up either


def test_a_time_after_the_latest_restorable_time_is_refused(world, capsys):
    assert world.run("restore", "database", "--to", T0.isoformat()) == ExitCode.USAGE
    assert "after" in capsys.readouterr().err and not world.cloud.created_anything()


def _copy(cloud, status="COMPLETED", hours=20):
    point = RecoveryPoint(
        f"arn:rp:{hours}", OUTPUTS.database.cluster_arn, status, T0 - timedelta(hours=hours)
    )
    cloud.recovery.setdefault((REPLICA, OUTPUTS.replica.backup_vault_name), []).append(point)
    return point


def test_the_newest_cross_region_copy_is_restored_in_the_replica_region(world, capsys):
    _copy(world.cloud, hours=30)
    newest = _copy(world.cloud, hours=20)
    _copy(world.cloud, status="PARTIAL", hours=1)  # not a usable copy
    assert world.run("restore", "database", "--from-copy") == 0
    (_, request, point) = world.cloud.jobs["job-1"]
    assert point == newest
    assert (request.kms_key_id, request.subnet_group_name, request.security_group_ids) == (
        OUTPUTS.replica.kms_key_arn,
        OUTPUTS.replica.subnet_group_name,
        (OUTPUTS.replica.security_group_id,),
    )
    assert (
        world.cloud.clusters[(REPLICA, TARGET)].tags["platform:drill-id"] == DRILL
    )  # tagged after
    assert world.run("verify") == 0
    capsys.readouterr()
    # A daily copy cannot meet a 1 h RPO: the report says so and exits non-zero.
    assert world.run("report") == ExitCode.TARGET_MISSED
    assert "| MISSED |" in capsys.readouterr().out
    assert world.run("cleanup") == 0 and (REPLICA, TARGET) not in world.cloud.clusters


def test_a_missing_cross_region_copy_is_refused(world, capsys):
    _copy(world.cloud, status="PARTIAL")
    assert world.run("restore", "database", "--from-copy") == ExitCode.USAGE
    assert "the cross-region copy is missing" in capsys.readouterr().err
    assert not world.cloud.created_anything()


def test_a_failed_restore_job_is_recorded(world, capsys):
    _copy(world.cloud)
    world.cloud.job_outcome = "FAILED"
    assert world.run("restore", "database", "--from-copy") == ExitCode.FAILED
    assert "FAILED: boom" in capsys.readouterr().err
    assert world.record().restores[0].status is Status.FAILED


def test_a_restore_that_times_out_is_recorded_and_cleanup_removes_it(world, capsys):
    world.cloud.polls_until_ready = None  # never available
    code = world.run(
        "restore", "database", "--to", "latest", "--timeout", "60", "--poll-interval", "25"
    )
    assert code == ExitCode.FAILED
    err = capsys.readouterr().err
    assert f"cluster {TARGET} not available in time" in err and "Run `cleanup`" in err
    assert world.clock.slept == [25, 25, 10]  # bounded: never past the deadline
    restore = world.record().restores[0]
    assert restore.status is Status.TIMED_OUT
    assert restore.created == (Resource(Kind.RDS_CLUSTER, REGION, TARGET),)
    assert world.run("verify") == ExitCode.USAGE  # restore-failed: nothing to verify
    assert world.run("report") == ExitCode.TARGET_MISSED
    assert world.run("cleanup") == 0
    assert (REGION, TARGET) not in world.cloud.clusters


def test_cleanup_refuses_what_the_drill_did_not_create_even_when_named(world, capsys):
    assert world.run("restore", "database", "--to", "latest") == 0
    live = f"rds-cluster:{OUTPUTS.database.cluster_identifier}@{REGION}"
    assert world.run("cleanup", "--also", live) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "REFUSED" in err and OUTPUTS.database.cluster_identifier in err
    assert (REGION, OUTPUTS.database.cluster_identifier) in world.cloud.clusters  # untouched
    assert (REGION, TARGET) not in world.cloud.clusters  # the drill's own copy is gone
    live_resource = Resource(Kind.RDS_CLUSTER, REGION, OUTPUTS.database.cluster_identifier)
    assert f"delete {live_resource}" not in world.cloud.calls


def test_cleanup_refuses_a_resource_tagged_by_another_drill(world):
    other = Resource(Kind.CACHE_GROUP, REGION, "platform-prod-cache-drill-d2")
    world.cloud.groups[(REGION, other.identifier)] = world.cloud.groups[
        (REGION, OUTPUTS.cache.replication_group_id)
    ]
    world.cloud.resource_tags[other] = {"platform:drill-id": "d2", "platform:created-by": "drill"}
    assert (
        world.run("cleanup", "--also", f"cache-group:{other.identifier}@{REGION}") == ExitCode.USAGE
    )
    assert (REGION, other.identifier) in world.cloud.groups


def test_a_missed_target_exits_non_zero(world, capsys):
    world.cloud.polls_until_ready = 20  # 20 polls of 30 s for the cluster alone: 10 minutes
    assert world.run("restore", "database", "--to", "latest") == 0
    assert world.run("verify") == 0
    capsys.readouterr()
    assert world.run("report", "--json") == ExitCode.TARGET_MISSED
    row = json.loads(capsys.readouterr().out)["restores"][0]
    assert (row["rtoSeconds"], row["rtoMet"], row["rpoMet"]) == (1200.0, False, True)


def test_a_failed_verification_is_a_missed_target(world):
    assert world.run("restore", "database", "--to", "latest") == 0
    world.probes.ok = False
    assert world.run("verify", "--http-probe", "https://app.example/healthz") == ExitCode.FAILED
    assert world.run("report") == ExitCode.TARGET_MISSED
    assert world.run("restore", "cache") == ExitCode.USAGE  # verification ran: drill closed


def test_cache_restore_from_the_newest_snapshot(world, capsys):
    group = OUTPUTS.cache.replication_group_id
    world.cloud.snapshots[group] = [
        CacheSnapshot(
            "automatic.old",
            "available",
            "automated",
            CACHE_VERSION,
            "cache.t4g.small",
            T0 - timedelta(days=1),
        ),
        CacheSnapshot(
            "manual-new",
            "available",
            "manual",
            CACHE_VERSION,
            "cache.t4g.small",
            T0 - timedelta(hours=2),
        ),
        CacheSnapshot("creating", "creating", "manual", CACHE_VERSION, "cache.t4g.small", T0),
    ]
    assert world.run("restore", "cache", "--snapshot", "latest") == 0
    request = world.cloud.last_cache
    assert (request.group_id, request.snapshot_name, request.auth_token) == (
        "platform-prod-cache-drill-d1",
        "manual-new",
        "t" * 64,
    )
    assert (request.node_type, request.engine_version, request.kms_key_id) == (
        "cache.t4g.small",
        CACHE_VERSION,
        OUTPUTS.cache.kms_key_arn,
    )
    assert world.run("verify") == 0
    capsys.readouterr()
    assert world.run("report", "--json") == 0  # the cache's 2 h RPO is shown, not judged
    row = json.loads(capsys.readouterr().out)["restores"][0]
    assert (row["rpoSeconds"], row["rpoMet"]) == (7200.0, None)


def test_a_second_restore_of_the_same_kind_is_refused(world, capsys):
    assert world.run("restore", "database", "--to", "latest") == 0
    assert world.run("restore", "database", "--to", "latest") == ExitCode.USAGE
    assert "already has a database restore" in capsys.readouterr().err


def test_bucket_restore_in_place_never_deletes_a_version(world):
    bucket = OUTPUTS.buckets["assets"]
    at = T0 - timedelta(hours=1)
    world.cloud.buckets[bucket] = [
        Version("a.txt", "a2", T0 - timedelta(minutes=10), True, etag='"a2"'),  # overwritten
        Version("a.txt", "a1", at - timedelta(hours=1), False, etag='"a1"'),
        Version("b.txt", "bd", T0 - timedelta(minutes=5), True, delete_marker=True),  # deleted
        Version("b.txt", "b1", at - timedelta(hours=1), False, etag='"b1"'),
        Version("c.txt", "c1", T0 - timedelta(minutes=1), True, etag='"c1"'),  # created after
        Version("d.txt", "d1", at - timedelta(hours=1), True, etag='"d1"'),  # unchanged
    ]
    assert world.run("restore", "bucket", "--bucket", "assets", "--to", at.isoformat()) == 0
    calls = world.cloud.calls
    assert calls == [
        f"copy {bucket}/a.txt@a1 -> {bucket}",
        f"copy {bucket}/b.txt@b1 -> {bucket}",
        f"delete_marker {bucket}/c.txt",
    ]
    assert world.run("verify") == 0
    assert world.run("cleanup") == 0
    assert bucket in world.cloud.buckets  # in place: the restored bucket is the live one
