"""The whole drill against moto 5.2.5 (`mock_aws`): the boto3 adapter's real calls.

What moto emulates and is used here: Aurora create/describe (EarliestRestorableTime,
LatestRestorableTime), RestoreDBClusterToPointInTime, CreateDBInstance, tags, deletes; S3
versioning, ListObjectVersions, CopyObject of a version with tagging, delete markers, bucket
tagging; ElastiCache snapshots and CreateReplicationGroup with SnapshotName; Secrets Manager;
the Resource Groups Tagging API (cleanup's listing by tag).

What moto does NOT emulate, and where it is tested instead (tests/drill/test_drill_steps.py on
the port's in-memory fake, and the adapter's requests against botocore's Stubber in
test_drill_adapters.py):
* AWS Backup ListRecoveryPointsByBackupVault / GetRecoveryPointRestoreMetadata /
  StartRestoreJob / DescribeRestoreJob (the cross-region `--from-copy` path);
* the restorable-window check (moto restores to any time, even year 2000): the drill refuses
  before calling, tested on the fake;
* snapshot creation times (moto's snapshots have no NodeSnapshots) and a replication group's
  engine version (moto lists no member cache clusters): the cache copy's version check fails
  here, and this test asserts it is the only check that does.
S3 LastModified has one-second resolution, so the bucket tests set moto's clock
(`moto.s3.models.utcnow`) instead of sleeping.
"""

import json
from datetime import UTC, datetime

import boto3
import moto.s3.models
import pytest
from moto import mock_aws

from components.cache import DEFAULT_ENGINE_VERSION as CACHE_VERSION
from components.database.args import DEFAULT_ENGINE_VERSION as DATABASE_VERSION
from infra.drill.adapters.aws import Boto3Cloud
from infra.drill.cli import main
from infra.drill.model import ExitCode
from infra.drill.ports import Ports
from infra.drill.record import StateFile
from tests.drill.fakes import REGION, FakeClock, FakeProbes, outputs_json

STACK = "uat"


@pytest.fixture
def aws(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield tmp_path


class Drill:
    """Runs the CLI with the real boto3 adapter and an injected clock."""

    def __init__(self, tmp_path, outputs: dict, drill_id: str) -> None:
        self.clock = FakeClock(datetime.now(UTC))
        self.path = tmp_path / f"drill-{drill_id}.json"
        self.outputs = tmp_path / f"outputs-{drill_id}.json"
        self.outputs.write_text(json.dumps(outputs))
        self.drill_id = drill_id
        self.ports = Ports(cloud=Boto3Cloud(), clock=self.clock, probes=FakeProbes())

    def run(self, *argv: str) -> int:
        args = [
            *argv,
            "--state",
            str(self.path),
            "--outputs",
            str(self.outputs),
            "--drill-id",
            self.drill_id,
        ]
        return main(args, connect=lambda _: self.ports)

    def record(self):
        return StateFile(self.path).load()


def test_aurora_point_in_time_restore_instance_verify_report_cleanup(aws, capsys):
    outputs = outputs_json(replica=False, stack=STACK)
    db = outputs["database"]
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_cluster(
        DBClusterIdentifier=db["clusterIdentifier"],
        Engine="aurora-postgresql",
        EngineVersion=DATABASE_VERSION,
        MasterUsername="dbadmin",
        ManageMasterUserPassword=True,
        StorageEncrypted=True,
        KmsKeyId=outputs["kmsKeyArns"]["database"],
        BackupRetentionPeriod=7,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
        DBSubnetGroupName=outputs["dbSubnetGroupName"],
        DeletionProtection=True,
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"{db['clusterIdentifier']}-1",
        DBClusterIdentifier=db["clusterIdentifier"],
        Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
    )
    drill = Drill(aws, outputs, "m1")
    assert drill.run("restore", "database", "--to", "latest", "--poll-interval", "5") == 0
    target = "platform-uat-database-drill-m1"
    copy = rds.describe_db_clusters(DBClusterIdentifier=target)["DBClusters"][0]
    assert copy["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    assert {t["Key"]: t["Value"] for t in copy["TagList"]} == {
        "platform:drill-id": "m1",
        "platform:created-by": "drill",
    }
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=f"{target}-1")["DBInstances"]
    assert instance["DBInstanceClass"] == "db.serverless"
    assert drill.clock.slept == []  # moto answers `creating` to the call, `available` after
    assert drill.run("verify") == 0, capsys.readouterr().out
    capsys.readouterr()
    assert drill.run("report", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["restores"][0]["rtoSeconds"] == 0.0 and report["met"] is True
    assert drill.run("cleanup") == 0, capsys.readouterr().err
    left = [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]]
    assert left == [db["clusterIdentifier"]]  # the live cluster, untouched
    assert (
        drill.run("cleanup", "--also", f"rds-cluster:{db['clusterIdentifier']}@{REGION}")
        == ExitCode.USAGE
    )
    assert len(rds.describe_db_clusters()["DBClusters"]) == 1


@pytest.fixture
def s3_clock(monkeypatch):
    """Moto's S3 clock, set by the test (LastModified has one-second resolution)."""
    now = {"t": datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)}
    monkeypatch.setattr(moto.s3.models, "utcnow", lambda: now["t"])
    return now


def _versioned_bucket(outputs, s3_clock):
    s3 = boto3.client("s3", region_name=REGION)
    bucket = outputs["bucketNames"]["assets"]
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    def at(hour: int) -> None:
        s3_clock["t"] = datetime(2026, 11, 1, hour)

    at(8)
    for key in ("app/a.txt", "app/b.txt", "app/keep.txt", "other/x.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=f"{key} v1".encode())
    at(10)  # after T (09:00): overwrite, delete, create
    s3.put_object(Bucket=bucket, Key="app/a.txt", Body=b"a v2")
    s3.delete_object(Bucket=bucket, Key="app/b.txt")
    s3.put_object(Bucket=bucket, Key="app/new.txt", Body=b"born after T")
    s3.put_object(Bucket=bucket, Key="other/x.txt", Body=b"outside the prefix")
    at(11)
    return s3, bucket


def _current(s3, bucket, prefix):
    keys = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in keys}


def test_bucket_back_to_a_point_in_time_in_place(aws, s3_clock, capsys):
    outputs = outputs_json(replica=False, stack=STACK)
    s3, bucket = _versioned_bucket(outputs, s3_clock)
    before = len(s3.list_object_versions(Bucket=bucket)["Versions"])
    drill = Drill(aws, outputs, "b1")
    assert (
        drill.run(
            "restore",
            "bucket",
            "--bucket",
            "assets",
            "--to",
            "2026-11-01T09:00:00Z",
            "--prefix",
            "app/",
        )
        == 0
    )
    assert _current(s3, bucket, "app/") == {
        "app/a.txt": b"app/a.txt v1",
        "app/b.txt": b"app/b.txt v1",
        "app/keep.txt": b"app/keep.txt v1",
    }
    assert _current(s3, bucket, "other/")["other/x.txt"] == b"outside the prefix"
    listing = s3.list_object_versions(Bucket=bucket)
    assert len(listing["Versions"]) == before + 2  # a and b copied on top; nothing removed
    assert [m["Key"] for m in listing["DeleteMarkers"] if m["IsLatest"]] == ["app/new.txt"]
    assert drill.run("verify") == 0, capsys.readouterr().out
    assert drill.run("report") == 0


def test_bucket_back_to_a_point_in_time_into_a_scratch_bucket(aws, s3_clock, capsys):
    outputs = outputs_json(replica=False, stack=STACK)
    s3, bucket = _versioned_bucket(outputs, s3_clock)
    scratch = "platform-uat-drill-scratch-123456789012"
    drill = Drill(aws, outputs, "b2")
    code = drill.run(
        "restore", "bucket", "--bucket", "assets", "--to", "2026-11-01T09:00:00Z", "--into", scratch
    )
    assert code == 0
    assert _current(s3, scratch, "") == {
        "app/a.txt": b"app/a.txt v1",
        "app/b.txt": b"app/b.txt v1",
        "app/keep.txt": b"app/keep.txt v1",
        "other/x.txt": b"other/x.txt v1",
    }
    assert _current(s3, bucket, "app/")["app/a.txt"] == b"a v2"  # the live bucket is untouched
    tags = s3.get_object_tagging(Bucket=scratch, Key="app/a.txt")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags}["platform:drill-id"] == "b2"
    encryption = s3.get_bucket_encryption(Bucket=scratch)["ServerSideEncryptionConfiguration"]
    rule = encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert rule["KMSMasterKeyID"] == outputs["kmsKeyArns"]["storage"]
    assert drill.run("verify") == 0, capsys.readouterr().out
    # A key that appears in the copy after the restore makes verification fail.
    s3.put_object(Bucket=scratch, Key="app/stray.txt", Body=b"?")
    assert drill.run("verify") == ExitCode.FAILED
    assert "no object that did not exist at T" in capsys.readouterr().out
    assert drill.run("cleanup") == 0, capsys.readouterr().err
    assert scratch not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert drill.run("cleanup", "--also", f"bucket:{bucket}@{REGION}") == ExitCode.USAGE
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_cache_snapshot_to_a_new_replication_group(aws, capsys):
    outputs = outputs_json(replica=False, stack=STACK)
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="platform-uat-cache-auth", SecretString=json.dumps({"authToken": "a" * 64})
    )
    outputs["cache"]["authSecretArn"] = secret["ARN"]
    group = outputs["cache"]["replicationGroupId"]
    cache = boto3.client("elasticache", region_name=REGION)
    cache.create_replication_group(
        ReplicationGroupId=group,
        ReplicationGroupDescription="live",
        Engine="valkey",
        EngineVersion=CACHE_VERSION,
        CacheNodeType="cache.t4g.small",
        NumCacheClusters=1,
        TransitEncryptionEnabled=True,
        AtRestEncryptionEnabled=True,
        KmsKeyId=outputs["kmsKeyArns"]["cache"],
        AuthToken="a" * 64,
        SnapshotRetentionLimit=1,
    )
    cache.create_snapshot(ReplicationGroupId=group, SnapshotName="manual-drill-seed")
    drill = Drill(aws, outputs, "c1")
    assert drill.run("restore", "cache", "--snapshot", "latest") == 0
    target = "platform-uat-cache-drill-c1"
    (copy,) = cache.describe_replication_groups(ReplicationGroupId=target)["ReplicationGroups"]
    assert copy["CacheNodeType"] == "cache.t4g.small"
    assert drill.run("verify") == ExitCode.FAILED
    failed = [c for c in drill.record().checks if not c.ok]
    assert [c.name for c in failed] == [f"cache {target}: engine version"]  # moto: see docstring
    assert drill.run("cleanup") == 0, capsys.readouterr().err
    groups = cache.describe_replication_groups()["ReplicationGroups"]
    assert {g["ReplicationGroupId"]: g["Status"] for g in groups} == {
        group: "available",
        target: "deleting",
    }
    assert drill.run("cleanup") == 0  # again: a group being deleted counts as gone
