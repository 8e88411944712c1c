"""Whole-stack node autoscaling: Karpenter in uat and prod (controller, CRDs, pools, node
classes, interruption queue, IAM, discovery tags), no Cluster Autoscaler there, and dev's
choice (no node autoscaler: two fixed spot nodes) as written in its profile.

Expected values are written out here from the issue's promises and the profiles, not read back
from the components, so a weakened component fails."""

from __future__ import annotations

import copy
import json

import pytest

from components.cluster.versions import (
    KARPENTER_CHARTS,
    KARPENTER_IMAGE,
    KARPENTER_VERSION,
)
from infra.offline.mockengine import ACCOUNT_ID, RecordedResource, Recording
from tests import crd_schemas
from tests.iam_eval import evaluate
from tests.pod_identity import association_of

RELEASE = "kubernetes:helm.sh/v3:Release"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
QUEUE = "aws:sqs/queue:Queue"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ROLE = "aws:iam/role:Role"
EVENTS = {
    ("aws.health", "AWS Health Event"),
    ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    ("aws.ec2", "EC2 Instance State-change Notification"),
}


def _releases(recording: Recording) -> dict[str, RecordedResource]:
    return {r.inputs["name"]: r for r in recording.of_type(RELEASE)}


def _closure(recording: Recording, resource: RecordedResource) -> set[str]:
    index, seen, todo = recording.by_urn(), set(), list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            todo.extend(index[urn].dependencies if urn in index else [])
    return seen


def _manifest(resource: RecordedResource) -> dict:
    return {k: resource.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}


@pytest.fixture
def karpenter_env(env):
    if env == "dev":
        pytest.skip("dev runs no node autoscaler (test_dev_has_no_node_autoscaler)")
    return env


# -- dev --------------------------------------------------------------------------------------
@pytest.mark.parametrize("env", ["dev"])
def test_dev_has_no_node_autoscaler(recording, settings):
    assert settings.cluster.node_autoscaler == "none"
    assert settings.app.autoscaling is False
    charts = {r.inputs["chart"] for r in recording.of_type(RELEASE)}
    assert not charts & {"cluster-autoscaler", *KARPENTER_CHARTS.values()}
    for kind in (NODE_POOL, NODE_CLASS, QUEUE, RULE):
        assert recording.of_type(kind) == [], kind
    (group,) = recording.of_type("aws:eks/nodeGroup:NodeGroup")
    assert group.inputs["scalingConfig"] == {"minSize": 2, "maxSize": 4, "desiredSize": 2}


# -- uat and prod -----------------------------------------------------------------------------
def test_karpenter_replaces_cluster_autoscaler(karpenter_env, recording, settings):
    assert settings.cluster.node_autoscaler == "karpenter"
    releases = _releases(recording)
    assert "cluster-autoscaler" not in releases
    assert not [r for r in recording.of_type(ROLE) if "cluster-autoscaler" in r.name]
    crds, controller = releases["karpenter-crd"], releases["karpenter"]
    assert crds.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd"
    assert controller.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter"
    assert crds.inputs["version"] == controller.inputs["version"] == KARPENTER_VERSION
    assert "repositoryOpts" not in controller.inputs
    # The CRDs come from karpenter-crd (upgraded with each release), never twice.
    assert controller.inputs["skipCrds"] is True
    assert crds.urn in controller.dependencies
    assert controller.inputs["namespace"] == "kube-system"
    # Managed node groups are no longer scaled by anything: their sizes are as configured.
    for group in recording.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert "scalingConfig.desiredSize" not in group.ignore_changes
    assert KARPENTER_IMAGE.startswith(f"public.ecr.aws/karpenter/controller:{KARPENTER_VERSION}@")


def test_the_controller_runs_only_on_the_system_node_group(karpenter_env, recording, settings):
    values = _releases(recording)["karpenter"].inputs["values"]
    system = settings.cluster.node_groups["system"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {
            "matchExpressions": [
                {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"},
                {"key": "eks.amazonaws.com/nodegroup", "operator": "Exists"},
                {"key": "role", "operator": "In", "values": ["system"]},
            ]
        }
    ]
    assert system.labels == {"role": "system"} and not system.taints
    assert values["tolerations"] == [{"key": "CriticalAddonsOnly", "operator": "Exists"}]
    # No pool gives its nodes the system group's label: the term cannot match a pool's node.
    for pool in settings.cluster.node_pools.values():
        assert pool.labels.get("role") != "system"
    assert values["replicas"] == settings.cluster.controller_replicas == 2
    assert values["settings"]["clusterName"] == settings.name_prefix
    assert values["settings"]["interruptionQueue"] == f"{settings.name_prefix}-karpenter"
    # Hop limit 1: the controller cannot ask IMDS for its region.
    assert values["controller"]["env"] == [{"name": "AWS_REGION", "value": settings.region}]
    assert values["serviceAccount"] == {"create": True, "name": "karpenter"}
    assert values["podSecurityContext"]["runAsNonRoot"] is True


def test_the_controller_role_is_pod_identity_with_the_scoped_policy(
    karpenter_env, recording, settings
):
    controller = _releases(recording)["karpenter"]
    (role,) = [r for r in recording.of_type(ROLE) if r.name == "cluster-karpenter"]
    association = association_of(recording, role)
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "kube-system",
        "karpenter",
    )
    assert association.urn in controller.dependencies
    (inline,) = [
        p for p in recording.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.name == "cluster-karpenter-controller"
    ]  # fmt: skip
    policy = json.loads(inline.inputs["policy"])
    name, region = settings.name_prefix, settings.region
    instance = f"arn:aws:ec2:{region}:{ACCOUNT_ID}:instance/i-0abc"
    ours = {
        "aws:RequestTag/kubernetes.io/cluster/" + name: "owned",
        "aws:RequestTag/eks:eks-cluster-name": name,
        "aws:RequestTag/karpenter.sh/nodepool": "workload",
    }
    assert evaluate(policy, "ec2:RunInstances", instance, ours) == "Allow"
    # Another cluster's tags, or none: refused.
    theirs = {**ours, "aws:RequestTag/eks:eks-cluster-name": "someone-else"}
    assert evaluate(policy, "ec2:RunInstances", instance, theirs) == "ImplicitDeny"
    untagged = {"aws:RequestTag/kubernetes.io/cluster/" + name: "owned"}
    assert evaluate(policy, "ec2:RunInstances", instance, untagged) == "ImplicitDeny"
    owned = {
        "aws:ResourceTag/kubernetes.io/cluster/" + name: "owned",
        "aws:ResourceTag/karpenter.sh/nodepool": "workload",
    }
    assert evaluate(policy, "ec2:TerminateInstances", instance, owned) == "Allow"
    # A managed node group's instance (no nodepool tag) is never Karpenter's to terminate.
    node_group = {"aws:ResourceTag/kubernetes.io/cluster/" + name: "owned"}
    assert evaluate(policy, "ec2:TerminateInstances", instance, node_group) == "ImplicitDeny"
    other_account = f"arn:aws:ec2:{region}:999999999999:instance/i-0abc"
    assert evaluate(policy, "ec2:TerminateInstances", other_account, owned) == "ImplicitDeny"
    # The stack owns the instance profile: the controller may not create or change any.
    for action in ("iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile",
                   "iam:DeleteInstanceProfile", "iam:TagInstanceProfile"):  # fmt: skip
        assert evaluate(policy, action, "*") == "ImplicitDeny", action
    (passrole,) = [s for s in policy["Statement"] if s["Action"] == "iam:PassRole"]
    assert passrole["Resource"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/cluster-karpenter-node")
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}


def test_nodes_have_their_own_role_profile_and_access_entry(karpenter_env, recording):
    (node_role,) = [r for r in recording.of_type(ROLE) if r.name == "cluster-karpenter-node"]
    (statement,) = json.loads(node_role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[1]
        for a in recording.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("cluster-karpenter-node-")
    }
    # No CNI policy: aws-node has its own Pod Identity role.
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"}
    (profile,) = recording.of_type("aws:iam/instanceProfile:InstanceProfile")
    assert node_role.urn in profile.property_dependencies["role"]
    (entry,) = [e for e in recording.of_type(ENTRY) if e.inputs["type"] == "EC2_LINUX"]
    assert node_role.urn in entry.property_dependencies["principalArn"]


def test_the_interruption_queue_is_encrypted_tls_only_and_fed_by_the_four_rules(
    karpenter_env, recording, settings
):
    (queue,) = recording.of_type(QUEUE)
    assert queue.inputs["name"] == f"{settings.name_prefix}-karpenter"
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert queue.inputs["messageRetentionSeconds"] == 300
    rules = recording.of_type(RULE)
    parsed = [json.loads(r.inputs["eventPattern"]) for r in rules]
    patterns = {(p["source"][0], p["detail-type"][0]) for p in parsed}
    assert patterns == EVENTS and len(rules) == 4
    targets = recording.of_type(TARGET)
    assert len(targets) == 4
    for target in targets:
        assert queue.urn in target.property_dependencies["arn"]
    (policy,) = recording.of_type("aws:sqs/queuePolicy:QueuePolicy")
    document = json.loads(policy.inputs["policy"])
    send, deny = document["Statement"]
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Action"] == "sqs:SendMessage"
    assert len(send["Condition"]["ArnEquals"]["aws:SourceArn"]) == 4
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_pools_and_node_classes_are_the_profiles_and_valid_against_the_pinned_crds(
    karpenter_env, recording, settings
):
    pools = {p.inputs["metadata"]["name"]: p for p in recording.of_type(NODE_POOL)}
    classes = {c.inputs["metadata"]["name"]: c for c in recording.of_type(NODE_CLASS)}
    assert set(pools) == set(classes) == set(settings.cluster.node_pools) == {"workload"}
    for name, config in settings.cluster.node_pools.items():
        spec = pools[name].inputs["spec"]
        requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
        assert requirements == {
            "karpenter.k8s.aws/instance-family": config.instance_families,
            "karpenter.k8s.aws/instance-size": config.instance_sizes,
            "karpenter.sh/capacity-type": config.capacity_types,
            "kubernetes.io/arch": ["amd64"],
            "kubernetes.io/os": ["linux"],
        }
        assert spec["limits"] == {
            "cpu": str(config.cpu_limit),
            "memory": f"{config.memory_limit_gib}Gi",
        }
        assert spec["disruption"] == {
            "consolidationPolicy": "WhenEmptyOrUnderutilized",
            "consolidateAfter": config.consolidate_after,
            "budgets": [{"nodes": "1"}],
        }
        assert spec["template"]["spec"]["expireAfter"] == "720h"
        assert spec["template"]["spec"]["nodeClassRef"]["name"] == name
        node_class = classes[name].inputs["spec"]
        assert node_class["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
        assert node_class["metadataOptions"]["httpTokens"] == "required"
        assert node_class["metadataOptions"]["httpPutResponseHopLimit"] == 1
        (disk,) = node_class["blockDeviceMappings"]
        assert disk["ebs"]["volumeType"] == "gp3" and disk["ebs"]["encrypted"] is True
        assert disk["ebs"]["kmsKeyID"] == recording.outputs["kmsKeyArns"]["cluster"]
        discovery = [{"tags": {"karpenter.sh/discovery": settings.name_prefix}}]
        assert node_class["subnetSelectorTerms"] == discovery
        assert node_class["securityGroupSelectorTerms"] == discovery
        assert node_class["tags"]["environment"] == settings.environment
        controller = _releases(recording)["karpenter"]
        assert controller.urn in _closure(recording, pools[name])
    problems = []
    for resource in [*pools.values(), *classes.values()]:
        problems += crd_schemas.problems(_manifest(resource))
    assert problems == []


def test_the_schema_check_catches_a_misspelt_or_invalid_pool(karpenter_env, recording):
    (pool,) = recording.of_type(NODE_POOL)
    manifest = copy.deepcopy(_manifest(pool))
    manifest["spec"]["disruption"]["consolidateAftr"] = "5m"
    manifest["spec"]["template"]["spec"]["expireAfter"] = "30 days"
    problems = crd_schemas.problems(manifest)
    assert any("consolidateAftr" in p for p in problems)
    assert any("expireAfter" in p for p in problems)


@pytest.mark.parametrize("env", ["prod"])
def test_prod_pools_are_on_demand_only(recording, settings):
    for pool in recording.of_type(NODE_POOL):
        requirements = pool.inputs["spec"]["template"]["spec"]["requirements"]
        (capacity,) = [r for r in requirements if r["key"] == "karpenter.sh/capacity-type"]
        assert capacity == {
            "key": "karpenter.sh/capacity-type",
            "operator": "In",
            "values": ["on-demand"],
        }


def test_discovery_tags_are_on_the_private_subnets_and_the_node_security_group(
    karpenter_env, recording, settings
):
    subnets = [
        s for s in recording.of_type("aws:ec2/subnet:Subnet") if s.name.startswith("network-")
    ]
    name = settings.name_prefix
    tagged = {
        s.inputs["tags"]["tier"]
        for s in subnets
        if s.inputs["tags"].get("karpenter.sh/discovery") == name
    }
    assert tagged == {"private"}
    (cluster,) = recording.of_type("eks:index:Cluster")
    assert cluster.inputs["nodeSecurityGroupTags"] == {
        "karpenter.sh/discovery": settings.name_prefix
    }
