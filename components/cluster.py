"""EKS cluster on pulumi-eks, with the defaults terraform-aws-eks has and pulumi-eks lacks.

* Control plane: private API endpoint (public only with named CIDRs), authentication mode `API`
  with access entries (no aws-auth ConfigMap, no implicit cluster-creator admin), KMS envelope
  encryption of Secrets, all five control-plane log types into a KMS-encrypted log group with
  retention, IAM OIDC provider for IRSA, upgrade policy STANDARD.
* Nodes: EKS managed node groups on AL2023 in the private subnets, each with a launch template
  that requires IMDSv2 (hop limit 1 by default, so pods cannot borrow the node role), encrypts
  its gp3 root volume with the EBS key and never associates a public IP. The node role has only
  the worker and ECR pull policies; the CNI policy goes to the vpc-cni add-on's IRSA role.
* Add-ons: EKS managed add-ons with pinned versions (vpc-cni with network policy enforcement,
  kube-proxy, eks-pod-identity-agent before the nodes; coredns and the EBS CSI driver after).
* In-cluster, through `self.provider`: a default encrypted gp3 StorageClass, namespaces with
  Pod Security Admission labels, and Helm releases of the AWS Load Balancer Controller,
  metrics-server and (optionally) Cluster Autoscaler, each with its own IRSA role.

pulumi-eks's `Cluster` is a remote component: under the mock engine it registers as a single
`eks:index:Cluster` with no children, so only its scalar outputs are used here. Node groups are
plain `aws.eks.NodeGroup`s, not `eks.ManagedNodeGroup`: the latter echoes its `cluster` resource
reference back as an output, which the mock engine cannot resolve, and the shared mocks' shape
for its `nodeGroup` output breaks the SDK's type check, so it cannot be tested offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NoReturn

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components import cluster_policies as policies
from components.hardening import NOBODY, container_security_context, pod_security_context
from components.iam import IrsaRole, irsa_role
from components.logs import LOG_RETENTION_DAYS

# Pinned to a version in EKS standard support through late 2026 (1.35: until 2027-03-27).
KUBERNETES_VERSION = "1.35"
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# EKS managed add-on versions per Kubernetes version: each is the default or latest build that
# `aws eks describe-addon-versions --kubernetes-version <v>` reported in 2026 (AWS add-on
# version tables; kube-proxy must match the control-plane minor).
ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.33": {
        "vpc-cni": "v1.21.1-eksbuild.7",
        "kube-proxy": "v1.33.10-eksbuild.2",
        "coredns": "v1.13.2-eksbuild.4",
        "aws-ebs-csi-driver": "v1.57.1-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    },
    "1.34": {
        "vpc-cni": "v1.21.1-eksbuild.7",
        "kube-proxy": "v1.34.6-eksbuild.2",
        "coredns": "v1.13.2-eksbuild.4",
        "aws-ebs-csi-driver": "v1.57.1-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    },
    "1.35": {
        "vpc-cni": "v1.21.1-eksbuild.7",
        "kube-proxy": "v1.35.3-eksbuild.2",
        "coredns": "v1.13.2-eksbuild.4",
        "aws-ebs-csi-driver": "v1.57.1-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    },
}
REQUIRED_ADDONS = frozenset(ADDON_VERSIONS[KUBERNETES_VERSION])

ALB_CONTROLLER = "aws-load-balancer-controller"
METRICS_SERVER = "metrics-server"
CLUSTER_AUTOSCALER = "cluster-autoscaler"
CHART_REPOSITORIES = {
    ALB_CONTROLLER: "https://aws.github.io/eks-charts",
    METRICS_SERVER: "https://kubernetes-sigs.github.io/metrics-server/",
    CLUSTER_AUTOSCALER: "https://kubernetes.github.io/autoscaler",
}
# Chart 1.12.0 runs controller v2.12.0, matching the committed reference IAM policy; chart
# 3.13.0 runs metrics-server 0.8.0.
CHART_VERSIONS = {ALB_CONTROLLER: "1.12.0", METRICS_SERVER: "3.13.0"}


@dataclass(frozen=True)
class AutoscalerPin:
    """Cluster Autoscaler chart and image for one Kubernetes minor (the minors must match)."""

    chart: str
    image_tag: str


# The image tag is set explicitly, not left to the chart: charts 9.54.0-9.55.0 say appVersion
# 1.35.0 but their values.yaml still runs v1.34.2. Each row is the chart's own default image
# (read from values.yaml at that chart tag), so the pinned pair is one the chart was tested with.
CLUSTER_AUTOSCALER_PINS = {
    "1.33": AutoscalerPin(chart="9.51.0", image_tag="v1.33.0"),
    "1.34": AutoscalerPin(chart="9.53.0", image_tag="v1.34.2"),
    "1.35": AutoscalerPin(chart="9.59.0", image_tag="v1.35.0"),
}

# Where each chart takes its pod- and container-level securityContext (the names differ:
# Cluster Autoscaler's `securityContext` is the *pod* one). Values read at the pinned versions.
CHART_SECURITY_CONTEXT_KEYS = {
    ALB_CONTROLLER: ("podSecurityContext", "securityContext"),
    METRICS_SERVER: ("podSecurityContext", "securityContext"),
    CLUSTER_AUTOSCALER: ("securityContext", "containerSecurityContext"),
}

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly")
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
TAINT_EFFECTS = ("NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE")
RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
_NODE_GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")  # exact; no ranges, no "latest"
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
# Graviton families have a "g" right after the generation digit: m7g, c6gn, t4g, r8gd, x2gd.
_GRAVITON = re.compile(r"^[a-z]+\d+g[a-z]*\.")


@dataclass(frozen=True, kw_only=True)
class NodeTaint:
    """A Kubernetes taint on every node of a node group.

    Attributes:
        key: taint key.
        effect: NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE.
        value: taint value (may be empty).
    """

    key: str
    effect: str
    value: str = ""


@dataclass(frozen=True, kw_only=True)
class NodeGroupSpec:
    """One EKS managed node group.

    Attributes:
        name: short name (lowercase letters, digits, hyphens; at most 31), the prefix of the
            physical node group name (a random suffix lets a replacement be created first).
        instance_types: EC2 instance types, all x86_64 or all Graviton (arm64); several similar
            types make SPOT capacity easier to find. The AL2023 AMI type follows from them.
        capacity_type: ON_DEMAND or SPOT.
        min_size: minimum nodes (0 allowed).
        max_size: maximum nodes.
        desired_size: initial nodes, within [min_size, max_size]. With the Cluster Autoscaler
            enabled later changes are ignored (the autoscaler owns it).
        max_unavailable: nodes replaced at a time during rolling updates (>= 1).
        labels: Kubernetes labels on every node.
        taints: Kubernetes taints on every node.
        disk_size_gib: root volume size (gp3, encrypted with the EBS key).
    """

    name: str
    instance_types: Sequence[str]
    capacity_type: str = "ON_DEMAND"
    min_size: int = 1
    max_size: int = 3
    desired_size: int = 2
    max_unavailable: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[NodeTaint] = ()
    disk_size_gib: int = 50


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    """Inputs of `Cluster`.

    Attributes:
        cluster_name: physical EKS cluster name, derived from the stack (e.g. `platform-prod`);
            pass the same value to `Network` so its subnet tags name this cluster. The control
            plane log group is `/aws/eks/<cluster_name>/cluster`.
        vpc_id: VPC of the cluster.
        private_subnet_ids: private subnets for the control-plane ENIs and every node (nodes
            never get public IPs; internet-facing load balancers find the public subnets by
            their `kubernetes.io/role/elb` tag).
        admin_role_arns: IAM roles given cluster-admin through access entries with
            AmazonEKSClusterAdminPolicy. Nobody else is admin (the cluster creator is not), so
            this must include the role that runs `pulumi up`: it deploys the in-cluster
            resources. IAM role ARNs, not assumed-role session ARNs.
        secrets_kms_key_arn: KMS key for envelope encryption of Kubernetes Secrets (cluster
            domain key). Cannot be changed after creation.
        log_kms_key_arn: KMS key of the control-plane log group (logs domain key).
        ebs_kms_key_arn: KMS key for node root volumes and gp3 persistent volumes (cluster
            domain key; its policy must allow EC2 via `kms:ViaService`).
        node_groups: managed node groups; at least one, unique names.
        kubernetes_version: control plane and node version; one of `ADDON_VERSIONS` unless
            `addon_versions` and `chart_versions` are given for it.
        public_endpoint: also expose the API endpoint publicly (private access is always on).
            Without it `pulumi up` must run where the private endpoint resolves (inside the
            VPC, or over VPN/peering), because it installs the in-cluster resources.
        public_access_cidrs: CIDRs allowed to reach the public endpoint; required with it.
        private_access_cidrs: CIDRs inside the VPC or reached over VPN/peering that may call
            the private API endpoint on 443 (where `pulumi up`, CI runners and operators run).
            The cluster security group admits only the nodes otherwise.
        allow_public_access_from_anywhere: permit `0.0.0.0/0` in `public_access_cidrs`.
        log_retention_days: retention of the control-plane log group (a CloudWatch value).
        imds_hop_limit: IMDSv2 PUT response hop limit on nodes; 1 keeps pods (one hop further)
            away from the node role's credentials. 2 only if a pod really needs IMDS.
        addon_versions: add-on name -> exact version for vpc-cni, kube-proxy, coredns,
            aws-ebs-csi-driver and eks-pod-identity-agent; None uses `ADDON_VERSIONS`.
        chart_versions: chart -> exact version for aws-load-balancer-controller,
            metrics-server and cluster-autoscaler; None uses `CHART_VERSIONS` plus the
            autoscaler chart matching `kubernetes_version`.
        cluster_autoscaler: install Cluster Autoscaler (and its IAM role); node groups' desired
            sizes are then left to it.
        controller_replicas: replicas of the load balancer controller and metrics-server (2
            for availability; 1 is enough for dev).
        namespaces: namespaces to create for workloads (never `default`, the kube-* ones or
            `system_namespace`).
        system_namespace: namespace for the platform's own jobs (database login bootstrap);
            always created, Pod Security `restricted`, no ALB readiness-gate injection.
        namespace_pod_security: namespace -> Pod Security Admission level enforced on it
            (privileged, baseline, restricted); others get `default_pod_security`. `warn` and
            `audit` are always `restricted`.
        default_pod_security: enforced level for namespaces not in `namespace_pod_security`.
        network_policy: have the VPC CNI enforce Kubernetes NetworkPolicies.
        node_ssm_access: attach AmazonSSMManagedInstanceCore to the node role (Session Manager
            shell on nodes; no SSH keys are ever configured).
        service_ipv4_cidr: Kubernetes service CIDR; None lets EKS choose. Creation-time only.
        egress: resources that give the private subnets their way to AWS APIs and the internet
            (`Network.egress`: NAT gateways, routes, VPC endpoints). Node groups and the
            Kubernetes provider depend on them: nodes can only join (pull images, reach STS)
            once egress exists, and on destroy everything in-cluster — whose Ingress
            finalizers delete ALBs through the ELB API — goes before egress does. Without it
            `pulumi destroy` can remove NAT first, leave the ALBs behind and fail on the VPC.
        demote_gp2: annotate EKS's pre-installed gp2 StorageClass as not default (EKS stopped
            marking it default in 1.30, but clusters upgraded from older versions still do).
            Turn off only if the cluster has no gp2 class.
        protect: prod: protect and retain the cluster, its log group and the namespaces, turn
            on EKS deletion protection and keep released gp3 volumes (`Retain`).
    """

    cluster_name: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    admin_role_arns: Sequence[pulumi.Input[str]]
    secrets_kms_key_arn: pulumi.Input[str]
    log_kms_key_arn: pulumi.Input[str]
    ebs_kms_key_arn: pulumi.Input[str]
    node_groups: Sequence[NodeGroupSpec]
    kubernetes_version: str = KUBERNETES_VERSION
    public_endpoint: bool = False
    public_access_cidrs: Sequence[str] = ()
    private_access_cidrs: Sequence[pulumi.Input[str]] = ()
    allow_public_access_from_anywhere: bool = False
    log_retention_days: int = 90
    imds_hop_limit: int = 1
    addon_versions: Mapping[str, str] | None = None
    chart_versions: Mapping[str, str] | None = None
    cluster_autoscaler: bool = False
    controller_replicas: int = 2
    namespaces: Sequence[str] = ()
    system_namespace: str = "platform-system"
    namespace_pod_security: Mapping[str, str] = field(default_factory=dict)
    default_pod_security: str = "baseline"
    network_policy: bool = True
    node_ssm_access: bool = False
    service_ipv4_cidr: str | None = None
    egress: Sequence[pulumi.Resource] = ()
    demote_gp2: bool = True
    protect: bool = False

    def resolved_addon_versions(self) -> dict[str, str]:
        if self.addon_versions is not None:
            return dict(self.addon_versions)
        return dict(ADDON_VERSIONS.get(self.kubernetes_version, {}))

    def resolved_chart_versions(self) -> dict[str, str]:
        if self.chart_versions is not None:
            return dict(self.chart_versions)
        pin = CLUSTER_AUTOSCALER_PINS.get(self.kubernetes_version)
        return {**CHART_VERSIONS, **({CLUSTER_AUTOSCALER: pin.chart} if pin else {})}


def ami_type(instance_types: Sequence[str]) -> str:
    """AL2023 AMI type for the instance types: ARM for Graviton families, x86_64 otherwise."""
    arm = {bool(_GRAVITON.match(t)) for t in instance_types}
    if len(arm) != 1:
        raise ValueError(f"instance types {list(instance_types)} mix x86_64 and arm64 families")
    return "AL2023_ARM_64_STANDARD" if arm.pop() else "AL2023_x86_64_STANDARD"


def harden_eks_children(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
    """Resource transform for pulumi-eks's children: no implicit cluster-creator admin.

    pulumi-eks hard-codes `bootstrapClusterCreatorAdminPermissions: true` on its inner
    `aws.eks.Cluster` and exposes no option for it; a transform reaches into the remote
    component (properties arrive with engine, i.e. camelCase, names). Admins come only from
    `ClusterArgs.admin_role_arns`.
    """
    if args.type_ != "aws:eks/cluster:Cluster":
        return pulumi.ResourceTransformResult(props=args.props, opts=args.opts)
    props = dict(args.props)
    access = dict(props.get("accessConfig") or {})
    access["authenticationMode"] = "API"
    access["bootstrapClusterCreatorAdminPermissions"] = False
    props["accessConfig"] = access
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


def validate(args: ClusterArgs) -> None:
    """Fail before anything is registered, naming the field, the value and what is allowed."""
    if not _CLUSTER_NAME.match(args.cluster_name):
        _fail("cluster_name", args.cluster_name, "1-100 of [A-Za-z0-9-_], not starting with -/_")
    if not args.admin_role_arns:
        _fail("admin_role_arns", [], "at least one IAM role ARN (include the deployer's)")
    cidrs = list(args.public_access_cidrs)
    if args.public_endpoint and not cidrs:
        _fail("public_access_cidrs", cidrs, "name the CIDRs allowed to reach the public endpoint")
    if args.public_endpoint and "0.0.0.0/0" in cidrs and not args.allow_public_access_from_anywhere:
        _fail("public_access_cidrs", cidrs, "0.0.0.0/0 needs allow_public_access_from_anywhere")
    if not args.public_endpoint and cidrs:
        _fail("public_access_cidrs", cidrs, "only meaningful with public_endpoint=True")
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        _fail("log_retention_days", args.log_retention_days, f"one of {sorted(LOG_RETENTION_DAYS)}")
    if args.imds_hop_limit not in (1, 2):
        _fail("imds_hop_limit", args.imds_hop_limit, "1 or 2")
    if args.controller_replicas < 1:
        _fail("controller_replicas", args.controller_replicas, ">= 1")
    _validate_versions(args)
    _validate_node_groups(args)
    _validate_namespaces(args)


def _fail(what: str, value: object, allowed: str) -> NoReturn:
    raise ValueError(f"ClusterArgs.{what}={value!r} is invalid: {allowed}")


def _validate_versions(args: ClusterArgs) -> None:
    addons = args.resolved_addon_versions()
    if set(addons) != REQUIRED_ADDONS:
        _fail(
            "addon_versions",
            addons or args.kubernetes_version,
            f"versions of {sorted(REQUIRED_ADDONS)}; defaults exist for {sorted(ADDON_VERSIONS)}",
        )
    for addon, version in addons.items():
        if not _ADDON_VERSION.match(version):
            _fail(f"addon_versions[{addon}]", version, "an exact version like v1.2.3-eksbuild.1")
    if not addons["kube-proxy"].startswith(f"v{args.kubernetes_version}."):
        _fail(
            "addon_versions[kube-proxy]",
            addons["kube-proxy"],
            f"a build for Kubernetes {args.kubernetes_version}",
        )
    charts = args.resolved_chart_versions()
    if set(charts) != set(CHART_REPOSITORIES):
        _fail("chart_versions", charts, f"exact versions of {sorted(CHART_REPOSITORIES)}")
    for chart, version in charts.items():
        if not _CHART_VERSION.match(version):
            _fail(f"chart_versions[{chart}]", version, "exact X.Y.Z (no ranges, no 'latest')")
    pin = CLUSTER_AUTOSCALER_PINS.get(args.kubernetes_version)
    if args.cluster_autoscaler and (
        pin is None or not pin.image_tag.startswith(f"v{args.kubernetes_version}.")
    ):
        _fail(
            "kubernetes_version",
            args.kubernetes_version,
            f"one with a Cluster Autoscaler of its minor: {sorted(CLUSTER_AUTOSCALER_PINS)}",
        )
    # The committed controller IAM policy belongs to one controller minor (chart 1.N -> v2.N).
    expected = policies.ALB_CONTROLLER_POLICY_APP_VERSION
    if "v2." + charts[ALB_CONTROLLER].split(".")[1] != expected:
        _fail(
            f"chart_versions[{ALB_CONTROLLER}]",
            charts[ALB_CONTROLLER],
            f"a chart of controller {expected}, the committed IAM policy's version; "
            "update cluster_policies together with the chart",
        )


def _validate_node_groups(args: ClusterArgs) -> None:
    names = [spec.name for spec in args.node_groups]
    if not names or len(set(names)) != len(names):
        _fail("node_groups", names, "at least one node group, unique names")
    for spec in args.node_groups:
        where = f"node_groups[{spec.name}]"
        if not _NODE_GROUP_NAME.match(spec.name):
            _fail(f"{where}.name", spec.name, "lowercase letters, digits, hyphens; at most 31")
        try:
            if not spec.instance_types:
                raise ValueError("at least one instance type")
            ami_type(spec.instance_types)
        except ValueError as exc:
            _fail(f"{where}.instance_types", list(spec.instance_types), str(exc))
        if spec.capacity_type not in ("ON_DEMAND", "SPOT"):
            _fail(f"{where}.capacity_type", spec.capacity_type, "ON_DEMAND or SPOT")
        sizes = (spec.min_size, spec.desired_size, spec.max_size)
        if not (0 <= spec.min_size <= spec.desired_size <= spec.max_size and spec.max_size >= 1):
            _fail(f"{where}.sizes", sizes, "0 <= min <= desired <= max, max >= 1")
        if not 1 <= spec.max_unavailable <= 100:
            _fail(f"{where}.max_unavailable", spec.max_unavailable, "1..100")
        if not 20 <= spec.disk_size_gib <= 16384:
            _fail(f"{where}.disk_size_gib", spec.disk_size_gib, "20..16384 GiB")
        for taint in spec.taints:
            if taint.effect not in TAINT_EFFECTS:
                _fail(f"{where}.taints[{taint.key}]", taint.effect, f"one of {TAINT_EFFECTS}")


def _validate_namespaces(args: ClusterArgs) -> None:
    if not _NAMESPACE.match(args.system_namespace) or args.system_namespace in RESERVED_NAMESPACES:
        _fail("system_namespace", args.system_namespace, "a DNS-1123 label, not a reserved one")
    if args.system_namespace in args.namespaces:
        _fail("namespaces", args.system_namespace, "not the platform's system_namespace")
    names = list(args.namespaces)
    if len(set(names)) != len(names):
        _fail("namespaces", names, "unique names")
    for namespace in names:
        if not _NAMESPACE.match(namespace) or namespace in RESERVED_NAMESPACES:
            _fail(
                "namespaces",
                namespace,
                f"a DNS-1123 label, not one of {sorted(RESERVED_NAMESPACES)}",
            )
    unknown = sorted(set(args.namespace_pod_security) - set(names))
    if unknown:
        _fail("namespace_pod_security", unknown, "keys must be listed in namespaces")
    levels = {**args.namespace_pod_security, "<default>": args.default_pod_security}
    for namespace, level in levels.items():
        if level not in POD_SECURITY_LEVELS:
            _fail(f"namespace_pod_security[{namespace}]", level, f"one of {POD_SECURITY_LEVELS}")


class Cluster(pulumi.ComponentResource):
    """Hardened EKS cluster with managed node groups, add-ons and cluster controllers.

    Outputs: `cluster_name`, `endpoint`, `oidc_provider_arn`, `oidc_issuer`, `kubeconfig`
    (secret), `cluster_security_group_id`, `node_security_group_id` (every node carries it:
    allow data stores from it), `node_role_arn`, `provider` (Kubernetes provider for
    everything in-cluster), `namespaces` (name -> Namespace), `namespace_names`,
    `node_groups` (name -> NodeGroup), `addons` (name -> Addon), `releases` (chart -> Release).
    `service_account_role(...)` makes IRSA roles for other components.
    """

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate(args)  # before registering anything
        super().__init__("platform:cluster:Cluster", name, None, opts)
        self.args = args
        addon_versions = args.resolved_addon_versions()
        chart_versions = args.resolved_chart_versions()
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        self._partition = aws.get_partition_output(opts=invoke_opts).partition
        self._region = aws.get_region_output(opts=invoke_opts).region
        self._account_id = aws.get_caller_identity_output(opts=invoke_opts).account_id

        self._control_plane(name, args)
        admin_grants = self._admins(name, args)
        node_role_policies = self._node_role(name, args)

        cni_role = self.service_account_role(
            f"{name}-vpc-cni",
            namespace="kube-system",
            service_account="aws-node",
            managed_policy_arns=[self._aws_policy("AmazonEKS_CNI_Policy")],
        )
        ebs_role = self.service_account_role(
            f"{name}-ebs-csi",
            namespace="kube-system",
            service_account="ebs-csi-controller-sa",
            inline_policies={
                "kms": pulumi.Output.from_input(args.ebs_kms_key_arn).apply(
                    lambda arn: json.dumps(policies.ebs_csi_kms_policy(arn))
                )
            },
            managed_policy_arns=[self._aws_policy("service-role/AmazonEBSCSIDriverPolicy")],
        )

        # With bootstrap_self_managed_addons off the cluster starts without networking, so the
        # node-level add-ons (DaemonSets) go first and the nodes wait for them; Deployments
        # (coredns, the EBS CSI controller) wait for the nodes, or they would sit DEGRADED.
        self.addons: dict[str, aws.eks.Addon] = {}
        cni_config = {"enableNetworkPolicy": "true"} if args.network_policy else None
        before_nodes = [
            self._addon(name, "vpc-cni", addon_versions, cni_role.arn, config=cni_config),
            self._addon(name, "kube-proxy", addon_versions),
            self._addon(name, "eks-pod-identity-agent", addon_versions),
        ]
        self.node_groups = self._node_groups(
            name, args, [*before_nodes, *node_role_policies, *args.egress]
        )
        after_nodes = list(self.node_groups.values())
        coredns = self._addon(name, "coredns", addon_versions, depends_on=after_nodes)
        ebs_csi = self._addon(
            name, "aws-ebs-csi-driver", addon_versions, ebs_role.arn, depends_on=after_nodes
        )

        # Everything in-cluster goes through this provider; it waits for the admin access
        # entries, since the cluster creator has no implicit access, and for egress, so that
        # `pulumi destroy` deletes every in-cluster object (and the ALBs their finalizers
        # remove) before NAT and the endpoints go.
        api_rules = self._private_api_access(name, args)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.eks.kubeconfig_json,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*admin_grants, *api_rules, *args.egress]
            ),
        )
        self._namespaces(name, args)
        self._storage_classes(name, args, ebs_csi)
        self.releases: dict[str, k8s.helm.v3.Release] = {}
        self._controllers(name, args, chart_versions, [*after_nodes, coredns])

        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": self.endpoint,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
                "kubeconfig": self.kubeconfig,
                "cluster_security_group_id": self.cluster_security_group_id,
                "node_security_group_id": self.node_security_group_id,
                "node_role_arn": self.node_role_arn,
                "namespaces": self.namespace_names,
            }
        )

    # -- control plane ------------------------------------------------------------------------
    def _control_plane(self, name: str, args: ClusterArgs) -> None:
        # Created first so EKS finds it instead of making its own without KMS or retention.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        self.eks = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.kubernetes_version,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            vpc_id=args.vpc_id,
            private_subnet_ids=args.private_subnet_ids,
            endpoint_private_access=True,
            endpoint_public_access=args.public_endpoint,
            public_access_cidrs=list(args.public_access_cidrs) if args.public_endpoint else None,
            authentication_mode=eks.AuthenticationMode.API,
            encryption_config_key_arn=args.secrets_kms_key_arn,
            enabled_cluster_log_types=list(LOG_TYPES),
            create_oidc_provider=True,
            kubernetes_service_ip_address_range=args.service_ipv4_cidr,
            deletion_protection=args.protect,
            # No default self-managed node group, no aws-auth, no add-ons of pulumi-eks's own:
            # node groups and every add-on are managed below, with pinned versions.
            skip_default_node_group=True,
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=[log_group],
                transforms=[harden_eks_children],
            ),
        )
        # The physical name, but only once the cluster exists (its kubeconfig is known), so
        # everything naming the cluster waits for it.
        self.cluster_name: pulumi.Output[str] = self.eks.kubeconfig_json.apply(
            lambda _: args.cluster_name
        )
        self.endpoint: pulumi.Output[str] = self.eks.kubeconfig.apply(_api_server)
        self.oidc_provider_arn: pulumi.Output[str] = self.eks.oidc_provider_arn
        self.oidc_issuer: pulumi.Output[str] = self.eks.oidc_issuer
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(self.eks.kubeconfig_json)
        self.cluster_security_group_id: pulumi.Output[str] = self.eks.cluster_security_group_id
        self.node_security_group_id: pulumi.Output[str] = self.eks.node_security_group_id

    def _admins(self, name: str, args: ClusterArgs) -> list[pulumi.Resource]:
        admin_policy = self._partition.apply(
            lambda p: f"arn:{p}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        )
        grants: list[pulumi.Resource] = []
        for index, principal in enumerate(args.admin_role_arns):
            key = _role_key(principal, index)
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{key}",
                cluster_name=self.cluster_name,
                principal_arn=principal,
                type="STANDARD",
                opts=pulumi.ResourceOptions(parent=self),
            )
            grants.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{key}",
                    cluster_name=self.cluster_name,
                    principal_arn=entry.principal_arn,
                    policy_arn=admin_policy,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return grants

    # -- nodes --------------------------------------------------------------------------------
    def _node_role(self, name: str, args: ClusterArgs) -> list[pulumi.Resource]:
        role = aws.iam.Role(
            f"{name}-node",
            description=f"EKS nodes of {args.cluster_name}",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        managed = [
            *NODE_POLICIES,
            *(["AmazonSSMManagedInstanceCore"] if args.node_ssm_access else []),
        ]
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=role.name,
                policy_arn=self._aws_policy(policy),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for policy in managed
        ]
        self.node_role_arn: pulumi.Output[str] = role.arn
        return attachments

    def _node_groups(
        self, name: str, args: ClusterArgs, depends_on: list[pulumi.Resource]
    ) -> dict[str, aws.eks.NodeGroup]:
        groups: dict[str, aws.eks.NodeGroup] = {}
        for spec in args.node_groups:
            template = aws.ec2.LaunchTemplate(
                f"{name}-{spec.name}",
                description=f"{args.cluster_name} node group {spec.name}",
                update_default_version=True,
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    http_put_response_hop_limit=args.imds_hop_limit,
                    instance_metadata_tags="disabled",
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name="/dev/xvda",  # AL2023 root device
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=spec.disk_size_gib,
                            volume_type="gp3",
                            encrypted="true",
                            kms_key_id=args.ebs_kms_key_arn,
                            delete_on_termination="true",
                        ),
                    )
                ],
                # Only pulumi-eks's node security group: it already allows the control plane
                # and node-to-node traffic, and exactly one security group on a node may carry
                # the cluster's `kubernetes.io/cluster/<name>` tag or the load balancer
                # controller refuses to manage target security group rules.
                network_interfaces=[
                    aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                        associate_public_ip_address="false",
                        delete_on_termination="true",
                        security_groups=[self.node_security_group_id],
                    )
                ],
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type=kind, tags={"Name": f"{args.cluster_name}-{spec.name}"}
                    )
                    for kind in ("instance", "volume")
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            groups[spec.name] = aws.eks.NodeGroup(
                f"{name}-{spec.name}",
                cluster_name=self.cluster_name,
                node_group_name_prefix=f"{spec.name}-",
                version=args.kubernetes_version,
                node_role_arn=self.node_role_arn,
                subnet_ids=args.private_subnet_ids,
                ami_type=ami_type(spec.instance_types),
                capacity_type=spec.capacity_type,
                instance_types=list(spec.instance_types),
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=spec.min_size,
                    max_size=spec.max_size,
                    desired_size=spec.desired_size,
                ),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(
                    max_unavailable=spec.max_unavailable
                ),
                labels=dict(spec.labels),
                taints=[
                    aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value, effect=t.effect)
                    for t in spec.taints
                ],
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                    id=template.id, version=template.latest_version.apply(str)
                ),
                node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=depends_on,
                    # The autoscaler owns the desired size once it runs.
                    ignore_changes=["scalingConfig.desiredSize"] if args.cluster_autoscaler else [],
                ),
            )
        return groups

    def _addon(
        self,
        name: str,
        addon: str,
        versions: Mapping[str, str],
        role_arn: pulumi.Input[str] | None = None,
        *,
        config: dict | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> aws.eks.Addon:
        resource = aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=self.cluster_name,
            addon_name=addon,
            addon_version=versions[addon],
            service_account_role_arn=role_arn,
            configuration_values=json.dumps(config) if config else None,
            # The add-on's configuration is declared here; drift inside the cluster is reset.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        self.addons[addon] = resource
        return resource

    # -- in-cluster ---------------------------------------------------------------------------
    def _private_api_access(
        self, name: str, args: ClusterArgs
    ) -> list[aws.vpc.SecurityGroupIngressRule]:
        """HTTPS to the private API endpoint from the named ranges (deployers, CI, VPN)."""
        return [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-{index}",
                security_group_id=self.cluster_security_group_id,
                description="Kubernetes API (private endpoint) from deployers and operators",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for index, cidr in enumerate(args.private_access_cidrs)
        ]

    def _namespaces(self, name: str, args: ClusterArgs) -> None:
        self.namespaces: dict[str, k8s.core.v1.Namespace] = {}
        for namespace in args.namespaces:
            level = args.namespace_pod_security.get(namespace, args.default_pod_security)
            self.namespaces[namespace] = self._namespace(
                name,
                namespace,
                level,
                # ALB readiness gates: a rolling update waits until new pods are healthy in the
                # target group, so rollouts behind the ALB drop nothing.
                {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"},
                args.protect,
            )
        self.system_namespace = self._namespace(
            name, args.system_namespace, "restricted", {}, args.protect
        )
        self.namespace_names: dict[str, pulumi.Output[str]] = {
            ns: resource.metadata.name for ns, resource in self.namespaces.items()
        }

    def _namespace(
        self, name: str, namespace: str, level: str, labels: dict[str, str], protect: bool
    ) -> k8s.core.v1.Namespace:
        return k8s.core.v1.Namespace(
            f"{name}-ns-{namespace}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=namespace,
                labels={
                    "pod-security.kubernetes.io/enforce": level,
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                    **labels,
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, protect=protect),
        )

    def _storage_classes(self, name: str, args: ClusterArgs, ebs_csi: aws.eks.Addon) -> None:
        in_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="gp3",
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "kmsKeyId": args.ebs_kms_key_arn,
                "csi.storage.k8s.io/fstype": "ext4",
            },
            allow_volume_expansion=True,
            # Volumes are created in the zone the pod is scheduled to.
            volume_binding_mode="WaitForFirstConsumer",
            reclaim_policy="Retain" if args.protect else "Delete",
            opts=pulumi.ResourceOptions.merge(
                in_cluster, pulumi.ResourceOptions(depends_on=[ebs_csi])
            ),
        )
        if args.demote_gp2:
            # EKS installs gp2 (in-tree, unencrypted unless the account default says so); a
            # server-side-apply patch owns just this annotation, forced past EKS's field manager,
            # so that claims without a class land on encrypted gp3.
            k8s.storage.v1.StorageClassPatch(
                f"{name}-gp2-not-default",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                    name="gp2",
                    annotations={
                        "storageclass.kubernetes.io/is-default-class": "false",
                        "pulumi.com/patchForce": "true",
                    },
                ),
                opts=in_cluster,
            )

    def _controllers(
        self,
        name: str,
        args: ClusterArgs,
        charts: Mapping[str, str],
        depends_on: list[pulumi.Resource],
    ) -> None:
        """The cluster's controllers, in this order (see the module docstring for why):

        1. AWS Load Balancer Controller: its webhooks intercept Pods (readiness gates) and
           Ingresses cluster-wide with `failurePolicy: Fail`, so it must be running first.
        2. metrics-server and Cluster Autoscaler, after it: their Services and Pods are then
           never created while the controller's webhook endpoints have no ready pod.
        """
        # Pods cannot reach IMDS (hop limit 1), so region and VPC are given explicitly.
        alb_policy = aws.iam.Policy(
            f"{name}-alb-controller",
            description=f"AWS Load Balancer Controller of {args.cluster_name} (reference policy)",
            policy=json.dumps(policies.alb_controller_policy(), separators=(",", ":")),
            opts=pulumi.ResourceOptions(parent=self),
        )
        alb_role = self.service_account_role(
            f"{name}-alb-controller",
            namespace="kube-system",
            service_account=ALB_CONTROLLER,
            managed_policy_arns=[alb_policy.arn],
        )
        pdb = {"maxUnavailable": 1} if args.controller_replicas > 1 else {}
        alb_controller = self._release(
            name,
            ALB_CONTROLLER,
            charts,
            {
                "clusterName": self.cluster_name,
                "region": self._region,
                "vpcId": args.vpc_id,
                "replicaCount": args.controller_replicas,
                "serviceAccount": _service_account(ALB_CONTROLLER, alb_role.arn),
                "podDisruptionBudget": pdb,
                "resources": _resources("100m", "128Mi", "256Mi"),
                # Only Ingress is used. The Service mutator (a Fail-closed webhook on every
                # Service CREATE) would make any Service creation fail whenever the
                # controller has no ready pod: during install, upgrades and destroy.
                "enableServiceMutatorWebhook": False,
            },
            depends_on,
        )
        after_controller = [*depends_on, alb_controller]
        self._release(
            name,
            METRICS_SERVER,
            charts,
            {
                "replicas": args.controller_replicas,
                "podDisruptionBudget": {
                    "enabled": args.controller_replicas > 1,
                    "maxUnavailable": 1,
                },
                "resources": _resources("100m", "200Mi", "400Mi"),
            },
            after_controller,
        )
        if not args.cluster_autoscaler:
            return
        autoscaler_policy = pulumi.Output.all(
            self._partition, self._region, self._account_id
        ).apply(
            lambda v: json.dumps(
                policies.cluster_autoscaler_policy(args.cluster_name, v[0], v[1], v[2])
            )
        )
        autoscaler_role = self.service_account_role(
            f"{name}-cluster-autoscaler",
            namespace="kube-system",
            service_account=CLUSTER_AUTOSCALER,
            inline_policies={"scaling": autoscaler_policy},
        )
        self._release(
            name,
            CLUSTER_AUTOSCALER,
            charts,
            {
                "cloudProvider": "aws",
                "awsRegion": self._region,
                "autoDiscovery": {"clusterName": self.cluster_name},
                "image": {"tag": CLUSTER_AUTOSCALER_PINS[args.kubernetes_version].image_tag},
                "rbac": {
                    "serviceAccount": _service_account(CLUSTER_AUTOSCALER, autoscaler_role.arn)
                },
                "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste"},
                "resources": _resources("100m", "300Mi", "600Mi"),
            },
            after_controller,
        )

    def _release(
        self,
        name: str,
        chart: str,
        versions: Mapping[str, str],
        values: dict,
        depends_on: list[pulumi.Resource],
    ) -> k8s.helm.v3.Release:
        pod_key, container_key = CHART_SECURITY_CONTEXT_KEYS[chart]
        hardened = {
            pod_key: pod_security_context(uid=NOBODY),
            container_key: container_security_context(),
        }
        release = k8s.helm.v3.Release(
            f"{name}-{chart}",
            name=chart,
            chart=chart,
            version=versions[chart],
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORIES[chart]),
            namespace="kube-system",
            values={**values, **hardened},
            # A failed install or upgrade rolls back instead of leaving a half-applied release.
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=depends_on),
        )
        self.releases[chart] = release
        return release

    # -- helpers ------------------------------------------------------------------------------
    def service_account_role(
        self,
        resource_name: str,
        *,
        namespace: str,
        service_account: str,
        inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
        managed_policy_arns: Sequence[pulumi.Input[str]] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> IrsaRole:
        """IRSA role trusted by this cluster's OIDC provider for exactly one service account.

        Other components (application data access, observability) call this with
        `opts=pulumi.ResourceOptions(parent=<their component>)`; the default parent is the
        cluster. Annotate the service account with `eks.amazonaws.com/role-arn: <result>.arn`.
        """
        return irsa_role(
            resource_name,
            oidc_provider_arn=self.oidc_provider_arn,
            oidc_issuer=self.oidc_issuer,
            namespace=namespace,
            service_account=service_account,
            inline_policies=inline_policies,
            managed_policy_arns=managed_policy_arns,
            opts=opts or pulumi.ResourceOptions(parent=self),
        )

    def _aws_policy(self, policy: str) -> pulumi.Output[str]:
        return self._partition.apply(lambda p: f"arn:{p}:iam::aws:policy/{policy}")


def _api_server(kubeconfig: object) -> str:
    config = json.loads(kubeconfig) if isinstance(kubeconfig, str) else kubeconfig
    return config["clusters"][0]["cluster"]["server"]  # type: ignore[index]


def _role_key(principal: pulumi.Input[str], index: int) -> str:
    """A stable resource-name key for an admin role: its name when known, else its position."""
    if isinstance(principal, str):
        return re.sub(r"[^A-Za-z0-9-]", "-", principal.rsplit("/", 1)[-1]).lower()
    return str(index)


def _service_account(name: str, role_arn: pulumi.Input[str]) -> dict:
    return {"create": True, "name": name, "annotations": {"eks.amazonaws.com/role-arn": role_arn}}


def _resources(cpu: str, memory: str, memory_limit: str) -> dict:
    # Requests for scheduling; a memory limit but no CPU limit (no throttling of controllers).
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}
