"""Karpenter's node pools: what a pool may launch, its rules, and the custom resources.

Pure (no Pulumi, no pulumi-eks): the settings layer applies the same rules, and the manifests
are plain dicts a test validates against the pinned CRDs' schemas (tests/fixtures/crds).

A pool launches the cross product of its instance families and sizes (Karpenter's
`karpenter.k8s.aws/instance-family` and `instance-size` requirements are ANDed), so the set of
types is known offline: the capacity rules judge it, and the cost model prices the pool's
ceiling from it. `limits` (vCPUs, memory) stop Karpenter launching more: the cost ceiling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from components.aws_catalog import ec2_instance_types
from components.cluster.rules import TAINT_EFFECTS, ami_type, labels_problems, taint_problems
from components.cluster.versions import KARPENTER_API, KARPENTER_NODE_CLASS_API

__all__ = [
    "CAPACITY_TYPES",
    "CONSOLIDATION_POLICIES",
    "MAX_CPU_LIMIT",
    "NodePoolSpec",
    "architecture",
    "node_class_manifest",
    "node_pool_manifest",
    "node_pool_problems",
]

CAPACITY_TYPES = ("on-demand", "spot")  # Karpenter's spelling (karpenter.sh/capacity-type)
CONSOLIDATION_POLICIES = ("WhenEmptyOrUnderutilized", "WhenEmpty")
# Karpenter spells taint effects as Kubernetes does.
_EFFECTS = dict(zip(TAINT_EFFECTS, ("NoSchedule", "NoExecute", "PreferNoSchedule"), strict=True))
_DURATION = re.compile(r"^(\d+(s|m|h))+$")  # Go durations as the CRD's pattern allows them
_BUDGET = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")  # the CRD's pattern for budget nodes
_POOL_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_CPU_LIMIT = 1000  # vCPUs: a typo guard, far above any stack here


@dataclass(frozen=True, kw_only=True)
class NodePoolSpec:
    """One Karpenter NodePool.

    Attributes:
        name: NodePool name (a DNS label); nodes carry `karpenter.sh/nodepool: <name>`.
        instance_families: EC2 families it may launch (e.g. m6i, m7i), all x86_64 or all
            Graviton.
        instance_sizes: sizes it may launch (e.g. large, xlarge); every family x size must be
            a real EC2 type.
        capacity_types: "on-demand" and/or "spot" (prod: on-demand only, a floor). With both,
            Karpenter prefers spot and falls back to on-demand.
        cpu_limit: vCPUs all nodes of the pool may have together; Karpenter launches nothing
            beyond it (the pool's cost ceiling, with `memory_limit_gib`).
        memory_limit_gib: memory (GiB) all nodes of the pool may have together.
        consolidation_policy: WhenEmptyOrUnderutilized (replace or remove underused nodes) or
            WhenEmpty (remove only empty ones).
        consolidate_after: how long a node must be consolidatable before Karpenter acts
            (a Go duration, e.g. "5m").
        disruption_budget: nodes of the pool Karpenter may disrupt at once, voluntarily
            (consolidation, drift, expiry): a count or a percentage ("10%"). Drains respect
            PodDisruptionBudgets on top of it.
        expire_after: node lifetime; older nodes are replaced (fresh AMIs, no long-lived
            drift), e.g. "720h". Karpenter drains them within the budget.
        labels: Kubernetes labels on every node of the pool.
        taints: taints on every node (EKS spelling of the effect, as for node groups).
        disk_size_gib: root volume (gp3, encrypted with the cluster's EBS key); each pool has
            an EC2NodeClass of its own name for it.
    """

    name: str
    instance_families: Sequence[str]
    instance_sizes: Sequence[str]
    capacity_types: Sequence[str] = ("on-demand",)
    cpu_limit: int
    memory_limit_gib: int
    consolidation_policy: str = "WhenEmptyOrUnderutilized"
    consolidate_after: str = "5m"
    disruption_budget: str = "10%"
    expire_after: str = "720h"
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence = ()
    disk_size_gib: int = 40

    @property
    def instance_types(self) -> list[str]:
        """Every type the pool may launch (families x sizes)."""
        return [f"{f}.{s}" for f in self.instance_families for s in self.instance_sizes]


def node_pool_problems(spec: NodePoolSpec) -> list[str]:
    """Every rule of one pool, in config terms."""
    problems = []
    if not _POOL_NAME.match(spec.name):
        problems.append(f"node pool name {spec.name!r}: a DNS label (lowercase, digits, '-')")
    if not spec.instance_families or not spec.instance_sizes:
        problems.append("instanceFamilies and instanceSizes: at least one of each")
    else:
        unknown = [t for t in spec.instance_types if t not in ec2_instance_types()]
        if unknown:
            problems.append(
                f"instanceFamilies x instanceSizes: {unknown} are not EC2 instance types; every "
                "family must come in every size"
            )
        try:
            ami_type(spec.instance_types)
        except ValueError as exc:
            problems.append(f"instanceFamilies: {exc}; one pool runs one architecture")
    types = list(spec.capacity_types)
    if not types or any(t not in CAPACITY_TYPES for t in types) or len(set(types)) != len(types):
        problems.append(f"capacityTypes {types}: one or both of {', '.join(CAPACITY_TYPES)}")
    if not 1 <= spec.cpu_limit <= MAX_CPU_LIMIT:
        problems.append(f"cpuLimit {spec.cpu_limit}: allowed 1..{MAX_CPU_LIMIT} vCPUs")
    if spec.memory_limit_gib < 1:
        problems.append(f"memoryLimitGib {spec.memory_limit_gib}: at least 1")
    if spec.consolidation_policy not in CONSOLIDATION_POLICIES:
        problems.append(
            f"consolidationPolicy {spec.consolidation_policy!r}: one of "
            f"{', '.join(CONSOLIDATION_POLICIES)}"
        )
    for key, value in (("consolidateAfter", spec.consolidate_after),
                       ("expireAfter", spec.expire_after)):  # fmt: skip
        if not _DURATION.match(value):
            problems.append(f"{key} {value!r}: a duration like 30s, 5m, 720h")
    if not _BUDGET.match(spec.disruption_budget) or spec.disruption_budget in ("0", "0%"):
        problems.append(
            f"disruptionBudget {spec.disruption_budget!r}: nodes at a time, a count or a "
            "percentage like 10% (not 0: expiry and drift would never replace a node)"
        )
    problems += labels_problems(spec.labels)
    for taint in spec.taints:
        problems += taint_problems(taint)
    return problems


def architecture(spec: NodePoolSpec) -> str:
    return "arm64" if ami_type(spec.instance_types).startswith("AL2023_ARM") else "amd64"


def node_pool_manifest(spec: NodePoolSpec) -> dict:
    """The NodePool (karpenter.sh/v1) for `spec`, using the EC2NodeClass of the same name."""
    template_spec: dict = {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": spec.name},
        "requirements": [
            {
                "key": "karpenter.k8s.aws/instance-family",
                "operator": "In",
                "values": list(spec.instance_families),
            },
            {
                "key": "karpenter.k8s.aws/instance-size",
                "operator": "In",
                "values": list(spec.instance_sizes),
            },
            {
                "key": "karpenter.sh/capacity-type",
                "operator": "In",
                "values": list(spec.capacity_types),
            },
            {"key": "kubernetes.io/arch", "operator": "In", "values": [architecture(spec)]},
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        ],
        "expireAfter": spec.expire_after,
    }
    if spec.taints:
        template_spec["taints"] = [
            {"key": t.key, "value": t.value, "effect": _EFFECTS[t.effect]} for t in spec.taints
        ]
    return {
        "apiVersion": KARPENTER_API,
        "kind": "NodePool",
        "metadata": {"name": spec.name},
        "spec": {
            "template": {
                "metadata": {"labels": dict(spec.labels)},
                "spec": template_spec,
            },
            "limits": {"cpu": str(spec.cpu_limit), "memory": f"{spec.memory_limit_gib}Gi"},
            "disruption": {
                "consolidationPolicy": spec.consolidation_policy,
                "consolidateAfter": spec.consolidate_after,
                # One budget for every voluntary reason (consolidation, drift, expiry):
                # PodDisruptionBudgets still gate each drain.
                "budgets": [{"nodes": spec.disruption_budget}],
            },
        },
    }


def node_class_manifest(
    name: str,
    *,
    cluster_name: object,
    instance_profile: object,
    kms_key_arn: object,
    ami_alias: str,
    imds_hop_limit: int,
    disk_size_gib: int,
    tags: Mapping[str, object],
) -> dict:
    """The EC2NodeClass of one pool: AL2023, IMDSv2 only, encrypted gp3 root, the cluster's
    discovery tags for subnets and security groups, the stack's tags."""
    discovery = [{"tags": {"karpenter.sh/discovery": cluster_name}}]
    return {
        "apiVersion": KARPENTER_NODE_CLASS_API,
        "kind": "EC2NodeClass",
        "metadata": {"name": name},
        "spec": {
            "amiSelectorTerms": [{"alias": ami_alias}],
            # A profile the stack owns (the controller creates none, so it gets no
            # iam:CreateInstanceProfile and friends).
            "instanceProfile": instance_profile,
            "subnetSelectorTerms": discovery,
            "securityGroupSelectorTerms": discovery,
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": imds_hop_limit,
                "httpTokens": "required",
            },
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",  # AL2023 root device
                    "rootVolume": True,
                    "ebs": {
                        "volumeSize": f"{disk_size_gib}Gi",
                        "volumeType": "gp3",
                        "encrypted": True,
                        "kmsKeyID": kms_key_arn,
                        "deleteOnTermination": True,
                    },
                }
            ],
            "tags": dict(tags),
        },
    }
