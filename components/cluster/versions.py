"""Every version the cluster pins, in one file: edit this (and only this) on an upgrade.

Kubernetes, the EKS managed add-ons per Kubernetes minor, the Helm charts of the cluster's
controllers with their repositories, the Cluster Autoscaler chart/image per minor and
Karpenter (one release, with the minors it supports). Pure data: the settings layer imports it
without importing pulumi-eks.
"""

from __future__ import annotations

from dataclasses import dataclass

# Pinned to a version in EKS standard support through late 2026 (1.35: until 2027-03-27).
KUBERNETES_VERSION = "1.35"

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
# Versions this library is tested with: the ones with pinned add-ons (and charts below).
KUBERNETES_VERSIONS = tuple(ADDON_VERSIONS)
REQUIRED_ADDONS = frozenset(ADDON_VERSIONS[KUBERNETES_VERSION])

ALB_CONTROLLER = "aws-load-balancer-controller"
METRICS_SERVER = "metrics-server"
CLUSTER_AUTOSCALER = "cluster-autoscaler"
CHART_REPOSITORIES = {
    ALB_CONTROLLER: "https://aws.github.io/eks-charts",
    METRICS_SERVER: "https://kubernetes-sigs.github.io/metrics-server/",
    CLUSTER_AUTOSCALER: "https://kubernetes.github.io/autoscaler",
}
# Chart 1.12.0 runs controller v2.12.0, matching the committed reference IAM policy.
CHART_VERSIONS = {ALB_CONTROLLER: "1.12.0", METRICS_SERVER: "3.13.0"}
# The image each chart above runs at its pin (its values.yaml default, read at the tag;
# tests/test_helm_render.py renders the chart and compares).
CHART_IMAGES = {
    ALB_CONTROLLER: "public.ecr.aws/eks/aws-load-balancer-controller:v2.12.0",
    METRICS_SERVER: "registry.k8s.io/metrics-server/metrics-server:v0.8.0",
}


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
# The chart's default image repository (the pins above set only the tag).
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"

# Karpenter is published only as OCI artifacts on ECR Public (no index.yaml repository): the
# chart reference is the OCI URL itself, the version exact. The CRDs come from the separate
# karpenter-crd chart (same version), so that `helm upgrade` upgrades them too; the
# controller chart is installed with skip_crds. Read at aws/karpenter-provider-aws tag v1.14.1
# (commit bde00654cd31): the release packages charts/karpenter at the tag with its image set
# to the tag's build, whose digest the docs commit for the release (1d927085d) records.
KARPENTER = "karpenter"
KARPENTER_CRD = "karpenter-crd"
KARPENTER_VERSION = "1.14.1"
KARPENTER_CHARTS = {
    KARPENTER: "oci://public.ecr.aws/karpenter/karpenter",
    KARPENTER_CRD: "oci://public.ecr.aws/karpenter/karpenter-crd",
}
KARPENTER_IMAGE = (
    "public.ecr.aws/karpenter/controller:1.14.1"
    "@sha256:723130949e4cab989461ff07d1be4cd781d63515432494641b33c235f300ae23"
)
# The Kubernetes minors this Karpenter supports (the compatibility matrix at the tag,
# website/content/en/docs/upgrading/compatibility.md: 1.33 needs >= 1.5, 1.36 >= 1.13).
KARPENTER_KUBERNETES_VERSIONS = ("1.33", "1.34", "1.35", "1.36")
# The node image: the EKS-optimised AL2023 AMI of the cluster's minor, newest release. Not a
# pinned version on purpose, as for the managed node groups (EKS picks their AMI release):
# a new AMI release is drift, and Karpenter replaces nodes within each pool's disruption
# budget. Pin `al2023@v<YYYYMMDD>` here to hold an image during an incident.
KARPENTER_AMI_ALIAS = "al2023@latest"
# The API versions of its custom resources at that release (the CRDs' served versions).
KARPENTER_API = "karpenter.sh/v1"
KARPENTER_NODE_CLASS_API = "karpenter.k8s.aws/v1"


def autoscaler_image(kubernetes_version: str) -> str:
    """The Cluster Autoscaler image the pinned chart runs on a cluster of this minor."""
    return f"{CLUSTER_AUTOSCALER_IMAGE}:{CLUSTER_AUTOSCALER_PINS[kubernetes_version].image_tag}"


# Where each chart takes its pod- and container-level securityContext (the names differ:
# Cluster Autoscaler's `securityContext` is the *pod* one). Values read at the pinned versions.
CHART_SECURITY_CONTEXT_KEYS = {
    ALB_CONTROLLER: ("podSecurityContext", "securityContext"),
    METRICS_SERVER: ("podSecurityContext", "securityContext"),
    CLUSTER_AUTOSCALER: ("securityContext", "containerSecurityContext"),
    # Karpenter's container context is fixed in its template (non-root 65532, read-only root,
    # no privilege escalation, ALL capabilities dropped); only seccomp etc. are values.
    KARPENTER: ("podSecurityContext", None),
}
