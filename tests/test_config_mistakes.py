"""The mistakes operators really make in Pulumi.<stack>.yaml, one row each.

Every row goes through both entry points: `make plan` (exit 2, the config key named on stderr)
and the real program under the mock engine (SettingsError before a single resource is
registered). Each rule lives in its component; this table proves settings applies it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.offline.plan import main
from tests.helpers import minimum, rejected

ADMIN = ["arn:aws:iam::123456789012:role/admin"]
OFFICE = ["203.0.113.0/24"]
GROUP = {
    "instanceTypes": ["t3.medium"],
    "capacityType": "ON_DEMAND",
    "minSize": 1,
    "maxSize": 3,
    "desiredSize": 2,
}
SERVICE = {
    "name": "api",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api",
    "tags": {"blue": "1.4.2", "green": "1.4.2"},
    "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123",
}


def cluster(**fields) -> dict:
    return {"platform:cluster": {**minimum("dev")["platform:cluster"], **fields}}


def group(**fields) -> dict:
    return cluster(nodeGroups={"system": {**GROUP, **fields}})


def service(**fields) -> dict:
    return {"platform:services": [{**SERVICE, **fields}]}


def observability(**fields) -> dict:
    return {"platform:observability": fields}


def cluster_prod(**fields) -> dict:
    return {"platform:cluster": {**minimum("prod")["platform:cluster"], **fields}}


def resources(**fields) -> dict:
    return service(resources=fields)


# (stack, config, the key the error must name, text it must contain)
MISTAKES = [
    # -- who may reach the cluster
    ("dev", cluster(previewRoleArns=ADMIN),
     "platform:cluster.previewRoleArns", "must not be cluster-admin"),
    ("dev", cluster(previewRoleArns="arn:aws:iam::123456789012:role/preview"),
     "platform:cluster.previewRoleArns", "valid list"),
    ("dev", cluster(previewRoleArns=["arn:aws:sts::123456789012:assumed-role/preview/ci"]),
     "platform:cluster.previewRoleArns", "not an assumed-role session"),
    ("dev", cluster(previewRoleArns=["arn:aws:iam::123456789012:role/p"] * 2),
     "platform:cluster.previewRoleArns", "each role once"),
    ("dev", cluster(readerRoleArns=ADMIN),
     "platform:cluster.readerRoleArns", "one role, one kind of access"),
    ("dev", cluster(previewRoleArns=["arn:aws:iam::123456789012:role/p"],
                    readerRoleArns=["arn:aws:iam::123456789012:role/p"]),
     "platform:cluster.previewRoleArns", "must not read Secrets"),
    # -- node groups
    ("dev", group(taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
     "platform:cluster.nodeGroups.system.taints[0]", "Kubernetes' NoSchedule as NO_SCHEDULE"),
    ("dev", group(taints=[{"key": "a", "effect": "NO_SCHEDULE", "operator": "Equal"}]),
     "platform:cluster.nodeGroups.system.taints[0].operator",
     "unknown key (typo?); allowed keys here: effect, key, value"),
    ("dev", cluster(nodeGroups={"Work_Load": GROUP}),
     "platform:cluster.nodeGroups", "no capitals or underscores"),
    ("dev", group(maxUnavailable=101),
     "platform:cluster.nodeGroups.system.maxUnavailable", "less than or equal to 100"),
    ("dev", group(instanceTypes=["m7g.large", "m7i.large"]),
     "platform:cluster.nodeGroups.system.instanceTypes", "mix x86_64 and arm64"),
    ("dev", group(labels={"team": "x" * 64}),
     "platform:cluster.nodeGroups.system.labels", "at most 63"),
    ("dev", group(instanceTypes=["t3.mediun"]),
     "platform:cluster.nodeGroups.system.instanceTypes", "did you mean t3.medium"),
    ("dev", cluster(nodeGroups=[GROUP]),
     "platform:cluster.nodeGroups", "valid dictionary"),
    ("prod", {"platform:cluster": {"adminRoleArns": ADMIN,
                                   "nodeGroups": {"system": {**GROUP, "capacityType": "SPOT"}}}},
     "platform:cluster.nodeGroups.system.capacityType", "must stay \"ON_DEMAND\""),
    # -- node autoscaling (Karpenter pools)
    ("prod", {"platform:cluster": {"adminRoleArns": ADMIN, "nodePools": {
        "workload": {"capacityTypes": ["spot", "on-demand"]}}}},
     "platform:cluster.nodePools.workload.capacityTypes", 'must stay ["on-demand"]'),
    ("uat", cluster(nodeAutoscaler="cluster-autoscaler"),
     "platform:cluster.nodeAutoscaler", "are only with nodeAutoscaler: karpenter"),
    ("uat", cluster(nodePools={"workload": {"instanceFamilies": ["m6i", "m7g"]}}),
     "platform:cluster", "nodePools.workload: instanceFamilies"),
    ("uat", cluster(nodePools={"workload": {"instanceSizes": ["huge"]}}),
     "platform:cluster", "are not EC2 instance types"),
    ("uat", cluster(nodePools={"workload": {"disruptionBudget": "0"}}),
     "platform:cluster", "expiry and drift would never replace a node"),
    ("uat", cluster(nodePools={"workload": {"expireAfter": "30 days"}}),
     "platform:cluster", "expireAfter '30 days': a duration"),
    ("uat", cluster(nodePools={"workload": {"capacityTypes": ["spots"]}}),
     "platform:cluster.nodePools.workload.capacityTypes", "'on-demand' or 'spot'"),
    ("uat", cluster(karpenterNodeGroup="gpu"),
     "platform:cluster", "karpenterNodeGroup 'gpu': one of nodeGroups ['system']"),
    ("dev", cluster(nodeAutoscaler="karpenter"),
     "platform:cluster", "nodePools: nodeAutoscaler karpenter needs at least one pool"),
    # -- cluster
    ("dev", cluster(namespaces=["default"]), "platform:cluster.namespaces", "reserved"),
    ("dev", cluster(namespaces=["apps", "platform-system"]), "platform:cluster.namespaces",
     "reserved"),
    ("dev", cluster(endpointPublicAccess=False),
     "platform:cluster", "given but the endpoint is private-only"),
    ("dev", cluster(version=1.30), "platform:cluster.version", "quote it"),
    ("dev", cluster(publicAccessCidrs="203.0.113.0/24"),
     "platform:cluster.publicAccessCidrs", "valid list"),
    ("dev", cluster(adminRoleArns=["arn:aws:sts::123456789012:assumed-role/admin/me"]),
     "platform:cluster.adminRoleArns", "not an assumed-role session"),
    # -- database
    ("dev", {"platform:database": {"minCapacity": 0.25, "secondsUntilAutoPause": None}},
     "platform:database", "steps of 0.5"),
    ("dev", {"platform:database": {"performanceInsightsRetentionDays": 30}},
     "platform:database.performanceInsightsRetentionDays", "multiple of 31"),
    ("uat", {"platform:database": {"secondsUntilAutoPause": 600}},
     "platform:database", "secondsUntilAutoPause needs minCapacity 0"),
    ("prod", {"platform:database": {"backupRetentionDays": 1}},
     "platform:database.backupRetentionDays", "below prod's floor of 30"),
    ("prod", {"platform:database": {"instanceClass": "db.r7g.lage"}},
     "platform:database.instanceClass", "did you mean db.r7g.large"),
    ("prod", {"platform:database": {"instanceClass": "r7g.large"}},
     "platform:database.instanceClass", "must start with 'db.'"),
    ("dev", {"platform:database": {"engineVersion": 17.10}},
     "platform:database.engineVersion", "quote it"),
    ("dev", {"platform:database": {"crossRegionBackup": True}},
     "platform:database.crossRegionBackup", "needs platform:storage.replication"),
    # -- cache and streaming
    ("dev", {"platform:cache": {"nodeType": "cache.t4g.smal"}},
     "platform:cache.nodeType", "did you mean cache.t4g.small"),
    ("prod", {"platform:streaming": {"brokerInstanceType": "kafka.m7g.larg"}},
     "platform:streaming.brokerInstanceType", "did you mean kafka.m7g.large"),
    ("prod", {"platform:streaming": {"brokerCount": 2, "zoneCount": 2}},
     "platform:streaming.brokerCount", "below prod's floor of 3"),
    # -- app and services
    ("uat", {"platform:app": {"replicas": 11}}, "platform:app.replicas",
     "above the autoscaling maximum 10"),
    ("prod", {"platform:app": {"deployBranches": ["*"]}}, "platform:app.deployBranches",
     "must stay [\"main\"]"),
    ("dev", service(tags={"blue": "team/1.4.2", "green": "1.4.2"}),
     "platform:services[0].tags.blue", "no '/'"),
    ("dev", service(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.4.2"),
     "platform:services[0].image", "put the version in `tags`"),
    ("dev", service(healthPath="/health check"), "platform:services[0].healthPath",
     "without spaces"),
    ("dev", service(hostnames=["https://api.example.com"]), "platform:services[0].hostnames",
     "not a URL"),
    ("dev", resources(cpuRequest="half a core"), "platform:services[0].resources",
     "not a positive Kubernetes quantity"),
    ("dev", resources(memoryRequest="1Gi", memoryLimit="512Mi"), "platform:services[0].resources",
     "above its limit"),
    ("dev", service(certificateArn="arn:aws:acm:eu-west-1:123456789012:cert/abc"),
     "platform:services[0].certificateArn", "an ACM certificate ARN"),
    ("dev", service(certificateArn="arn:aws:acm:us-east-1:123456789012:certificate/abc"),
     "platform:services[0].certificateArn", "the ALB is in eu-west-1"),
    ("dev", service(port=80), "platform:services[0].port", "greater than or equal to 1024"),
    ("dev", service(topics={"name": "orders"}), "platform:services[0].topics", "valid list"),
    ("uat", {**service(certificateArn=None, allowPlainHttp=True)},
     "platform:services[0].allowPlainHttp", "dev-only opt-out"),
    # -- network, storage, tags, region
    ("dev", {"platform:network": {"azCount": 4}, "platform:streaming": {"zoneCount": 2}},
     "platform:network.azCount", "eu-west-1 has 3"),
    ("uat", {"platform:storage": {"forceDestroy": True}}, "platform:storage.forceDestroy",
     "dev-only opt-out"),
    ("prod", {"platform:storage": {"replicaRegion": "eu-west-1"}},
     "platform:storage.replicaRegion", "the stack's own region"),
    ("dev", {"platform:owner": "team&co"}, "platform:owner", "characters AWS tags refuse"),
    ("dev", {"platform:costCenter": "cc-🚀"}, "platform:costCenter", "characters AWS tags refuse"),
    ("dev", {"platform:owner": "x" * 257}, "platform:owner", "at most 256"),
    ("dev", {"aws:region": "EU-WEST-1"}, "aws:region", "regions are lowercase"),
    # -- observability
    ("dev", observability(level="Full"), "platform:observability.level", "'basic', 'enhanced'"),
    ("dev", observability(prometheusRetention="1.5d"), "platform:observability.prometheusRetention",
     "whole numbers"),
    ("dev", observability(prometheusRetention="3days"),
     "platform:observability.prometheusRetention", "a Prometheus duration"),
    ("dev", observability(prometheusStorageGib="50Gi"),
     "platform:observability.prometheusStorageGib", "'50Gi' is text where a number is meant"),
    ("dev", observability(level="enhanced"), "platform:observability",
     "elasticsearchStorageGib: required at level 'enhanced'"),
    ("dev", observability(slackCriticalChannel="alerts"),
     "platform:observability.slackCriticalChannel", "a Slack channel such as"),
    ("dev", observability(nodeGroup="monitoring"), "platform:observability.nodeGroup",
     "is not one of platform:cluster.nodeGroups"),
    ("dev", observability(uiDomain="ops.example.com"), "platform:observability",
     "set both"),
    ("dev", observability(uiDomain="ops.example.com",
                          uiCertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/x"),
     "platform:observability.uiCertificateArn", "the ALB is in eu-west-1"),
    ("prod", observability(level="enhanced"), "platform:observability.level",
     "not allowed in prod"),
    ("prod", observability(logRetentionDays=7), "platform:observability.logRetentionDays",
     "below prod's floor of 30"),
    ("prod", observability(prometheusRetention="72h"),
     "platform:observability.prometheusRetention", "below prod's floor of \"30d\""),
    ("prod", cluster_prod(controllerReplicas=1), "platform:cluster.controllerReplicas",
     "below prod's floor of 2"),
    ("dev", cluster(controllerReplicas=0), "platform:cluster.controllerReplicas",
     "greater than or equal to 1"),
    ("dev", {"platform:slackWebhookUrl": "https://hooks.slack.com/services/T/B/X"},
     "platform:slackWebhookUrl", "must be a secret"),
    ("dev", {"platform:grafanaAdminPassword": "hunter2hunter2"},
     "platform:grafanaAdminPassword", "pulumi config set --secret"),
    # -- the stack name itself
    ("dev_alice", {"platform:profile": "dev"}, "the stack name", "makes the database name invalid"),
    ("dev-feature-login-page", {"platform:profile": "dev"}, "the stack name",
     "use a shorter stack name"),
]  # fmt: skip


def _id(case) -> str:
    stack, config, key, _ = case
    return f"{stack}:{key}:{next(iter(config))}"


def _write(tmp_path: Path, stack: str, config: dict) -> Path:
    document = {"config": {**minimum(stack), **config}}
    if stack.startswith("prod"):
        document["config"].setdefault("platform:storage", {"replicaRegion": "eu-central-1"})
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    return tmp_path


@pytest.mark.parametrize("case", MISTAKES, ids=[_id(c) for c in MISTAKES])
def test_each_mistake_fails_in_settings_naming_the_key_with_nothing_registered(
    case, tmp_path, capsys
):
    stack, config, key, text = case
    assert main([stack, "--project-dir", str(_write(tmp_path, stack, config))]) == 2
    err = capsys.readouterr().err
    line = next((line for line in err.splitlines() if key in line and text in line), None)
    assert line, f"expected a line naming {key!r} with {text!r}:\n{err}"
    # The program itself refuses too, before any resource exists (rejected() checks that).
    assert text in rejected(stack, config)


def test_duplicate_keys_in_the_stack_file_are_refused(tmp_path, capsys):
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  platform:owner: a\n  platform:owner: b\n"
    )
    assert main(["dev", "--project-dir", str(tmp_path)]) == 2
    assert "duplicate key 'platform:owner'" in capsys.readouterr().err


def test_config_written_as_a_list_is_refused(tmp_path, capsys):
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  - aws:region: eu-west-1\n")
    assert main(["dev", "--project-dir", str(tmp_path)]) == 2
    assert "config: must be a mapping" in capsys.readouterr().err


def test_the_committed_stacks_are_valid(capsys):
    for stack in ("dev", "uat", "prod"):
        assert main([stack]) == 0, capsys.readouterr().err
