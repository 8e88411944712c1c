"""The adapters where moto cannot reach: AWS Backup requests checked against botocore's own
service model (Stubber validates every parameter name and type), ARN parsing, and the
probes against a real subprocess and a real HTTP server on loopback."""

import http.server
import json
import sys
import threading
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from infra.drill.adapters.aws import Boto3Cloud, resource_from_arn
from infra.drill.adapters.system import SystemProbes
from infra.drill.model import Kind, Resource
from infra.drill.ports import CopyRestore

REGION = "eu-central-1"
VAULT = "platform-prod-database-backup-replica"
POINT = "arn:aws:backup:eu-central-1:123456789012:recovery-point:1EB3B5E7"
SOURCE = "arn:aws:rds:eu-west-1:123456789012:cluster:platform-prod-database"


class _StubbedSession:
    """A boto3 Session whose clients are stubbed (one per service)."""

    def __init__(self) -> None:
        self.clients = {}

    def client(self, service, region_name):
        if service not in self.clients:
            client = boto3.client(
                service, region_name=region_name, aws_access_key_id="x", aws_secret_access_key="x"
            )
            self.clients[service] = (client, Stubber(client))
            self.clients[service][1].activate()
        return self.clients[service][0]

    def stub(self, service):
        self.client(service, REGION)
        return self.clients[service][1]


def test_recovery_points_restore_job_and_its_state_through_the_backup_api():
    session = _StubbedSession()
    cloud = Boto3Cloud(session)  # type: ignore[arg-type]
    backup = session.stub("backup")
    created = datetime(2026, 11, 22, 5, tzinfo=UTC)
    backup.add_response(
        "list_recovery_points_by_backup_vault",
        {
            "RecoveryPoints": [
                {
                    "RecoveryPointArn": POINT,
                    "ResourceArn": SOURCE,
                    "Status": "COMPLETED",
                    "CreationDate": created,
                }
            ]
        },
        {"BackupVaultName": VAULT, "ByResourceArn": SOURCE},
    )
    backup.add_response(
        "get_recovery_point_restore_metadata",
        {
            "RestoreMetadata": {
                "Engine": "aurora-postgresql",
                "DBClusterIdentifier": "platform-prod-database",
                "AvailabilityZones": '["eu-west-1a"]',
                "DeletionProtection": "true",
            }
        },
        {"BackupVaultName": VAULT, "RecoveryPointArn": POINT},
    )
    backup.add_response(
        "start_restore_job",
        {"RestoreJobId": "job-1"},
        {
            "RecoveryPointArn": POINT,
            "Metadata": {
                "Engine": "aurora-postgresql",
                "DBClusterIdentifier": "platform-prod-database-drill-d1",
                "DBSubnetGroupName": "platform-prod-dr-data",
                "VpcSecurityGroupIds": '["sg-0replica"]',
                "KmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/k",
                "DeletionProtection": "false",
            },
            "IamRoleArn": "arn:aws:iam::123456789012:role/backup",
            "ResourceType": "Aurora",
            "IdempotencyToken": "platform-prod-database-drill-d1",
        },
    )
    backup.add_response(
        "describe_restore_job",
        {
            "RestoreJobId": "job-1",
            "Status": "COMPLETED",
            "RecoveryPointCreationDate": created,
            "CreatedResourceArn": f"{SOURCE.replace('eu-west-1', REGION)}-drill-d1",
        },
        {"RestoreJobId": "job-1"},
    )
    (point,) = cloud.recovery_points(REGION, VAULT, SOURCE)
    assert (point.arn, point.status, point.created) == (POINT, "COMPLETED", created)
    job = cloud.start_copy_restore(
        REGION,
        CopyRestore(
            POINT,
            VAULT,
            "arn:aws:iam::123456789012:role/backup",
            "platform-prod-database-drill-d1",
            "platform-prod-dr-data",
            ("sg-0replica",),
            "arn:aws:kms:eu-central-1:123456789012:key/k",
        ),
    )
    assert job == "job-1"
    state = cloud.restore_job(REGION, job)
    assert (state.status, state.recovery_point_created) == ("COMPLETED", created)
    backup.assert_no_pending_responses()


@pytest.mark.parametrize(
    "arn, expected",
    [
        (
            "arn:aws:rds:eu-west-1:1:cluster:platform-uat-database-drill-d1",
            Resource(Kind.RDS_CLUSTER, "eu-west-1", "platform-uat-database-drill-d1"),
        ),
        ("arn:aws:rds:eu-west-1:1:db:x-1", Resource(Kind.RDS_INSTANCE, "eu-west-1", "x-1")),
        (
            "arn:aws:elasticache:eu-west-1:1:replicationgroup:g",
            Resource(Kind.CACHE_GROUP, "eu-west-1", "g"),
        ),
        ("arn:aws:s3:::scratch", Resource(Kind.BUCKET, "", "scratch")),
        ("arn:aws:rds:eu-west-1:1:snapshot:s", None),
        ("not-an-arn", None),
    ],
)
def test_arns_from_the_tagging_api_become_resources(arn, expected):
    assert resource_from_arn(arn) == expected


def test_command_probe_passes_on_exit_0_and_sees_the_drill_environment():
    probes = SystemProbes()
    script = "import os, sys; sys.exit(0 if os.environ['DRILL_DB_ENDPOINT'] == 'copy' else 1)"
    assert probes.command([sys.executable, "-c", script], {"DRILL_DB_ENDPOINT": "copy"}, 30).ok
    assert not probes.command([sys.executable, "-c", "raise SystemExit(2)"], {}, 30).ok


def test_command_probe_is_bounded_by_its_timeout():
    check = SystemProbes().command([sys.executable, "-c", "import time; time.sleep(5)"], {}, 0.2)
    assert not check.ok and "no answer within" in check.detail


def test_command_probe_reports_a_missing_program():
    assert not SystemProbes().command(["/nonexistent/psql"], {}, 5).ok


@pytest.fixture
def server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()
            self.wfile.write(json.dumps({"path": self.path}).encode())

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def test_http_probe_passes_on_2xx_only(server):
    probes = SystemProbes()
    assert probes.http(f"{server}/ok", 5).ok
    failed = probes.http(f"{server}/down", 5)
    assert not failed.ok and "503" in failed.detail
    assert not probes.http("file:///etc/passwd", 5).ok
