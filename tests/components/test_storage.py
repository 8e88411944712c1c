"""Buckets component under the mock engine."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from components.storage import Buckets, BucketsArgs, ReplicaArgs
from infra.offline.mockengine import run_program

KEY = "arn:aws:kms:eu-west-1:123456789012:key/storage"
REPLICA_KEY = "arn:aws:kms:eu-central-1:123456789012:key/storage"


def buckets(replicate=False, **overrides):
    def program():
        replica = None
        if replicate:
            second = aws.Provider("second", region="eu-central-1")
            replica = ReplicaArgs(provider=second, region="eu-central-1", kms_key_arn=REPLICA_KEY)
        fields = {"name_prefix": "platform-t", **overrides}
        Buckets("b", BucketsArgs(kms_key_arn=KEY, replica=replica, **fields))

    return run_program(program, stack="test", config={})


def test_assets_backups_and_a_log_bucket_named_from_prefix_and_account():
    rec = buckets()
    names = sorted(b.inputs["bucket"] for b in rec.of_type("aws:s3/bucket:Bucket"))
    assert names == [
        "platform-t-assets-123456789012",
        "platform-t-backups-123456789012",
        "platform-t-logs-123456789012",
    ]


def test_lifecycle_tiers_to_standard_ia_and_expires_old_versions_as_configured():
    rec = buckets(noncurrent_version_expiry_days=45, infrequent_access_after_days=60)
    lifecycle = rec.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "b-assets"
    )
    rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": 7
    }
    tiering = rules["tier-and-expire-versions"]
    assert tiering["transitions"] == [{"days": 60, "storageClass": "STANDARD_IA"}]
    assert tiering["noncurrentVersionExpiration"] == {"noncurrentDays": 45}


def test_log_bucket_admits_only_s3_log_delivery_from_this_account():
    rec = buckets()
    policy = json.loads(rec.one("aws:s3/bucketPolicy:BucketPolicy", "b-logs").inputs["policy"])
    allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow == [
        {
            "Sid": "S3ServerAccessLogsDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::platform-t-logs-123456789012/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
    data_policy = json.loads(
        rec.one("aws:s3/bucketPolicy:BucketPolicy", "b-assets").inputs["policy"]
    )
    assert all(s["Effect"] == "Deny" for s in data_policy["Statement"])


def test_tls_below_1_2_is_denied():
    rec = buckets()
    policy = json.loads(rec.one("aws:s3/bucketPolicy:BucketPolicy", "b-backups").inputs["policy"])
    tls = [s for s in policy["Statement"] if "NumericLessThan" in s.get("Condition", {})]
    assert tls[0]["Condition"]["NumericLessThan"] == {"s3:TlsVersion": "1.2"}


def test_protect_retains_every_bucket_and_force_destroy_is_opt_in():
    protected = buckets(protect=True)
    assert all(b.protect and b.retain_on_delete for b in protected.of_type("aws:s3/bucket:Bucket"))
    assert not any(b.inputs.get("forceDestroy") for b in protected.of_type("aws:s3/bucket:Bucket"))
    disposable = buckets(force_destroy=True)
    assert all(b.inputs["forceDestroy"] for b in disposable.of_type("aws:s3/bucket:Bucket"))


def test_replication_copies_each_data_bucket_to_the_second_region_with_its_key():
    rec = buckets(replicate=True)
    second = rec.one("pulumi:providers:aws", "second")
    replicas = [b for b in rec.of_type("aws:s3/bucket:Bucket") if b.provider.startswith(second.urn)]
    assert sorted(b.inputs["bucket"] for b in replicas) == [
        "platform-t-assets-replica-123456789012",
        "platform-t-backups-replica-123456789012",
        "platform-t-replica-logs-123456789012",
    ]
    configs = rec.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    destinations = sorted(c.inputs["rules"][0]["destination"]["bucket"] for c in configs)
    assert destinations == [
        "arn:aws:s3:::platform-t-assets-replica-123456789012",
        "arn:aws:s3:::platform-t-backups-replica-123456789012",
    ]
    role_policy = json.loads(
        rec.one("aws:iam/rolePolicy:RolePolicy", "b-replication").inputs["policy"]
    )
    resources = [r for s in role_policy["Statement"] for r in s["Resource"]]
    assert "*" not in resources
    assert REPLICA_KEY in resources and KEY in resources


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # 34 + "-backups-replica-" + 12 digits = 63 is the longest that fits; one more breaks S3.
        ({"name_prefix": "platform-" + "x" * 26}, "S3 allows 63"),
        ({"infrequent_access_after_days": 20}, "at least 30"),
        ({"force_destroy": True, "protect": True}, "not with protect"),
        ({"purposes": ("assets", "assets")}, "unique"),
    ],
)
def test_invalid_args_fail_before_any_bucket_exists(overrides, message):
    from infra.offline import mockengine

    with pytest.raises(ValueError, match=message):
        buckets(replicate=True, **overrides)
    recorded = mockengine.last_run.monitor.recorded
    assert not [r for r in recorded if r.type.startswith(("aws:s3", "platform:"))]
