"""The cluster's rules, one function per fact (pure; settings applies the same ones).

Each returns a list of problems, empty when the value is fine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from components.cidr import covers_everything, source_range_problems
from components.cluster.versions import KUBERNETES_VERSIONS
from components.kubernetes_rules import label_problems, node_label_problems

__all__ = [
    "ADDON_VERSION",
    "CAPACITY_TYPES",
    "CHART_VERSION",
    "CONTROLLER_REPLICAS",
    "DEFAULT_DISK_SIZE_GIB",
    "DISK_SIZE_GIB",
    "IMDS_HOP_LIMITS",
    "LOG_TYPES",
    "MAX_NODE_GROUP_NAME",
    "MAX_UNAVAILABLE",
    "POD_SECURITY_LEVELS",
    "RESERVED_NAMESPACES",
    "TAINT_EFFECTS",
    "admin_role_problems",
    "ami_type",
    "architecture_problems",
    "cidr_problems",
    "cluster_name_problems",
    "kubernetes_version_problems",
    "labels_problems",
    "namespace_problems",
    "node_group_name_problems",
    "public_endpoint_problems",
    "role_arn_problems",
    "size_problems",
    "taint_problems",
]


LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
CAPACITY_TYPES = ("ON_DEMAND", "SPOT")
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
CONTROLLER_REPLICAS = (1, 3)  # more than one per zone of a 3-AZ cluster buys nothing
TAINT_EFFECTS = ("NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE")
RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
IMDS_HOP_LIMITS = (1, 2)
MAX_UNAVAILABLE = (1, 100)  # EKS update_config.max_unavailable
DISK_SIZE_GIB = (20, 16384)  # gp3 root volume; AL2023 needs 20
DEFAULT_DISK_SIZE_GIB = 40  # room for the image cache of a node running ~30 pods
MAX_NODE_GROUP_NAME = 31  # leaves room for the random suffix in 63

# Pods on every node before any workload: the DaemonSets of the node-level managed add-ons
# (vpc-cni's aws-node, kube-proxy, the EBS CSI node plugin, the Pod Identity agent), which
# tolerate every taint. kubelet's max-pods counts them, host network or not.
NODE_AGENTS = ("aws-node", "kube-proxy", "ebs-csi-node", "eks-pod-identity-agent")
# Deployments of the managed add-ons on the untainted nodes, at the add-ons' default replicas.
ADDON_DEPLOYMENT_REPLICAS = {"coredns": 2, "ebs-csi-controller": 2}
# The controllers this component installs, each at `controller_replicas`.
CONTROLLER_DEPLOYMENTS = ("aws-load-balancer-controller", "metrics-server")

_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")
_NODE_GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")  # exact; no ranges, no "latest"
ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
# Graviton families have a "g" right after the generation digit: m7g, c6gn, t4g, r8gd, x2gd.
_GRAVITON = re.compile(r"^[a-z]+\d+g[a-z]*\.")


def ami_type(instance_types: Sequence[str]) -> str:
    """AL2023 AMI type for the instance types: ARM for Graviton families, x86_64 otherwise."""
    arm = {bool(_GRAVITON.match(t)) for t in instance_types}
    if len(arm) != 1:
        raise ValueError(f"instance types {list(instance_types)} mix x86_64 and arm64 families")
    return "AL2023_ARM_64_STANDARD" if arm.pop() else "AL2023_x86_64_STANDARD"


def cluster_name_problems(name: str) -> list[str]:
    if _CLUSTER_NAME.match(name):
        return []
    return [f"cluster name {name!r}: 1..100 of [A-Za-z0-9-_], not starting with '-' or '_'"]


def node_group_name_problems(name: object) -> list[str]:
    if isinstance(name, str) and _NODE_GROUP_NAME.match(name):
        return []
    return [
        f"node group name {name!r}: lowercase letters, digits and '-', at most "
        f"{MAX_NODE_GROUP_NAME} (no capitals or underscores)"
    ]


def architecture_problems(instance_types: Sequence[str]) -> list[str]:
    if not instance_types:
        return ["at least one instance type"]
    try:
        ami_type(instance_types)
    except ValueError as exc:
        return [f"{exc}; one node group runs one architecture"]
    return []


def size_problems(min_size: int, desired_size: int, max_size: int) -> list[str]:
    if max_size < 1:
        return [f"maxSize {max_size} must be at least 1"]
    if min_size > max_size:
        return [f"minSize {min_size} is greater than maxSize {max_size}"]
    if not 0 <= min_size <= desired_size <= max_size:
        return [f"desiredSize {desired_size} is outside [minSize {min_size}, maxSize {max_size}]"]
    return []


def labels_problems(labels: Mapping[str, str]) -> list[str]:
    return [p for key, value in labels.items() for p in node_label_problems(key, value)]


def taint_problems(taint) -> list[str]:
    """Why a taint (key, value, effect) cannot go on a node group."""
    problems = [p for p in node_label_problems(taint.key, taint.value)]
    if taint.effect not in TAINT_EFFECTS:
        hint = {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}.get(taint.effect)
        problems.append(
            f"taint {taint.key!r} effect {taint.effect!r}: one of {', '.join(TAINT_EFFECTS)}"
            + (f" (EKS spells Kubernetes' {taint.effect} as {hint})" if hint else "")
        )
    return problems


def namespace_problems(namespace: str, system_namespace: str) -> list[str]:
    problems = label_problems(namespace)
    if namespace in RESERVED_NAMESPACES or namespace == system_namespace:
        problems.append(
            f"namespace {namespace!r} is reserved ({', '.join(sorted(RESERVED_NAMESPACES))}, "
            f"{system_namespace}); use your own, e.g. 'apps'"
        )
    return problems


def cidr_problems(cidrs: Sequence[str]) -> list[str]:
    """Source ranges of the API endpoints (`components.cidr.source_range_problems`)."""
    return source_range_problems(cidrs)


def public_endpoint_problems(
    public: bool, cidrs: Sequence[str], allow_from_anywhere: bool
) -> list[str]:
    if not public:
        return (
            [
                f"publicAccessCidrs {list(cidrs)} given but the endpoint is private-only; remove "
                "them or set endpointPublicAccess: true"
            ]
            if cidrs
            else []
        )
    if not cidrs:
        return [
            "publicAccessCidrs: required when endpointPublicAccess is true (e.g. your office or "
            "VPN egress range); or set endpointPublicAccess: false"
        ]
    if covers_everything(list(cidrs)) and not allow_from_anywhere:
        spelled = "0.0.0.0/0" if "0.0.0.0/0" in cidrs else f"{list(cidrs)} (together 0.0.0.0/0)"
        return [
            f"publicAccessCidrs: {spelled} opens the Kubernetes API to the internet; name your "
            "CIDRs, or opt out explicitly with allowPublicAccessFromAnywhere: true"
        ]
    return []


def admin_role_problems(arns: Sequence[object]) -> list[str]:
    if not arns:
        return ["at least one IAM role ARN (include the role that runs `pulumi up`)"]
    return role_arn_problems(arns)


def role_arn_problems(arns: Sequence[object]) -> list[str]:
    """Each entry an IAM role ARN (what an EKS access entry's principal must be)."""
    if isinstance(arns, str):
        return [f"{arns!r}: a list of IAM role ARNs, not one string"]
    duplicates = sorted({a for a in arns if isinstance(a, str) and list(arns).count(a) > 1})
    if duplicates:
        return [f"{duplicates}: each role once"]
    bad = [arn for arn in arns if not isinstance(arn, str) or not _ROLE_ARN.match(arn)]
    if not bad:
        return []
    hint = (
        "; use the role's ARN, not an assumed-role session"
        if any(":assumed-role/" in b for b in bad)
        else ""
    )
    return [f"{bad} are not IAM role ARNs (arn:aws:iam::<account>:role/<name>){hint}"]


def kubernetes_version_problems(version: object) -> list[str]:
    if version in KUBERNETES_VERSIONS:
        return []
    hint = (
        " (write it as a string: YAML reads 1.30 as the number 1.3)"
        if isinstance(version, float)
        else ""
    )
    return [
        f"unsupported Kubernetes version {version!r}{hint}; allowed (EKS standard support, "
        f"tested here): {', '.join(KUBERNETES_VERSIONS)}"
    ]
