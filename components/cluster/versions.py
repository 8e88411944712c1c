"""Every version the cluster pins, in one file: edit this (and only this) on an upgrade.

Kubernetes, the EKS managed add-ons per Kubernetes minor, the Helm charts of the cluster's
controllers with their repositories, and the Cluster Autoscaler chart/image per minor. Pure
data: the settings layer imports it without importing pulumi-eks.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ADDON_VERSIONS",
    "ALB_CONTROLLER",
    "CHART_IMAGES",
    "CHART_REPOSITORIES",
    "CHART_SECURITY_CONTEXT_KEYS",
    "CHART_VERSIONS",
    "CLUSTER_AUTOSCALER",
    "CLUSTER_AUTOSCALER_IMAGE",
    "CLUSTER_AUTOSCALER_PINS",
    "KUBERNETES_VERSION",
    "KUBERNETES_VERSIONS",
    "METRICS_SERVER",
    "REQUIRED_ADDONS",
    "AutoscalerPin",
    "autoscaler_image",
]


# Pinned to a version in EKS standard support through late 2026 (1.35: until 2027-03-27).
# A bump needs its ADDON_VERSIONS and CLUSTER_AUTOSCALER_PINS rows first (tests refuse it).
# renovate: datasource=endoflife-date depName=amazon-eks versioning=loose
KUBERNETES_VERSION = "1.35"

# EKS managed add-on versions per Kubernetes version: each is the default or latest build that
# `aws eks describe-addon-versions --kubernetes-version <v>` reported in 2026 (AWS add-on
# version tables; kube-proxy must match the control-plane minor).
ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.33": {
        # renovate: datasource=aws-eks-addon depName=vpc-cni kubernetesVersion=1.33
        "vpc-cni": "v1.21.1-eksbuild.7",
        # renovate: datasource=aws-eks-addon depName=kube-proxy kubernetesVersion=1.33
        "kube-proxy": "v1.33.10-eksbuild.2",
        # renovate: datasource=aws-eks-addon depName=coredns kubernetesVersion=1.33
        "coredns": "v1.13.2-eksbuild.4",
        # renovate: datasource=aws-eks-addon depName=aws-ebs-csi-driver kubernetesVersion=1.33
        "aws-ebs-csi-driver": "v1.57.1-eksbuild.1",
        # renovate: datasource=aws-eks-addon depName=eks-pod-identity-agent kubernetesVersion=1.33
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    },
    "1.34": {
        # renovate: datasource=aws-eks-addon depName=vpc-cni kubernetesVersion=1.34
        "vpc-cni": "v1.21.1-eksbuild.7",
        # renovate: datasource=aws-eks-addon depName=kube-proxy kubernetesVersion=1.34
        "kube-proxy": "v1.34.6-eksbuild.2",
        # renovate: datasource=aws-eks-addon depName=coredns kubernetesVersion=1.34
        "coredns": "v1.13.2-eksbuild.4",
        # renovate: datasource=aws-eks-addon depName=aws-ebs-csi-driver kubernetesVersion=1.34
        "aws-ebs-csi-driver": "v1.57.1-eksbuild.1",
        # renovate: datasource=aws-eks-addon depName=eks-pod-identity-agent kubernetesVersion=1.34
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
    },
    "1.35": {
        # renovate: datasource=aws-eks-addon depName=vpc-cni kubernetesVersion=1.35
        "vpc-cni": "v1.21.1-eksbuild.7",
        # renovate: datasource=aws-eks-addon depName=kube-proxy kubernetesVersion=1.35
        "kube-proxy": "v1.35.3-eksbuild.2",
        # renovate: datasource=aws-eks-addon depName=coredns kubernetesVersion=1.35
        "coredns": "v1.13.2-eksbuild.4",
        # renovate: datasource=aws-eks-addon depName=aws-ebs-csi-driver kubernetesVersion=1.35
        "aws-ebs-csi-driver": "v1.57.1-eksbuild.1",
        # renovate: datasource=aws-eks-addon depName=eks-pod-identity-agent kubernetesVersion=1.35
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
CHART_VERSIONS = {
    # renovate: datasource=helm depName=aws-load-balancer-controller registryUrl=https://aws.github.io/eks-charts
    ALB_CONTROLLER: "1.12.0",
    # renovate: datasource=helm depName=metrics-server registryUrl=https://kubernetes-sigs.github.io/metrics-server/
    METRICS_SERVER: "3.13.0",
}
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
    "1.33": AutoscalerPin(
        # renovate: datasource=helm depName=cluster-autoscaler registryUrl=https://kubernetes.github.io/autoscaler
        chart="9.51.0",
        # renovate: datasource=docker depName=registry.k8s.io/autoscaling/cluster-autoscaler
        image_tag="v1.33.0",
    ),
    "1.34": AutoscalerPin(
        # renovate: datasource=helm depName=cluster-autoscaler registryUrl=https://kubernetes.github.io/autoscaler
        chart="9.53.0",
        # renovate: datasource=docker depName=registry.k8s.io/autoscaling/cluster-autoscaler
        image_tag="v1.34.2",
    ),
    "1.35": AutoscalerPin(
        # renovate: datasource=helm depName=cluster-autoscaler registryUrl=https://kubernetes.github.io/autoscaler
        chart="9.59.0",
        # renovate: datasource=docker depName=registry.k8s.io/autoscaling/cluster-autoscaler
        image_tag="v1.35.0",
    ),
}
# The chart's default image repository (the pins above set only the tag).
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"


def autoscaler_image(kubernetes_version: str) -> str:
    """The Cluster Autoscaler image the pinned chart runs on a cluster of this minor."""
    return f"{CLUSTER_AUTOSCALER_IMAGE}:{CLUSTER_AUTOSCALER_PINS[kubernetes_version].image_tag}"


# Where each chart takes its pod- and container-level securityContext (the names differ:
# Cluster Autoscaler's `securityContext` is the *pod* one). Values read at the pinned versions.
CHART_SECURITY_CONTEXT_KEYS = {
    ALB_CONTROLLER: ("podSecurityContext", "securityContext"),
    METRICS_SERVER: ("podSecurityContext", "securityContext"),
    CLUSTER_AUTOSCALER: ("securityContext", "containerSecurityContext"),
}
