"""Whole-stack EKS properties for dev, uat and prod, asserted over every resource of a type.

The recordings come from running the committed Pulumi.<env>.yaml through the real program
under the mock engine (tests/conftest.py); expected values come from the validated settings.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pulumi.runtime import MockResourceArgs

from components.cluster.versions import (
    ADDON_VERSIONS,
    CHART_SECURITY_CONTEXT_KEYS,
    KARPENTER_CHARTS,
)
from components.hardening import is_hardened_pod
from components.observability import Namespaces
from infra.offline.mockengine import ACCOUNT_ID, PlatformMocks, RecordedResource, Recording
from tests.helpers import strings_in
from tests.pod_identity import ASSOCIATION, association_of, expected_trust

EKS = "eks:index:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
NAMESPACE = "kubernetes:core/v1:Namespace"
K8S_PROVIDER = "pulumi:providers:kubernetes"

LOG_TYPES = {"api", "audit", "authenticator", "controllerManager", "scheduler"}
ADDONS = {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent"}
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
# Kinds that live outside namespaces; everything else in-cluster must name a namespace.
CLUSTER_SCOPED_KINDS = {
    "Namespace",
    "StorageClass",
    "StorageClassPatch",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "PriorityClass",
    "IngressClass",
    "CustomResourceDefinition",
    "NodePool",
    "EC2NodeClass",
}


# -- helpers ----------------------------------------------------------------------------------
def _eks(recording: Recording) -> RecordedResource:
    (cluster,) = recording.of_type(EKS)
    return cluster


def _eks_outputs(recording: Recording, settings) -> dict[str, Any]:
    """What the (mock) cloud answered for the remote eks.Cluster: SG ids, OIDC, kubeconfig.

    pulumi-eks registers no children under mocks, so its outputs are not in the recording;
    the same deterministic mocks that ran the program reproduce them from type and name.
    """
    cluster = _eks(recording)
    _, outputs = PlatformMocks(settings.region).new_resource(
        MockResourceArgs(cluster.type, cluster.name, cluster.inputs, custom=cluster.custom)
    )
    return outputs


def _private_subnet_ids(recording: Recording) -> set[str]:
    """The cluster's VPC's private tier (not the replica region's recovery site)."""
    subnets = [
        s for s in recording.of_type("aws:ec2/subnet:Subnet") if s.name.startswith("network-")
    ]
    private = {s.id for s in subnets if s.inputs["tags"]["tier"] == "private"}
    assert private
    return private


def _key_arn(recording: Recording, domain: str) -> str:
    arn = recording.outputs["kmsKeyArns"][domain]
    assert arn.startswith("arn:aws:kms:") and ":key/" in arn  # a CMK, not an AWS alias
    return arn


def _dependencies(recording: Recording, resource: RecordedResource) -> set[str]:
    """URNs `resource` waits for, directly or through the resources it waits for."""
    index, seen, todo = recording.by_urn(), set(), list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        if urn in index:
            todo.extend(index[urn].dependencies)
    return seen


def _trust(role: RecordedResource) -> dict:
    return json.loads(role.inputs["assumeRolePolicy"])


def _pod_roles(recording: Recording) -> list[RecordedResource]:
    """Every role a pod assumes (trusted by EKS Pod Identity or, were there one, IRSA)."""
    return [
        role
        for role in recording.of_type(ROLE)
        if any(
            "Federated" in s.get("Principal", {})
            or s.get("Principal", {}).get("Service") == "pods.eks.amazonaws.com"
            for s in _trust(role)["Statement"]
        )
    ]


def _pod_subject(role: RecordedResource) -> str:
    """`<namespace>:<service account>` a Pod Identity role's trust names."""
    (statement,) = _trust(role)["Statement"]
    tags = statement["Condition"]["StringEquals"]
    return (
        f"{tags['aws:RequestTag/kubernetes-namespace']}:"
        f"{tags['aws:RequestTag/kubernetes-service-account']}"
    )


def _cluster_arn(settings) -> str:
    return f"arn:aws:eks:{settings.region}:{ACCOUNT_ID}:cluster/{settings.name_prefix}"


def _k8s_kind(resource: RecordedResource) -> str:
    return resource.type.rsplit(":", 1)[-1]


def _in_cluster(recording: Recording) -> list[RecordedResource]:
    resources = [r for r in recording.resources if r.type.startswith("kubernetes:")]
    assert resources
    return resources


# -- control plane ----------------------------------------------------------------------------
def test_secrets_are_encrypted_with_the_cluster_cmk(recording):
    assert _eks(recording).inputs["encryptionConfigKeyArn"] == _key_arn(recording, "cluster")


def test_control_plane_sends_all_five_log_types(recording):
    assert set(_eks(recording).inputs["enabledClusterLogTypes"]) == LOG_TYPES


def test_authentication_mode_is_api_and_oidc_is_on(recording):
    inputs = _eks(recording).inputs
    assert inputs["authenticationMode"] == "API"
    assert inputs["createOidcProvider"] is True
    assert recording.outputs["oidcProviderArn"].startswith("arn:aws:iam::")


def test_private_endpoint_always_and_public_endpoint_only_as_configured(recording, settings):
    inputs = _eks(recording).inputs
    assert inputs["endpointPrivateAccess"] is True
    assert inputs["endpointPublicAccess"] is settings.cluster.endpoint_public_access
    if settings.environment == "prod":
        assert inputs["endpointPublicAccess"] is False
    if not inputs["endpointPublicAccess"]:
        assert not inputs.get("publicAccessCidrs")
        return
    cidrs = inputs["publicAccessCidrs"]
    assert cidrs and cidrs == settings.cluster.public_access_cidrs
    if not settings.cluster.allow_public_access_from_anywhere:
        assert "0.0.0.0/0" not in cidrs


def test_control_plane_log_group_exists_first_with_cmk_and_retention(recording, settings):
    cluster = _eks(recording)
    name = f"/aws/eks/{cluster.inputs['name']}/cluster"
    (group,) = [
        g for g in recording.of_type("aws:cloudwatch/logGroup:LogGroup") if g.inputs["name"] == name
    ]
    assert group.inputs["kmsKeyId"] == _key_arn(recording, "logs")
    assert group.inputs["retentionInDays"] == settings.cluster.log_retention_days
    # Otherwise EKS creates the group itself, unencrypted and kept forever.
    assert group.urn in cluster.dependencies


def test_upgrade_policy_standard_and_version_from_settings(recording, settings):
    inputs = _eks(recording).inputs
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["version"] == settings.cluster.version


# -- node groups ------------------------------------------------------------------------------
def _node_groups(recording: Recording, settings) -> dict[str, RecordedResource]:
    groups = recording.of_type(NODE_GROUP)
    assert groups
    by_name = {g.inputs["nodeGroupNamePrefix"].removesuffix("-"): g for g in groups}
    assert set(by_name) == set(settings.cluster.node_groups)
    return by_name


def _launch_template(recording: Recording, group: RecordedResource) -> RecordedResource:
    template_id = group.inputs["launchTemplate"]["id"]
    (template,) = [t for t in recording.of_type(LAUNCH_TEMPLATE) if t.id == template_id]
    return template


def test_every_node_group_is_al2023_in_the_private_subnets_sized_by_settings(recording, settings):
    private = _private_subnet_ids(recording)
    for name, group in _node_groups(recording, settings).items():
        spec = settings.cluster.node_groups[name]
        inputs = group.inputs
        assert inputs["amiType"].startswith("AL2023_"), name
        assert inputs["version"] == settings.cluster.version, name
        assert set(inputs["subnetIds"]) == private, name
        assert inputs["scalingConfig"] == {
            "minSize": spec.min_size,
            "maxSize": spec.max_size,
            "desiredSize": spec.desired_size,
        }, name
        assert inputs["instanceTypes"] == spec.instance_types, name


def test_every_node_launch_template_requires_imdsv2_encrypts_gp3_and_has_no_public_ip(
    recording, settings
):
    key = _key_arn(recording, "cluster")
    node_sg = _eks_outputs(recording, settings)["nodeSecurityGroupId"]
    for name, group in _node_groups(recording, settings).items():
        template = _launch_template(recording, group).inputs
        metadata = template["metadataOptions"]
        assert metadata["httpTokens"] == "required", name
        assert metadata["httpPutResponseHopLimit"] == settings.cluster.imds_hop_limit, name
        volumes = template["blockDeviceMappings"]
        assert volumes, name
        for volume in volumes:
            ebs = volume["ebs"]
            assert ebs["volumeType"] == "gp3", name
            assert ebs["encrypted"] == "true", name
            assert ebs.get("kmsKeyId") == key, name
        interfaces = template["networkInterfaces"]
        assert interfaces, name
        for interface in interfaces:
            assert interface["associatePublicIpAddress"] == "false", name
            assert interface["securityGroups"] == [node_sg], name


def test_spot_capacity_only_outside_prod_and_as_configured(recording, settings):
    groups = _node_groups(recording, settings)
    for name, group in groups.items():
        assert group.inputs["capacityType"] == settings.cluster.node_groups[name].capacity_type
    spot = [n for n, g in groups.items() if g.inputs["capacityType"] == "SPOT"]
    if settings.environment == "prod":
        assert spot == []
    assert spot == [n for n, s in settings.cluster.node_groups.items() if s.capacity_type == "SPOT"]


def test_autoscaler_owns_desired_size_exactly_where_cluster_autoscaler_runs(recording, settings):
    for name, group in _node_groups(recording, settings).items():
        ignored = "scalingConfig.desiredSize" in group.ignore_changes
        assert ignored is (settings.cluster.node_autoscaler == "cluster-autoscaler"), name


# -- add-ons and Helm releases ----------------------------------------------------------------
def test_addons_are_exactly_the_five_with_pinned_builds_for_the_version(recording, settings):
    addons = {a.inputs["addonName"]: a for a in recording.of_type(ADDON)}
    assert set(addons) == ADDONS
    assert len(recording.of_type(ADDON)) == len(ADDONS)
    for name, addon in addons.items():
        version = addon.inputs["addonVersion"]
        assert ADDON_VERSION.match(version), f"{name}: {version}"
        assert version == ADDON_VERSIONS[settings.cluster.version][name]
    assert addons["kube-proxy"].inputs["addonVersion"].startswith(f"v{settings.cluster.version}.")


def test_coredns_waits_for_every_node_group(recording, settings):
    (coredns,) = [a for a in recording.of_type(ADDON) if a.inputs["addonName"] == "coredns"]
    waits_for = _dependencies(recording, coredns)
    for name, group in _node_groups(recording, settings).items():
        assert group.urn in waits_for, f"coredns would sit DEGRADED without node group {name}"


def test_every_helm_release_is_pinned_from_an_https_repository_with_requests(recording):
    releases = recording.of_type(RELEASE)
    assert releases
    for release in releases:
        inputs = release.inputs
        assert SEMVER.match(inputs["version"]), f"{release.name}: {inputs['version']!r}"
        if inputs["chart"].startswith("oci://"):  # Karpenter: an OCI reference, no repository
            assert inputs["chart"] == KARPENTER_CHARTS[release.inputs["name"]], release.name
            assert "repositoryOpts" not in inputs, release.name
            if release.inputs["name"] == "karpenter-crd":
                continue  # CRDs only: no workload to size
        else:
            assert inputs["repositoryOpts"]["repo"].startswith("https://"), release.name
        # Every workload the chart runs is sized: each `resources` block requests both.
        blocks = list(_resource_blocks(inputs["values"]))
        assert blocks, release.name
        for block in blocks:
            requests = block.get("requests", {})
            assert requests.get("cpu") and requests.get("memory"), (release.name, block)


def _resource_blocks(values):
    if isinstance(values, dict):
        for key, value in values.items():
            requests = value.get("requests", {}) if isinstance(value, dict) else {}
            if key == "resources" and requests and "storage" not in requests:
                yield value
            else:
                yield from _resource_blocks(value)
    elif isinstance(values, list):
        for item in values:
            yield from _resource_blocks(item)


def test_cluster_autoscaler_and_its_role_exist_exactly_where_it_is_the_node_autoscaler(
    recording, settings
):
    releases = [r for r in recording.of_type(RELEASE) if r.inputs["chart"] == "cluster-autoscaler"]
    roles = [
        r for r in _pod_roles(recording) if _pod_subject(r) == "kube-system:cluster-autoscaler"
    ]
    expected = 1 if settings.cluster.node_autoscaler == "cluster-autoscaler" else 0
    assert (len(releases), len(roles)) == (expected, expected)
    if settings.environment in ("uat", "prod"):
        assert expected == 0  # Karpenter there (issue 17), never both
    if releases:
        account = releases[0].inputs["values"]["rbac"]["serviceAccount"]
        assert account == {"create": True, "name": "cluster-autoscaler"}
        # The release waits for the role's association: pods start with credentials.
        assert association_of(recording, roles[0]).urn in _dependencies(recording, releases[0])


# -- in-cluster objects -----------------------------------------------------------------------
def test_default_storage_class_is_encrypted_gp3_with_the_cluster_cmk(recording):
    classes = recording.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    defaults = [
        c
        for c in classes
        if c.inputs["metadata"].get("annotations", {}).get(DEFAULT_CLASS) == "true"
    ]
    assert len(defaults) == 1
    parameters = defaults[0].inputs["parameters"]
    assert defaults[0].inputs["provisioner"] == "ebs.csi.aws.com"
    assert parameters["type"] == "gp3"
    assert parameters["encrypted"] == "true"
    assert parameters.get("kmsKeyId") == _key_arn(recording, "cluster")
    # Nothing else (e.g. EKS's pre-installed gp2) is left claiming to be the default.
    patches = recording.of_type("kubernetes:storage.k8s.io/v1:StorageClassPatch")
    assert all(p.inputs["metadata"]["annotations"][DEFAULT_CLASS] == "false" for p in patches)


def test_every_configured_namespace_exists(recording, settings):
    names = {n.inputs["metadata"]["name"] for n in recording.of_type(NAMESPACE)}
    observability = set(Namespaces().levels())
    assert names == {*settings.cluster.namespaces, "platform-system", *observability}
    assert {s.namespace for s in settings.services} <= names


def test_no_workload_object_lands_in_the_default_namespace(recording):
    namespaced = [r for r in _in_cluster(recording) if _k8s_kind(r) not in CLUSTER_SCOPED_KINDS]
    assert any(r.type == "kubernetes:apps/v1:Deployment" for r in namespaced)
    for resource in namespaced:
        if resource.type == RELEASE:
            namespace = resource.inputs.get("namespace")
        else:
            namespace = resource.inputs.get("metadata", {}).get("namespace")
        # No namespace means the provider's default: `default`.
        assert namespace and namespace != "default", f"{resource.name} would go to default"


def test_every_kubernetes_resource_uses_the_clusters_provider(recording, settings):
    (provider,) = recording.of_type(K8S_PROVIDER)
    assert recording.by_urn()[provider.parent].type == "platform:cluster:Cluster"
    # The provider talks to this stack's cluster, not to an ambient kubeconfig.
    kubeconfig = _eks_outputs(recording, settings)["kubeconfigJson"]
    assert json.loads(provider.inputs["kubeconfig"]) == json.loads(kubeconfig)
    for resource in _in_cluster(recording):
        assert resource.provider.rsplit("::", 1)[0] == provider.urn, resource.name


def test_every_workload_role_is_pod_identity_for_exactly_one_service_account(recording, settings):
    roles = _pod_roles(recording)
    # Exactly these service accounts may assume an AWS role, nothing else in the cluster.
    expected = {
        "kube-system:aws-node",
        "kube-system:ebs-csi-controller-sa",
        "kube-system:aws-load-balancer-controller",
        "platform-system:db-logins",
        "monitoring:cloudwatch-exporter",
        *{"cluster-autoscaler": ["kube-system:cluster-autoscaler"],
          "karpenter": ["kube-system:karpenter"]}.get(settings.cluster.node_autoscaler, []),
        *(f"{s.namespace}:{s.name}" for s in settings.services),
    }  # fmt: skip
    assert {_pod_subject(r) for r in roles} == expected
    by_addon = {"kube-system:aws-node", "kube-system:ebs-csi-controller-sa"}
    for role in roles:
        namespace, account = _pod_subject(role).split(":")
        # No IRSA exception exists: every trust is AWS's Pod Identity shape, this cluster only.
        assert _trust(role) == expected_trust(
            ACCOUNT_ID, _cluster_arn(settings), namespace, account
        ), role.name
        if _pod_subject(role) in by_addon:
            continue
        association = association_of(recording, role)
        assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
            namespace,
            account,
        )
        assert association.inputs["disableSessionTags"] is False
    subjects = [_pod_subject(r) for r in roles]
    assert len(set(subjects)) == len(subjects), "two roles for one service account"
    associations = [(a.inputs["namespace"], a.inputs["serviceAccount"])
                    for a in recording.of_type(ASSOCIATION)]  # fmt: skip
    assert len(associations) == len(expected) - len(by_addon) == len(set(associations))
    addons = {a.inputs["addonName"]: a for a in recording.of_type(ADDON)}
    for name, account in (("vpc-cni", "aws-node"), ("aws-ebs-csi-driver", "ebs-csi-controller-sa")):
        (association,) = addons[name].inputs["podIdentityAssociations"]
        assert association["serviceAccount"] == account


def test_no_service_account_carries_an_irsa_annotation(recording):
    for resource in recording.resources:
        assert "eks.amazonaws.com/role-arn" not in json.dumps(resource.inputs), resource.name


def test_kubeconfig_is_exported_only_as_a_secret(recording):
    assert "kubeconfig" in recording.secret_outputs
    kubeconfig = recording.outputs["kubeconfig"]
    assert json.loads(kubeconfig)["users"]
    for key, value in recording.outputs.items():
        if key in recording.secret_outputs:
            continue
        for text in strings_in(value):
            assert kubeconfig not in text, f"output {key} leaks the kubeconfig"
            assert '"users"' not in text, f"output {key} leaks credentials"


def test_private_api_endpoint_admits_https_from_the_vpc_and_the_provider_waits_for_it(
    recording, settings
):
    rules = [
        r
        for r in recording.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.name.startswith("cluster-api-")
    ]
    expected = [settings.network.cidr, *settings.cluster.private_access_cidrs]
    assert sorted(r.inputs["cidrIpv4"] for r in rules) == sorted(expected)
    assert all((r.inputs["fromPort"], r.inputs["toPort"]) == (443, 443) for r in rules)
    (provider,) = recording.of_type("pulumi:providers:kubernetes")
    assert {r.urn for r in rules} <= set(provider.dependencies)


def test_application_objects_wait_for_the_load_balancer_controller(recording):
    (controller,) = [
        r
        for r in recording.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "aws-load-balancer-controller"
    ]
    ingresses = recording.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    assert ingresses
    for ingress in ingresses:
        chain = [ingress, *recording.ancestors(ingress)]
        assert any(controller.urn in r.dependencies for r in chain), ingress.name


# -- install and destroy order ----------------------------------------------------------------
def _release(recording: Recording, chart: str) -> RecordedResource | None:
    found = [r for r in recording.of_type(RELEASE) if r.inputs["chart"] == chart]
    return found[0] if found else None


def _waits_for(recording: Recording, resource: RecordedResource) -> set[str]:
    """What `resource` waits for, also through its components (children wait for them)."""
    chain = [resource, *recording.ancestors(resource)]
    return set().union(*(_dependencies(recording, r) for r in chain))


GATED_NAMESPACE_LABEL = ("elbv2.k8s.aws/pod-readiness-gate-inject", "enabled")
POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def test_what_the_load_balancer_controllers_webhooks_intercept_waits_for_it_and_nothing_else(
    recording,
):
    """Chart 1.12.0's webhooks: Ingress is Fail-closed everywhere, pods are mutated (fail-open)
    only in readiness-gate namespaces, the Service mutator is off. Those objects wait for
    the controller; the other releases install beside it, not after it."""
    controller = _release(recording, "aws-load-balancer-controller")
    assert controller is not None
    assert controller.inputs["values"]["enableServiceMutatorWebhook"] is False
    assert "webhookNamespaceSelectors" not in controller.inputs["values"]  # the label decides
    gated = {
        n.inputs["metadata"]["name"]
        for n in recording.of_type(NAMESPACE)
        if n.inputs["metadata"].get("labels", {}).get(GATED_NAMESPACE_LABEL[0])
        == GATED_NAMESPACE_LABEL[1]
    }
    assert gated  # the workload namespaces
    intercepted = recording.of_type("kubernetes:networking.k8s.io/v1:Ingress") + [
        r
        for r in recording.resources
        if r.type.split(":")[-1] in POD_KINDS
        and r.inputs.get("metadata", {}).get("namespace") in gated
    ]
    assert any(r.type.endswith(":Deployment") for r in intercepted)
    for resource in intercepted:
        assert controller.urn in _waits_for(recording, resource), resource.name
    for release in recording.of_type(RELEASE):
        if release is not controller:
            assert controller.urn not in _waits_for(recording, release), release.name


def test_every_release_waits_for_nodes_dns_and_volumes(recording):
    """An atomic release fails when its pods cannot become Ready within its timeout."""
    needed = {r.urn for r in recording.of_type(NODE_GROUP)}
    needed |= {r.urn for r in recording.of_type(ADDON) if r.inputs["addonName"] == "coredns"}
    observability = {"aws-ebs-csi-driver"}
    for release in recording.of_type(RELEASE):
        waits = _waits_for(recording, release)
        assert needed <= waits, release.name
        if release.inputs["namespace"] != "kube-system":  # the ones with volumes
            addons = {r.inputs["addonName"] for r in recording.of_type(ADDON) if r.urn in waits}
            assert observability <= addons, release.name
            (gp3,) = recording.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
            assert gp3.urn in waits, release.name


def test_cluster_autoscaler_image_minor_equals_the_cluster_minor(recording, settings):
    release = _release(recording, "cluster-autoscaler")
    if release is None:
        assert settings.cluster.node_autoscaler != "cluster-autoscaler"
        return
    tag = release.inputs["values"]["image"]["tag"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), tag
    assert tag.startswith(f"v{settings.cluster.version}."), (tag, settings.cluster.version)


def test_every_cluster_add_on_chart_runs_hardened_pods(recording):
    """Non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp and
    a read-only root filesystem, through the keys each chart really reads at its pinned version."""
    for release in recording.of_type(RELEASE):
        chart = release.inputs["chart"]
        if chart not in CHART_SECURITY_CONTEXT_KEYS:
            continue
        pod_key, container_key = CHART_SECURITY_CONTEXT_KEYS[chart]
        if container_key is None:
            continue  # Karpenter: its template fixes the container context (test_karpenter)
        values = release.inputs["values"]
        assert is_hardened_pod(values[pod_key], values[container_key]), chart


def test_in_cluster_layer_is_destroyed_before_the_networks_egress(recording):
    """On destroy the Ingress finalizer deletes ALBs through the ELB API, so NAT, private routes
    and endpoints must outlive everything in the cluster; on create, nodes need them to join."""
    egress = {
        r.urn
        for r in recording.resources
        if r.name.startswith("network-")  # the cluster's VPC (not the recovery site's)
        and (
            r.type in ("aws:ec2/natGateway:NatGateway", "aws:ec2/vpcEndpoint:VpcEndpoint")
            or (r.type == "aws:ec2/route:Route" and r.inputs.get("natGatewayId"))
        )
    }
    assert egress
    (provider,) = recording.of_type(K8S_PROVIDER)
    assert egress <= _dependencies(recording, provider)
    for group in recording.of_type(NODE_GROUP):
        assert egress <= _dependencies(recording, group), group.name


def test_admins_get_cluster_admin_and_previewers_only_discovery(recording, settings):
    """Exactly: one entry per named role; cluster-admin for the admins; read-all (no writes)
    for the drift check's role; for the pull-request preview roles an entry with no access
    policy and no Kubernetes groups (the API discovery roles only: a preview's dry-run writes
    are refused and it previews client-side)."""
    entries = {
        e.inputs["principalArn"]: e for e in recording.of_type("aws:eks/accessEntry:AccessEntry")
    }
    config = settings.cluster
    admins, previewers, readers = (
        config.admin_role_arns,
        config.preview_role_arns,
        config.reader_role_arns,
    )
    assert previewers and readers
    # Karpenter's nodes join through their role's EC2_LINUX entry (no policy, no groups).
    nodes = {p for p, e in entries.items() if e.inputs["type"] == "EC2_LINUX"}
    assert len(nodes) == (1 if settings.cluster.node_autoscaler == "karpenter" else 0)
    assert set(entries) - nodes == set(admins) | set(previewers) | set(readers)
    for principal, entry in entries.items():
        assert entry.inputs["type"] == ("EC2_LINUX" if principal in nodes else "STANDARD")
        assert not entry.inputs.get("kubernetesGroups")
    associations = recording.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    granted = {
        a.inputs["principalArn"]: a.inputs["policyArn"].rsplit("/", 1)[1] for a in associations
    }
    assert granted == {
        **dict.fromkeys(admins, "AmazonEKSClusterAdminPolicy"),
        **dict.fromkeys(readers, "AmazonEKSAdminViewPolicy"),  # the drift check: no writes
    }
    assert len(associations) == len(granted)
    for association in associations:
        assert association.inputs["accessScope"] == {"type": "cluster"}
    (provider,) = [
        p for p in recording.of_type("pulumi:providers:kubernetes") if p.name == "cluster-k8s"
    ]
    assert provider.inputs["clusterIdentifier"] == settings.name_prefix
