"""DatabaseLogins: the bootstrap Job's objects, its role, and when it runs again."""

from __future__ import annotations

import json

import kubernetes_validate
import pulumi_kubernetes as k8s
import pytest

from components.database.logins import (
    AWS_CLI_IMAGE,
    POSTGRES_IMAGE,
    DatabaseLogins,
    DatabaseLoginsArgs,
    job_manifest,
    login_for_service,
)
from components.hardening import is_hardened_pod
from components.iam import PodIdentityCluster
from infra.offline import mockengine
from infra.offline.mockengine import ACCOUNT_ID, run_program
from tests.components.test_bluegreen_schema import KUBERNETES_SCHEMA_VERSION
from tests.pod_identity import ASSOCIATION, assert_pod_identity

CONFIG = {"aws:region": "eu-west-1"}
CLUSTER_ARN = f"arn:aws:eks:eu-west-1:{ACCOUNT_ID}:cluster/test"
IDENTITY = PodIdentityCluster(cluster_name="test", cluster_arn=CLUSTER_ARN, account_id=ACCOUNT_ID)
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:rds!cluster-abc-123456"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/database"


def _args(**changes) -> DatabaseLoginsArgs:
    base = dict(
        k8s_provider=k8s.Provider("k8s", kubeconfig="{}"),
        namespace="platform-system",
        identity=IDENTITY,
        master_secret_arn=SECRET,
        master_secret_kms_key_arn=KEY,
        host="db.cluster-x.eu-west-1.rds.amazonaws.com",
        port=5432,
        database_name="app",
        logins=["shop_api", "billing"],
        region="eu-west-1",
    )
    return DatabaseLoginsArgs(**{**base, **changes})


def _run(**changes) -> mockengine.Recording:
    return run_program(
        lambda: DatabaseLogins("logins", _args(**changes)), stack="test", config=CONFIG
    )


@pytest.fixture(scope="module")
def rec():
    return _run()


def _job(rec) -> dict:
    (job,) = rec.of_type("kubernetes:batch/v1:Job")
    return {"apiVersion": "batch/v1", "kind": "Job", **job.inputs}


def test_the_job_is_schema_valid_and_every_container_is_hardened(rec):
    job = _job(rec)
    kubernetes_validate.validate(job, KUBERNETES_SCHEMA_VERSION, strict=True)
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    containers = [*pod["initContainers"], *pod["containers"]]
    assert {c["image"] for c in containers} == {AWS_CLI_IMAGE, POSTGRES_IMAGE}
    for container in containers:
        assert is_hardened_pod(pod["securityContext"], container["securityContext"])
    # The master password only ever lives in a memory-backed volume of this pod.
    (credentials,) = [v for v in pod["volumes"] if v["name"] == "admin-credentials"]
    assert credentials["emptyDir"]["medium"] == "Memory"


def test_images_are_pinned_to_exact_versions():
    for image in (AWS_CLI_IMAGE, POSTGRES_IMAGE):
        tag = image.rsplit(":", 1)[1]
        assert tag[0].isdigit() and tag != "latest", image


def test_the_service_account_and_scripts_are_valid_and_hold_no_secret(rec):
    (account,) = rec.of_type("kubernetes:core/v1:ServiceAccount")
    manifest = {"apiVersion": "v1", "kind": "ServiceAccount", **account.inputs}
    kubernetes_validate.validate(manifest, KUBERNETES_SCHEMA_VERSION, strict=True)
    assert account.inputs["automountServiceAccountToken"] is False
    # Pod Identity: the association binds the role; the account carries no IRSA annotation.
    assert "annotations" not in account.inputs["metadata"]
    (job,) = rec.of_type("kubernetes:batch/v1:Job")
    association = rec.one(ASSOCIATION, "logins-role")
    assert association.urn in job.dependencies
    (scripts,) = rec.of_type("kubernetes:core/v1:ConfigMap")
    assert set(scripts.inputs["data"]) == {"logins.sql", "run.sh"}
    assert "password" not in scripts.inputs["data"]["logins.sql"].lower()


def test_the_role_reads_exactly_the_master_secret_through_secrets_manager(rec):
    role = rec.one("aws:iam/role:Role", "logins-role")
    assert_pod_identity(
        rec, role, account=ACCOUNT_ID, cluster_arn=CLUSTER_ARN, cluster_name="test",
        namespace="platform-system", service_account="db-logins",
    )  # fmt: skip
    policy = json.loads(
        rec.one("aws:iam/rolePolicy:RolePolicy", "logins-role-master-secret").inputs["policy"]
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadMasterSecret"]["Action"] == "secretsmanager:GetSecretValue"
    assert by_sid["ReadMasterSecret"]["Resource"] == [SECRET]
    assert by_sid["DecryptMasterSecret"]["Resource"] == [KEY]
    assert by_sid["DecryptMasterSecret"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    }


def test_pulumi_waits_for_the_job_after_its_account_and_scripts(rec):
    (job,) = rec.of_type("kubernetes:batch/v1:Job")
    (account,) = rec.of_type("kubernetes:core/v1:ServiceAccount")
    (scripts,) = rec.of_type("kubernetes:core/v1:ConfigMap")
    assert {account.urn, scripts.urn} <= set(job.dependencies)
    assert job.inputs["spec"]["backoffLimit"] >= 1
    assert job.inputs["spec"]["activeDeadlineSeconds"] == 15 * 60


def test_a_changed_list_of_logins_runs_a_new_job_and_an_unchanged_one_does_not(rec):
    name = _job(rec)["metadata"]["name"]
    assert _job(_run())["metadata"]["name"] == name
    assert _job(_run(logins=["billing", "shop_api"]))["metadata"]["name"] == name  # order
    assert _job(_run(logins=["shop_api"]))["metadata"]["name"] != name


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"logins": ["Shop"]}, "'Shop' is not a lowercase PostgreSQL identifier"),
        ({"logins": ["pg_shop"]}, "reserved"),
        ({"logins": ["a", "a"]}, "appear more than once"),
        ({"database_name": "App"}, "'App'"),
        ({"timeout_minutes": 0}, "timeout_minutes"),
    ],
)
def test_invalid_args_fail_before_anything_is_registered(changes, message):
    with pytest.raises(ValueError, match=message):
        _run(**changes)
    assert mockengine.last_run.monitor is not None
    assert [r.type for r in mockengine.last_run.monitor.recorded] == ["pulumi:providers:kubernetes"]


def test_service_names_map_to_logins():
    assert login_for_service("shop-api") == "shop_api"
    assert login_for_service("web") == "web"


def test_job_manifest_is_pure():
    manifest = job_manifest("db-logins-x", "ns", "db-logins-x", {"A": "b"}, 5)
    assert manifest["spec"]["activeDeadlineSeconds"] == 300
    env = manifest["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "HOME", "value": "/tmp"} in env
