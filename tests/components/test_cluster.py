"""Cluster: hardened pulumi-eks control plane, managed AL2023 nodes, pinned add-ons and charts."""

from __future__ import annotations

import dataclasses
import json
import re
from functools import cache

import kubernetes_validate
import pulumi
import pulumi_eks
import pytest

from components.cluster import component as cluster_module
from components.cluster import policies as cluster_policies
from components.cluster.args import ClusterArgs, NodeGroupSpec, NodeTaint, validate
from components.cluster.component import Cluster, harden_eks_children
from components.cluster.rules import LOG_TYPES, ami_type
from components.cluster.versions import (
    ADDON_VERSIONS,
    CHART_REPOSITORIES,
    CHART_VERSIONS,
    CLUSTER_AUTOSCALER_PINS,
    KUBERNETES_VERSION,
)
from infra.offline import mockengine
from infra.offline.mockengine import PlatformMocks, Recording, run_program
from tests.pod_identity import ASSOCIATION, assert_pod_identity, expected_trust, trust

CONFIG = {"aws:region": "eu-west-1"}
SECRETS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/cluster-secrets"
LOGS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/logs"
EBS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/cluster-ebs"
DEPLOYER = "arn:aws:iam::123456789012:role/deployer"
PLATFORM_ADMIN = "arn:aws:iam::123456789012:role/platform-admin"
SUBNETS = ["subnet-0private-a", "subnet-0private-b", "subnet-0private-c"]
OFFICE = ["203.0.113.0/24"]

DEV = ClusterArgs(
    cluster_name="platform-test",
    vpc_id="vpc-0test",
    private_subnet_ids=SUBNETS,
    admin_role_arns=[DEPLOYER, PLATFORM_ADMIN],
    secrets_kms_key_arn=SECRETS_KEY,
    log_kms_key_arn=LOGS_KEY,
    ebs_kms_key_arn=EBS_KEY,
    log_retention_days=14,
    node_groups=[
        NodeGroupSpec(name="system", instance_types=["m7g.large"], labels={"role": "system"}),
        NodeGroupSpec(
            name="workload",
            instance_types=["t3.large", "t3a.large"],
            capacity_type="SPOT",
            min_size=0,
            max_size=4,
            desired_size=1,
            max_unavailable=2,
            disk_size_gib=80,
            taints=[NodeTaint(key="spot", value="true", effect="NO_SCHEDULE")],
        ),
    ],
    namespaces=["apps", "observability"],
    namespace_pod_security={"observability": "privileged"},
    controller_replicas=1,
)
PROD = dataclasses.replace(
    DEV,
    public_endpoint=True,
    public_access_cidrs=OFFICE,
    node_autoscaler="cluster-autoscaler",
    controller_replicas=2,
    log_retention_days=365,
    node_ssm_access=True,
    protect=True,
)


class ClusterMocks(PlatformMocks):
    """Shared mocks plus the version number EC2 assigns to a new launch template."""

    def new_resource(self, args):
        resource_id, outputs = super().new_resource(args)
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            outputs["latestVersion"] = 1
        return resource_id, outputs


@dataclasses.dataclass
class Run:
    rec: Recording
    deps: dict[str, list[str]]  # urn -> URNs the engine was told the resource depends on

    def one(self, type_: str, name: str) -> mockengine.RecordedResource:
        return self.rec.one(type_, name)

    def depends_on(self, resource: mockengine.RecordedResource) -> set[str]:
        return set(self.deps[resource.urn])


def _run(args: ClusterArgs, extra=None) -> Run:
    deps: dict[str, list[str]] = {}
    original = mockengine.RecordingMonitor.RegisterResource

    def register(monitor, request):
        response = original(monitor, request)
        deps[response.urn] = list(request.dependencies)
        return response

    def program() -> None:
        cluster = Cluster("cluster", args)
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("endpoint", cluster.endpoint)
        pulumi.export("clusterName", cluster.cluster_name)
        pulumi.export("oidcProviderArn", cluster.oidc_provider_arn)
        pulumi.export("nodeSecurityGroupId", cluster.node_security_group_id)
        pulumi.export("namespaces", cluster.namespace_names)
        if extra:
            extra(cluster)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mockengine.RecordingMonitor, "RegisterResource", register)
        rec = run_program(program, stack="test", config=CONFIG, mocks=ClusterMocks("eu-west-1"))
    return Run(rec, deps)


@cache
def dev() -> Run:
    return _run(DEV)


@cache
def prod() -> Run:
    return _run(PROD)


def eks_inputs(run: Run) -> dict:
    return run.one("eks:index:Cluster", "cluster-eks").inputs


def _role_name(run: Run, role: mockengine.RecordedResource) -> str:
    """The physical name the mocks gave `role` (`<resource name>-<7 hex>`), as referenced."""
    users = [
        *run.rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
        *run.rec.of_type("aws:iam/rolePolicy:RolePolicy"),
    ]
    names = {u.inputs["role"] for u in users}
    (name,) = [n for n in names if re.fullmatch(rf"{re.escape(role.name)}-[0-9a-f]{{7}}", n)]
    return name


def _policy_arns(run: Run, role_resource_name: str) -> set[str]:
    role_name = _role_name(run, run.one("aws:iam/role:Role", role_resource_name))
    attachments = run.rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    return {a.inputs["policyArn"] for a in attachments if a.inputs["role"] == role_name}


# -- control plane ----------------------------------------------------------------------------
def test_secrets_are_envelope_encrypted_with_the_given_key():
    assert eks_inputs(dev())["encryptionConfigKeyArn"] == SECRETS_KEY


def test_all_control_plane_logs_go_to_a_kms_log_group_created_before_the_cluster():
    run = dev()
    assert eks_inputs(run)["enabledClusterLogTypes"] == list(LOG_TYPES)
    assert set(LOG_TYPES) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    group = run.one("aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs")
    assert group.inputs["name"] == "/aws/eks/platform-test/cluster"
    assert group.inputs["kmsKeyId"] == LOGS_KEY
    assert group.inputs["retentionInDays"] == 14
    assert group.urn in run.depends_on(run.one("eks:index:Cluster", "cluster-eks"))


def test_endpoint_is_private_unless_public_cidrs_are_named():
    private, public = eks_inputs(dev()), eks_inputs(prod())
    assert private["endpointPrivateAccess"] is True
    assert private["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in private
    assert public["endpointPrivateAccess"] is True
    assert public["endpointPublicAccess"] is True
    assert public["publicAccessCidrs"] == OFFICE


def test_api_authentication_with_admin_access_entries_only():
    run = dev()
    assert eks_inputs(run)["authenticationMode"] == "API"
    entries = run.rec.of_type("aws:eks/accessEntry:AccessEntry")
    assert {e.inputs["principalArn"] for e in entries} == {DEPLOYER, PLATFORM_ADMIN}
    assert all(e.inputs["clusterName"] == "platform-test" for e in entries)
    associations = run.rec.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert {a.inputs["principalArn"] for a in associations} == {DEPLOYER, PLATFORM_ADMIN}
    for association in associations:
        assert association.inputs["policyArn"] == (
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        )
        assert association.inputs["accessScope"] == {"type": "cluster"}


def test_cluster_creator_gets_no_implicit_admin():
    # pulumi-eks hard-codes the bootstrap flag on its inner cluster; the transform clears it.
    inner = pulumi.ResourceTransformArgs(
        custom=True,
        type_="aws:eks/cluster:Cluster",
        name="cluster-eks-eksCluster",
        props={
            "name": "platform-test",
            "accessConfig": {
                "authenticationMode": "API",
                "bootstrapClusterCreatorAdminPermissions": True,
            },
        },
        opts=pulumi.ResourceOptions(),
    )
    result = harden_eks_children(inner)
    assert result.props["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    assert result.props["name"] == "platform-test"
    other = pulumi.ResourceTransformArgs(
        custom=True,
        type_="aws:ec2/securityGroup:SecurityGroup",
        name="cluster-eks-eksClusterSecurityGroup",
        props={"vpcId": "vpc-0test"},
        opts=pulumi.ResourceOptions(),
    )
    assert harden_eks_children(other).props == {"vpcId": "vpc-0test"}


def test_the_eks_component_is_registered_with_the_hardening_transform(monkeypatch):
    seen: list[pulumi.ResourceOptions] = []

    class Capturing(pulumi_eks.Cluster):
        def __init__(self, resource_name, opts=None, **kwargs):
            seen.append(opts)
            super().__init__(resource_name, opts=opts, **kwargs)

    monkeypatch.setattr(cluster_module.eks, "Cluster", Capturing)
    run_program(lambda: Cluster("cluster", DEV), stack="test", config=CONFIG)
    assert len(seen) == 1
    assert harden_eks_children in seen[0].transforms


def test_no_default_node_group_no_aws_auth_and_no_unpinned_pulumi_eks_addons():
    inputs = eks_inputs(dev())
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["createOidcProvider"] is True
    assert inputs["version"] == KUBERNETES_VERSION
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    # pulumi-eks would otherwise install vpc-cni / kube-proxy at "most recent" versions.
    assert inputs["useDefaultVpcCni"] is True
    assert inputs["kubeProxyAddonOptions"]["enabled"] is False
    assert inputs["corednsAddonOptions"]["enabled"] is False
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert "roleMappings" not in inputs and "userMappings" not in inputs
    assert inputs["privateSubnetIds"] == SUBNETS
    assert "publicSubnetIds" not in inputs


def test_prod_is_protected():
    run = prod()
    cluster = run.one("eks:index:Cluster", "cluster-eks")
    assert cluster.protect and cluster.inputs["deletionProtection"] is True
    group = run.one("aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs")
    assert group.protect and group.retain_on_delete
    assert all(n.protect for n in run.rec.of_type("kubernetes:core/v1:Namespace"))
    dev_cluster = dev().one("eks:index:Cluster", "cluster-eks")
    assert not dev_cluster.protect and dev_cluster.inputs["deletionProtection"] is False


# -- nodes ------------------------------------------------------------------------------------
def _templates(run: Run) -> dict[str, mockengine.RecordedResource]:
    return {t.urn: t for t in run.rec.of_type("aws:ec2/launchTemplate:LaunchTemplate")}


@pytest.mark.parametrize("run", [dev, prod], ids=["dev", "prod"])
def test_every_node_group_is_al2023_with_imdsv2_encrypted_gp3_and_no_public_ip(run):
    run = run()
    groups = run.rec.of_type("aws:eks/nodeGroup:NodeGroup")
    assert len(groups) == 2
    node_sg = run.rec.outputs["nodeSecurityGroupId"]
    for group in groups:
        assert group.inputs["amiType"].startswith("AL2023_")
        assert group.inputs["subnetIds"] == SUBNETS
        assert "diskSize" not in group.inputs  # the launch template's root volume applies
        (template,) = [t for urn, t in _templates(run).items() if urn in run.depends_on(group)]
        assert group.inputs["launchTemplate"]["version"] == "1"  # the template's latest
        metadata = template.inputs["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpEndpoint"] == "enabled"
        assert metadata["httpPutResponseHopLimit"] == 1
        (root,) = template.inputs["blockDeviceMappings"]
        assert root["deviceName"] == "/dev/xvda"
        assert root["ebs"]["volumeType"] == "gp3"
        assert root["ebs"]["encrypted"] == "true"
        assert root["ebs"]["kmsKeyId"] == EBS_KEY
        (interface,) = template.inputs["networkInterfaces"]
        assert interface["associatePublicIpAddress"] == "false"
        assert interface["securityGroups"] == [node_sg]
        assert "userData" not in template.inputs and "keyName" not in template.inputs


def test_node_group_shape_follows_the_spec():
    run = dev()
    system = run.one("aws:eks/nodeGroup:NodeGroup", "cluster-system")
    workload = run.one("aws:eks/nodeGroup:NodeGroup", "cluster-workload")
    assert system.inputs["amiType"] == "AL2023_ARM_64_STANDARD"  # Graviton m7g
    assert workload.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert system.inputs["capacityType"] == "ON_DEMAND"
    assert workload.inputs["capacityType"] == "SPOT"
    assert workload.inputs["instanceTypes"] == ["t3.large", "t3a.large"]
    assert workload.inputs["scalingConfig"] == {"minSize": 0, "maxSize": 4, "desiredSize": 1}
    assert workload.inputs["updateConfig"] == {"maxUnavailable": 2}
    assert workload.inputs["taints"] == [{"key": "spot", "value": "true", "effect": "NO_SCHEDULE"}]
    assert system.inputs["labels"] == {"role": "system"}
    assert workload.inputs["nodeGroupNamePrefix"] == "workload-"
    assert workload.inputs["version"] == KUBERNETES_VERSION
    template = run.one("aws:ec2/launchTemplate:LaunchTemplate", "cluster-workload")
    assert template.inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 80


def test_node_role_has_only_worker_and_registry_policies():
    dev_policies = _policy_arns(dev(), "cluster-node")
    assert dev_policies == {
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    }
    assert "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" in _policy_arns(
        prod(), "cluster-node"
    )
    # The CNI permissions belong to the vpc-cni add-on's own role, not to every node.
    assert _policy_arns(dev(), "cluster-vpc-cni") == {
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
    }


def test_autoscaler_owns_desired_size_only_when_enabled():
    for group in dev().rec.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert group.ignore_changes == []
    for group in prod().rec.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert group.ignore_changes == ["scalingConfig.desiredSize"]


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (["m7g.large", "c7gn.xlarge", "t4g.medium", "r8gd.large"], "AL2023_ARM_64_STANDARD"),
        (["m7i.large", "t3.large", "g5.xlarge", "inf2.xlarge"], "AL2023_x86_64_STANDARD"),
    ],
)
def test_ami_type_follows_the_architecture(types, expected):
    assert ami_type(types) == expected


# -- add-ons ----------------------------------------------------------------------------------
def test_every_addon_is_pinned_to_a_build_for_the_cluster_version():
    addons = {a.inputs["addonName"]: a for a in dev().rec.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {
        "vpc-cni",
        "kube-proxy",
        "coredns",
        "aws-ebs-csi-driver",
        "eks-pod-identity-agent",
    }
    for addon_name, addon in addons.items():
        version = addon.inputs["addonVersion"]
        assert version == ADDON_VERSIONS["1.35"][addon_name]
        assert re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", version)
        assert addon.inputs["clusterName"] == "platform-test"
    assert addons["kube-proxy"].inputs["addonVersion"].startswith("v1.35.")
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {
        "enableNetworkPolicy": "true"
    }


def test_coredns_and_ebs_csi_wait_for_nodes_and_nodes_wait_for_networking():
    run = dev()
    groups = {g.urn for g in run.rec.of_type("aws:eks/nodeGroup:NodeGroup")}
    addon = {a.inputs["addonName"]: a for a in run.rec.of_type("aws:eks/addon:Addon")}
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert groups <= run.depends_on(addon[name]), f"{name} would hang DEGRADED without nodes"
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert not groups & run.depends_on(addon[name])
        for group in run.rec.of_type("aws:eks/nodeGroup:NodeGroup"):
            assert addon[name].urn in run.depends_on(group)


def test_addon_roles_are_pod_identity_roles_the_addons_associate():
    run = dev()
    addon = {a.inputs["addonName"]: a for a in run.rec.of_type("aws:eks/addon:Addon")}
    cni_role = run.one("aws:iam/role:Role", "cluster-vpc-cni")
    ebs_role = run.one("aws:iam/role:Role", "cluster-ebs-csi")
    pairs = (
        ("vpc-cni", "aws-node", cni_role),
        ("aws-ebs-csi-driver", "ebs-csi-controller-sa", ebs_role),
    )
    for name, account, role in pairs:
        (association,) = addon[name].inputs["podIdentityAssociations"]
        assert association["serviceAccount"] == account
        assert association["roleArn"].endswith(f"/{_role_name(run, role)}")
        assert "serviceAccountRoleArn" not in addon[name].inputs  # no IRSA
    # The add-ons own their associations: no second, separate one for the same account.
    associated = {a.inputs["serviceAccount"] for a in run.rec.of_type(ASSOCIATION)}
    assert not associated & {"aws-node", "ebs-csi-controller-sa"}
    assert _policy_arns(run, "cluster-ebs-csi") == {
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    }
    kms = json.loads(
        run.one("aws:iam/rolePolicy:RolePolicy", "cluster-ebs-csi-kms").inputs["policy"]
    )
    assert {r for s in kms["Statement"] for r in s["Resource"]} == {EBS_KEY}
    grants = next(s for s in kms["Statement"] if "kms:CreateGrant" in s["Action"])
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


# -- Pod Identity -----------------------------------------------------------------------------
WORKLOAD_ROLES = {
    "cluster-vpc-cni": "kube-system:aws-node",
    "cluster-ebs-csi": "kube-system:ebs-csi-controller-sa",
    "cluster-alb-controller": "kube-system:aws-load-balancer-controller",
    "cluster-cluster-autoscaler": "kube-system:cluster-autoscaler",
}
CLUSTER_ARN = f"arn:aws:eks:eu-west-1:{mockengine.ACCOUNT_ID}:cluster/platform-test"


@pytest.mark.parametrize("role_name", sorted(WORKLOAD_ROLES))
def test_workload_trust_is_one_service_account_of_this_cluster_through_pod_identity(role_name):
    run = prod()
    role = run.one("aws:iam/role:Role", role_name)
    namespace, account = WORKLOAD_ROLES[role_name].split(":")
    assert trust(role) == expected_trust(mockengine.ACCOUNT_ID, CLUSTER_ARN, namespace, account)
    if role_name in ("cluster-vpc-cni", "cluster-ebs-csi"):
        return  # associated by their add-ons (test above)
    assert_pod_identity(
        run.rec, role, account=mockengine.ACCOUNT_ID, cluster_arn=CLUSTER_ARN,
        cluster_name="platform-test", namespace=namespace, service_account=account,
    )  # fmt: skip


def test_no_role_trusts_the_oidc_provider():
    for run in (dev(), prod()):
        for role in run.rec.of_type("aws:iam/role:Role"):
            assert "AssumeRoleWithWebIdentity" not in role.inputs["assumeRolePolicy"], role.name


def test_service_account_role_helper_for_other_components():
    def extra(cluster: Cluster) -> None:
        role = cluster.service_account_role(
            "app-role",
            namespace="apps",
            service_account="api",
            inline_policies={"read": json.dumps({"Version": "2012-10-17", "Statement": []})},
            managed_policy_arns=["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
        )
        pulumi.export("appRoleArn", role.arn)

    run = _run(DEV, extra)
    role = run.one("aws:iam/role:Role", "app-role")
    assert_pod_identity(
        run.rec, role, account=mockengine.ACCOUNT_ID, cluster_arn=CLUSTER_ARN,
        cluster_name="platform-test", namespace="apps", service_account="api",
    )  # fmt: skip
    run.one("aws:iam/rolePolicy:RolePolicy", "app-role-read")
    attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "app-role-managed-0")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    assert run.rec.outputs["appRoleArn"].endswith(f"/{attachment.inputs['role']}")


# -- in-cluster -------------------------------------------------------------------------------
def test_every_in_cluster_resource_uses_the_clusters_kubernetes_provider():
    for run in (dev(), prod()):
        (provider,) = run.rec.of_type("pulumi:providers:kubernetes")
        assert provider.name == "cluster-k8s"
        in_cluster = [r for r in run.rec.resources if r.type.startswith("kubernetes:")]
        assert len(in_cluster) >= 6
        for resource in in_cluster:
            assert resource.provider.startswith(provider.urn + "::"), resource.name
        # The provider waits for the admins' access (the creator has none).
        associations = run.rec.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        assert {a.urn for a in associations} <= run.depends_on(provider)


def test_gp3_is_the_default_encrypted_storage_class_and_gp2_is_demoted():
    run = dev()
    gp3 = run.one("kubernetes:storage.k8s.io/v1:StorageClass", "cluster-gp3").inputs
    assert gp3["metadata"]["name"] == "gp3"
    assert gp3["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert gp3["provisioner"] == "ebs.csi.aws.com"
    assert gp3["parameters"]["type"] == "gp3"
    assert gp3["parameters"]["encrypted"] == "true"
    assert gp3["parameters"]["kmsKeyId"] == EBS_KEY
    assert gp3["allowVolumeExpansion"] is True
    assert gp3["volumeBindingMode"] == "WaitForFirstConsumer"
    assert gp3["reclaimPolicy"] == "Delete"
    kubernetes_validate.validate(gp3, KUBERNETES_VERSION, strict=True)
    gp2 = run.one("kubernetes:storage.k8s.io/v1:StorageClassPatch", "cluster-gp2-not-default")
    assert gp2.inputs["metadata"]["name"] == "gp2"
    assert gp2.inputs["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == (
        "false"
    )
    prod_gp3 = prod().one("kubernetes:storage.k8s.io/v1:StorageClass", "cluster-gp3")
    assert prod_gp3.inputs["reclaimPolicy"] == "Retain"  # released prod volumes are kept


def test_namespaces_are_created_with_pod_security_labels():
    run = dev()
    namespaces = {
        n.inputs["metadata"]["name"]: n for n in run.rec.of_type("kubernetes:core/v1:Namespace")
    }
    assert set(namespaces) == {"apps", "observability", "platform-system"}
    system = namespaces["platform-system"].inputs["metadata"]["labels"]
    assert system["pod-security.kubernetes.io/enforce"] == "restricted"
    assert "elbv2.k8s.aws/pod-readiness-gate-inject" not in system
    apps = namespaces["apps"].inputs
    assert apps["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert apps["metadata"]["labels"]["pod-security.kubernetes.io/warn"] == "restricted"
    assert apps["metadata"]["labels"]["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    observability = namespaces["observability"].inputs["metadata"]["labels"]
    assert observability["pod-security.kubernetes.io/enforce"] == "privileged"
    kubernetes_validate.validate(apps, KUBERNETES_VERSION, strict=True)
    assert run.rec.outputs["namespaces"] == {"apps": "apps", "observability": "observability"}


def _releases(run: Run) -> dict[str, mockengine.RecordedResource]:
    return {r.inputs["chart"]: r for r in run.rec.of_type("kubernetes:helm.sh/v3:Release")}


@pytest.mark.parametrize("run", [dev, prod], ids=["dev", "prod"])
def test_every_release_has_an_exact_version_an_explicit_repository_and_requests(run):
    run = run()
    releases = _releases(run)
    assert releases
    for chart, release in releases.items():
        inputs = release.inputs
        assert re.fullmatch(r"\d+\.\d+\.\d+", inputs["version"]), (chart, inputs["version"])
        assert inputs["repositoryOpts"]["repo"] == CHART_REPOSITORIES[chart]
        assert inputs["repositoryOpts"]["repo"].startswith("https://")
        assert inputs["namespace"] == "kube-system"
        assert inputs["atomic"] is True
        requests = inputs["values"]["resources"]["requests"]
        assert requests["cpu"] and requests["memory"]
        groups = {g.urn for g in run.rec.of_type("aws:eks/nodeGroup:NodeGroup")}
        assert groups <= run.depends_on(release)  # pods need nodes to become ready


def test_load_balancer_controller_uses_pod_identity_with_the_reference_policy():
    run = dev()
    release = _releases(run)["aws-load-balancer-controller"].inputs
    assert release["version"] == CHART_VERSIONS["aws-load-balancer-controller"]
    values = release["values"]
    assert values["clusterName"] == "platform-test"
    assert values["region"] == "eu-west-1"  # pods cannot reach IMDS (hop limit 1)
    assert values["vpcId"] == "vpc-0test"
    account = values["serviceAccount"]
    assert account["name"] == "aws-load-balancer-controller" and account["create"] is True
    assert "annotations" not in account  # the association binds the role, not IRSA
    association = run.one(ASSOCIATION, "cluster-alb-controller")
    assert association.urn in run.depends_on(_releases(run)["aws-load-balancer-controller"])
    policy = run.one("aws:iam/policy:Policy", "cluster-alb-controller")
    assert json.loads(policy.inputs["policy"]) == cluster_policies.alb_controller_policy()
    (attached,) = _policy_arns(run, "cluster-alb-controller")
    assert attached.endswith(":policy/" + attached.rsplit("/", 1)[1])
    assert "cluster-alb-controller" in attached


def test_reference_alb_policy_is_the_upstream_document():
    document = cluster_policies.alb_controller_policy()
    actions = {a for s in document["Statement"] for a in s["Action"]}
    # Markers of the controller version the file belongs to (v2.11 capacity, v2.12 IPAM and
    # rule priorities): v2.12 calls SetRulePriorities on every Ingress rule change and
    # DescribeIpamPools at start, so a policy without them fails with AccessDenied.
    assert {
        "elasticloadbalancing:DescribeCapacityReservation",
        "elasticloadbalancing:ModifyCapacityReservation",
        "elasticloadbalancing:ModifyIpPools",
        "elasticloadbalancing:SetRulePriorities",
        "ec2:DescribeIpamPools",
        "ec2:GetSecurityGroupsForVpc",
    } <= actions
    # ModifyIpPools is a write: only on load balancers this cluster tagged, never unconditioned.
    (modify_ip_pools,) = [
        s for s in document["Statement"] if "elasticloadbalancing:ModifyIpPools" in s["Action"]
    ]
    assert "Condition" in modify_ip_pools
    # The source is a release tag, not a branch commit.
    assert "/blob/v2.12.0/" in cluster_policies.ALB_CONTROLLER_POLICY_SOURCE
    create_role = document["Statement"][0]
    assert create_role["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
    }
    # Fits a managed policy (6,144 characters without whitespace).
    assert len(json.dumps(document, separators=(",", ":"))) < 6144


def test_cluster_autoscaler_release_and_role_exist_exactly_when_enabled():
    assert "cluster-autoscaler" not in _releases(dev())
    assert not [r for r in dev().rec.of_type("aws:iam/role:Role") if "autoscaler" in r.name]
    run = prod()
    release = _releases(run)["cluster-autoscaler"].inputs
    pin = CLUSTER_AUTOSCALER_PINS[KUBERNETES_VERSION]  # the chart's own default image
    assert release["version"] == pin.chart
    assert release["values"]["image"] == {"tag": pin.image_tag}
    values = release["values"]
    assert values["autoDiscovery"] == {"clusterName": "platform-test"}
    assert values["awsRegion"] == "eu-west-1"
    assert values["rbac"]["serviceAccount"]["name"] == "cluster-autoscaler"
    policy = json.loads(
        run.one("aws:iam/rolePolicy:RolePolicy", "cluster-cluster-autoscaler-scaling").inputs[
            "policy"
        ]
    )
    scale = next(s for s in policy["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"])
    assert scale["Condition"]["StringEquals"] == {
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
        "aws:ResourceTag/k8s.io/cluster-autoscaler/platform-test": "owned",
    }
    describe = next(s for s in policy["Statement"] if s["Action"] == ["eks:DescribeNodegroup"])
    assert describe["Resource"] == (
        "arn:aws:eks:eu-west-1:123456789012:nodegroup/platform-test/*/*"
    )


# -- outputs ----------------------------------------------------------------------------------
def test_outputs_kubeconfig_is_secret_and_endpoint_comes_from_it():
    run = dev()
    assert "kubeconfig" in run.rec.secret_outputs
    kubeconfig = json.loads(run.rec.outputs["kubeconfig"])
    assert run.rec.outputs["endpoint"] == kubeconfig["clusters"][0]["cluster"]["server"]
    assert run.rec.outputs["endpoint"].startswith("https://")
    assert "endpoint" not in run.rec.secret_outputs
    assert run.rec.outputs["clusterName"] == "platform-test"


# -- validation -------------------------------------------------------------------------------
def _spec(**changes) -> NodeGroupSpec:
    return dataclasses.replace(DEV.node_groups[1], **changes)


# A pinned minor other than the cluster's (its kube-proxy does not match the control plane).
OTHER_MINOR = next(minor for minor in ADDON_VERSIONS if minor != KUBERNETES_VERSION)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"admin_role_arns": []}, "admin_role_arns"),
        ({"public_endpoint": True}, "public_access_cidrs"),
        ({"public_endpoint": True, "public_access_cidrs": ["0.0.0.0/0"]}, "0.0.0.0/0"),
        ({"public_access_cidrs": OFFICE}, "the endpoint is private-only"),
        ({"log_retention_days": 10}, "log_retention_days"),
        ({"imds_hop_limit": 3}, "imds_hop_limit"),
        ({"kubernetes_version": "1.31"}, "addon_versions"),
        ({"chart_versions": {**CHART_VERSIONS, "cluster-autoscaler": "9.x"}},
         "no ranges"),
        ({"chart_versions": {**CHART_VERSIONS, "aws-load-balancer-controller": "1.14.0",
                             "cluster-autoscaler": "9.54.0"}}, "committed IAM policy"),
        ({"addon_versions": {**ADDON_VERSIONS[KUBERNETES_VERSION],
                             "kube-proxy": ADDON_VERSIONS[OTHER_MINOR]["kube-proxy"]}},
         "kube-proxy"),
        ({"addon_versions": {**ADDON_VERSIONS[KUBERNETES_VERSION], "coredns": "latest"}},
         "coredns"),
        ({"node_groups": []}, "node_groups"),
        ({"node_groups": [_spec(), _spec()]}, "unique"),
        ({"node_groups": [_spec(instance_types=["m7g.large", "m7i.large"])]}, "mix"),
        ({"node_groups": [_spec(capacity_type="spot")]}, "capacityType 'spot'"),
        ({"node_groups": [_spec(min_size=3, desired_size=2)]}, "desiredSize 2 is outside"),
        ({"node_groups": [_spec(taints=[NodeTaint(key="a", effect="NoSchedule")])]},
         "EKS spells Kubernetes' NoSchedule as NO_SCHEDULE"),
        ({"node_groups": [_spec(name="Work_Load")]}, "no capitals or underscores"),
        ({"node_groups": [_spec(max_unavailable=101)]}, "maxUnavailable 101"),
        ({"node_groups": [_spec(labels={"role": "x" * 64})]}, "at most 63"),
        ({"admin_role_arns": ["arn:aws:sts::123456789012:assumed-role/admin/me"]},
         "not an assumed-role session"),
        ({"namespaces": ["default"]}, "namespaces"),
        ({"namespace_pod_security": {"missing": "baseline"}}, "namespace_pod_security"),
        ({"namespace_pod_security": {"apps": "strict"}}, "apps"),
    ],
)  # fmt: skip
def test_invalid_args_fail_with_the_field_name(changes, message):
    problems = validate(dataclasses.replace(DEV, **changes))
    assert any(message in problem for problem in problems), problems


def test_valid_args_have_no_problems():
    assert validate(DEV) == [] and validate(PROD) == []


def test_invalid_args_register_nothing():
    bad = dataclasses.replace(DEV, node_groups=[])
    with pytest.raises(ValueError):
        run_program(lambda: Cluster("cluster", bad), stack="test", config=CONFIG)
    assert mockengine.last_run.monitor is not None
    assert mockengine.last_run.monitor.recorded == []


def test_other_supported_versions_have_matching_pins():
    for version in ("1.33", "1.34"):
        assert validate(dataclasses.replace(DEV, kubernetes_version=version)) == []
        args = dataclasses.replace(DEV, kubernetes_version=version)
        assert args.resolved_addon_versions()["kube-proxy"].startswith(f"v{version}.")
        assert args.resolved_chart_versions()["cluster-autoscaler"]


def test_every_autoscaler_pin_runs_the_image_of_its_kubernetes_minor():
    from components.cluster.versions import ADDON_VERSIONS, CLUSTER_AUTOSCALER_PINS

    assert set(CLUSTER_AUTOSCALER_PINS) == set(ADDON_VERSIONS)
    for version, pin in CLUSTER_AUTOSCALER_PINS.items():
        assert re.fullmatch(r"v\d+\.\d+\.\d+", pin.image_tag), pin
        assert pin.image_tag.startswith(f"v{version}."), (version, pin)
        assert re.fullmatch(r"\d+\.\d+\.\d+", pin.chart), pin


def test_the_release_installs_the_pinned_autoscaler_image_for_the_cluster_version():
    for version in ("1.33", "1.34", "1.35"):
        args = dataclasses.replace(PROD, kubernetes_version=version)
        rec = run_program(lambda a=args: Cluster("cluster", a), stack="test", config=CONFIG)
        (release,) = [
            r
            for r in rec.of_type("kubernetes:helm.sh/v3:Release")
            if r.inputs["chart"] == "cluster-autoscaler"
        ]
        assert release.inputs["values"]["image"]["tag"].startswith(f"v{version}.")
