"""What a `Cluster` takes, and `validate(args)` applying the rules of `rules.py` to it before
anything is registered (pure: no pulumi-eks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.cluster.policies import ALB_CONTROLLER_POLICY_APP_VERSION
from components.cluster.pools import NodePoolSpec, node_pool_problems
from components.cluster.rules import (
    ADDON_VERSION,
    CAPACITY_TYPES,
    CHART_VERSION,
    CONTROLLER_REPLICAS,
    DEFAULT_DISK_SIZE_GIB,
    DISK_SIZE_GIB,
    IMDS_HOP_LIMITS,
    MAX_UNAVAILABLE,
    POD_SECURITY_LEVELS,
    RESERVED_NAMESPACES,
    admin_role_problems,
    architecture_problems,
    cidr_problems,
    cluster_name_problems,
    labels_problems,
    namespace_problems,
    node_group_name_problems,
    public_endpoint_problems,
    role_arn_problems,
    size_problems,
    taint_problems,
)
from components.cluster.versions import (
    ADDON_VERSIONS,
    ALB_CONTROLLER,
    CHART_REPOSITORIES,
    CLUSTER_AUTOSCALER_PINS,
    KARPENTER_KUBERNETES_VERSIONS,
    KARPENTER_VERSION,
    KUBERNETES_VERSION,
    REQUIRED_ADDONS,
    chart_versions,
)
from components.kubernetes_rules import label_problems
from components.logs import LOG_RETENTION_DAYS

__all__ = [
    "NODE_AUTOSCALERS",
    "ClusterArgs",
    "NodeGroupSpec",
    "NodeTaint",
    "node_group_problems",
    "validate",
]

NODE_AUTOSCALERS = ("none", "cluster-autoscaler", "karpenter")


@dataclass(frozen=True, kw_only=True)
class NodeTaint:
    """A Kubernetes taint on every node of a node group.

    Attributes:
        key: taint key (a label key).
        effect: NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE (EKS's spelling, not
            Kubernetes' `NoSchedule`).
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
        max_unavailable: nodes replaced at a time during rolling updates (1..100).
        labels: Kubernetes labels on every node.
        taints: Kubernetes taints on every node.
        disk_size_gib: root volume size (gp3, encrypted with the EBS key; 20..16384).
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
    disk_size_gib: int = DEFAULT_DISK_SIZE_GIB


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
        preview_role_arns: IAM roles that run `pulumi preview` of pull requests (the GitHub
            preview roles). Each gets an access entry with NO access policy and no
            Kubernetes groups: only the API discovery roles, which lets a preview validate
            against the cluster's OpenAPI schema and nothing else (every dry-run write is
            refused, and the Kubernetes provider then previews client-side). A pull request's
            code runs with this role, so it must never read a Secret or write an object.
        reader_role_arns: IAM roles that read every object in the cluster, Secrets included
            (AmazonEKSAdminViewPolicy), and write nothing: the drift check's role, whose
            refreshing preview reads what the stack manages. Trusted from the default branch
            only (reviewed code), never from a pull request.
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
            metrics-server and cluster-autoscaler; None uses the version table's row for
            `kubernetes_version` (`versions.chart_versions`).
        node_autoscaler: what adds and removes nodes: "karpenter" (NodePools from
            `node_pools`, its controller on `karpenter_node_group`), "cluster-autoscaler"
            (scales the managed node groups; their desired sizes are then left to it) or
            "none" (the node groups' sizes as given).
        node_pools: Karpenter NodePools (with `node_autoscaler="karpenter"` only; at least one).
        karpenter_node_group: the managed node group Karpenter's controller runs on (never on
            nodes it manages); None: the first of `node_groups`.
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
        controller_tags: tags the load balancer controller puts on what it creates in AWS
            (ALBs, target groups, security groups), which Pulumi's default tags never reach:
            pass the stack's tags so cost allocation and tag-based discovery see them.
    """

    cluster_name: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    admin_role_arns: Sequence[pulumi.Input[str]]
    preview_role_arns: Sequence[str] = ()
    reader_role_arns: Sequence[str] = ()
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
    node_autoscaler: str = "none"
    node_pools: Sequence[NodePoolSpec] = ()
    karpenter_node_group: str | None = None
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
    controller_tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def cluster_autoscaler(self) -> bool:
        return self.node_autoscaler == "cluster-autoscaler"

    @property
    def karpenter(self) -> bool:
        return self.node_autoscaler == "karpenter"

    def controller_node_group(self) -> NodeGroupSpec | None:
        """The managed node group Karpenter's controller is pinned to."""
        wanted = self.karpenter_node_group or (
            self.node_groups[0].name if self.node_groups else None
        )
        return next((g for g in self.node_groups if g.name == wanted), None)

    def resolved_addon_versions(self) -> dict[str, str]:
        if self.addon_versions is not None:
            return dict(self.addon_versions)
        return dict(ADDON_VERSIONS.get(self.kubernetes_version, {}))

    def resolved_chart_versions(self) -> dict[str, str]:
        if self.chart_versions is not None:
            return dict(self.chart_versions)
        return chart_versions(self.kubernetes_version)  # this minor's row of the table


def node_group_problems(spec: NodeGroupSpec) -> list[str]:
    """Every rule of one node group, in config terms."""
    problems = node_group_name_problems(spec.name)
    problems += architecture_problems(spec.instance_types)
    if spec.capacity_type not in CAPACITY_TYPES:
        problems.append(f"capacityType {spec.capacity_type!r}: one of {', '.join(CAPACITY_TYPES)}")
    problems += size_problems(spec.min_size, spec.desired_size, spec.max_size)
    low, high = MAX_UNAVAILABLE
    if not low <= spec.max_unavailable <= high:
        problems.append(f"maxUnavailable {spec.max_unavailable}: allowed {low}..{high}")
    low, high = DISK_SIZE_GIB
    if not low <= spec.disk_size_gib <= high:
        problems.append(f"diskSizeGib {spec.disk_size_gib}: allowed {low}..{high}")
    problems += labels_problems(spec.labels)
    for taint in spec.taints:
        problems += taint_problems(taint)
    return problems


def validate(args: ClusterArgs) -> list[str]:
    """Every problem with `args`, naming the field and what is allowed (empty when valid)."""
    problems = [f"cluster_name: {p}" for p in cluster_name_problems(args.cluster_name)]
    problems += [f"admin_role_arns: {p}" for p in admin_role_problems(args.admin_role_arns)]
    problems += [f"preview_role_arns: {p}" for p in role_arn_problems(args.preview_role_arns)]
    problems += [f"reader_role_arns: {p}" for p in role_arn_problems(args.reader_role_arns)]
    admins = {a for a in args.admin_role_arns if isinstance(a, str)}
    for key, roles in (("preview_role_arns", args.preview_role_arns),
                       ("reader_role_arns", args.reader_role_arns)):  # fmt: skip
        if both := sorted(set(roles) & admins):
            problems.append(f"{key}: {both} are admin_role_arns too; one role, one kind of access")
    if both := sorted(set(args.preview_role_arns) & set(args.reader_role_arns)):
        problems.append(
            f"preview_role_arns: {both} are reader_role_arns too; a pull request's role must "
            "not read Secrets"
        )
    problems += [
        f"public_access_cidrs: {p}"
        for p in cidr_problems(args.public_access_cidrs)
        + public_endpoint_problems(
            args.public_endpoint,
            list(args.public_access_cidrs),
            args.allow_public_access_from_anywhere,
        )
    ]
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(
            f"log_retention_days {args.log_retention_days}: one of {list(LOG_RETENTION_DAYS)}"
        )
    if args.imds_hop_limit not in IMDS_HOP_LIMITS:
        problems.append(f"imds_hop_limit {args.imds_hop_limit}: 1 or 2")
    low, high = CONTROLLER_REPLICAS
    if not low <= args.controller_replicas <= high:
        problems.append(f"controller_replicas {args.controller_replicas}: allowed {low}..{high}")
    problems += _version_problems(args)
    names = [spec.name for spec in args.node_groups]
    if not names or len(set(names)) != len(names):
        problems.append(f"node_groups {names}: at least one node group, unique names")
    for spec in args.node_groups:
        problems += [f"node_groups[{spec.name}]: {p}" for p in node_group_problems(spec)]
    problems += _namespace_problems(args)
    problems += _autoscaler_problems(args)
    return problems


def _autoscaler_problems(args: ClusterArgs) -> list[str]:
    if args.node_autoscaler not in NODE_AUTOSCALERS:
        return [f"node_autoscaler {args.node_autoscaler!r}: one of {', '.join(NODE_AUTOSCALERS)}"]
    if not args.karpenter:
        if args.node_pools:
            return [
                f"node_pools: {[p.name for p in args.node_pools]} given but node_autoscaler is "
                f"{args.node_autoscaler!r}; pools need karpenter"
            ]
        return []
    problems = []
    names = [pool.name for pool in args.node_pools]
    if not names or len(set(names)) != len(names):
        problems.append(f"node_pools {names}: at least one pool with karpenter, unique names")
    for pool in args.node_pools:
        problems += [f"node_pools[{pool.name}]: {p}" for p in node_pool_problems(pool)]
    if args.controller_node_group() is None:
        problems.append(
            f"karpenter_node_group {args.karpenter_node_group!r}: one of the node groups "
            f"{[g.name for g in args.node_groups]} (the controller never runs on its own nodes)"
        )
    if args.kubernetes_version not in KARPENTER_KUBERNETES_VERSIONS:
        problems.append(
            f"kubernetes_version {args.kubernetes_version!r}: Karpenter {KARPENTER_VERSION} "
            f"supports {', '.join(KARPENTER_KUBERNETES_VERSIONS)}"
        )
    return problems


def _version_problems(args: ClusterArgs) -> list[str]:
    problems = []
    addons = args.resolved_addon_versions()
    if set(addons) != REQUIRED_ADDONS:
        return [
            f"addon_versions {addons or args.kubernetes_version!r}: versions of "
            f"{sorted(REQUIRED_ADDONS)}; defaults exist for {sorted(ADDON_VERSIONS)}"
        ]
    for addon, version in addons.items():
        if not ADDON_VERSION.match(version):
            problems.append(f"addon_versions[{addon}] {version!r}: exact, like v1.2.3-eksbuild.1")
    if not addons["kube-proxy"].startswith(f"v{args.kubernetes_version}."):
        problems.append(
            f"addon_versions[kube-proxy] {addons['kube-proxy']!r}: a build for Kubernetes "
            f"{args.kubernetes_version}"
        )
    pin = CLUSTER_AUTOSCALER_PINS.get(args.kubernetes_version)
    if args.cluster_autoscaler and (
        pin is None or not pin.image_tag.startswith(f"v{args.kubernetes_version}.")
    ):
        problems.append(
            f"kubernetes_version {args.kubernetes_version!r}: one with a Cluster Autoscaler of "
            f"its minor: {sorted(CLUSTER_AUTOSCALER_PINS)}"
        )
    charts = args.resolved_chart_versions()
    if set(charts) != set(CHART_REPOSITORIES):
        return [
            *problems,
            f"chart_versions {charts}: exact versions of {sorted(CHART_REPOSITORIES)}",
        ]
    for chart, version in charts.items():
        if not CHART_VERSION.match(version):
            problems.append(
                f"chart_versions[{chart}] {version!r}: exact X.Y.Z (no ranges, no latest)"
            )
    # The committed controller IAM policy belongs to one controller minor (chart 1.N -> v2.N).
    expected = ALB_CONTROLLER_POLICY_APP_VERSION
    if "v2." + charts[ALB_CONTROLLER].split(".")[1] != expected:
        problems.append(
            f"chart_versions[{ALB_CONTROLLER}] {charts[ALB_CONTROLLER]!r}: a chart of controller "
            f"{expected}, the committed IAM policy's version; update policies with the chart"
        )
    return problems


def _namespace_problems(args: ClusterArgs) -> list[str]:
    problems = [f"system_namespace: {p}" for p in label_problems(args.system_namespace)]
    if args.system_namespace in RESERVED_NAMESPACES:
        problems.append(f"system_namespace {args.system_namespace!r} is reserved")
    names = list(args.namespaces)
    if len(set(names)) != len(names):
        problems.append(f"namespaces {names}: unique names")
    for namespace in names:
        problems += [
            f"namespaces: {p}" for p in namespace_problems(namespace, args.system_namespace)
        ]
    unknown = sorted(set(args.namespace_pod_security) - set(names))
    if unknown:
        problems.append(f"namespace_pod_security {unknown}: keys must be listed in namespaces")
    levels = {**args.namespace_pod_security, "<default>": args.default_pod_security}
    for namespace, level in levels.items():
        if level not in POD_SECURITY_LEVELS:
            problems.append(
                f"namespace_pod_security[{namespace}] {level!r}: one of {POD_SECURITY_LEVELS}"
            )
    return problems
