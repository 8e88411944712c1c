"""Every version the cluster pins, in one file: edit this (and only this) on an upgrade.

The version table: per supported Kubernetes minor, the EKS managed add-ons, the Helm charts of
the cluster's controllers with the image each runs, and the Cluster Autoscaler chart/image
(its minor must match); Karpenter is one release, with the minors it supports. The flat
constants (`ADDON_VERSIONS[...]`, `CHART_VERSIONS`, `CHART_IMAGES`) are the current minor's
row, so their users need not know the table. `table_gaps()` names a supported minor that lacks
a pin (tests/test_version_table.py keeps it empty); `make plan STACK=x FROM=<minor>`
(infra/offline/upgrade.py) shows one row becoming the next. Pure data: the settings layer
imports it without importing pulumi-eks.
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

# EKS managed add-on versions per Kubernetes version (kube-proxy must match the control-plane
# minor). Where each came from, all one 2026 revision of the EKS User Guide's per-minor tables
# ("latest version of the Amazon EKS add-on type for each Kubernetes version"):
# - kube-proxy: managing-kube-proxy (1.35 v1.35.3-eksbuild.2, 1.34 v1.34.6-eksbuild.2,
#   1.33 v1.33.10-eksbuild.2; docs.amazonaws.cn/zh_cn/eks/latest/userguide/managing-kube-proxy.md);
# - coredns: managing-coredns (v1.13.2-eksbuild.4 for 1.33-1.35, same revision);
# - vpc-cni: managing-vpc-cni (one build listed for every supported minor);
# - aws-ebs-csi-driver, eks-pod-identity-agent: not minor-specific; the build
#   `aws eks describe-addon-versions --addon-name <a> --kubernetes-version <v>` lists as
#   compatible with all three (public configs pin this exact set beside v1.34.6-eksbuild.2).
# Re-check with `describe-addon-versions` for the target minor before an upgrade (docs/upgrade.md).
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
# The minors this library supports (config accepts these): each must have a full row in every
# table below and in components/observability/versions.py (`table_gaps` lists what is missing).
# Oldest first; an upgrade goes from one to the next.
KUBERNETES_VERSIONS = ("1.33", "1.34", "1.35")
REQUIRED_ADDONS = frozenset(ADDON_VERSIONS[KUBERNETES_VERSION])

ALB_CONTROLLER = "aws-load-balancer-controller"
METRICS_SERVER = "metrics-server"
CLUSTER_AUTOSCALER = "cluster-autoscaler"
CHART_REPOSITORIES = {
    ALB_CONTROLLER: "https://aws.github.io/eks-charts",
    METRICS_SERVER: "https://kubernetes-sigs.github.io/metrics-server/",
    CLUSTER_AUTOSCALER: "https://kubernetes.github.io/autoscaler",
}


@dataclass(frozen=True)
class ChartPin:
    """One controller chart pinned exactly, and the image it runs at that pin (its values.yaml
    default, read at the tag; tests/test_helm_render.py renders the chart and compares)."""

    version: str
    image: str


# Chart 1.12.0 runs controller v2.12.0, matching the committed reference IAM policy.
# renovate: datasource=helm depName=aws-load-balancer-controller registryUrl=https://aws.github.io/eks-charts
_ALB = ChartPin("1.12.0", "public.ecr.aws/eks/aws-load-balancer-controller:v2.12.0")
# renovate: datasource=helm depName=metrics-server registryUrl=https://kubernetes-sigs.github.io/metrics-server/
_METRICS_SERVER = ChartPin("3.13.0", "registry.k8s.io/metrics-server/metrics-server:v0.8.0")
# The controllers' charts per minor (the autoscaler's are below: its minor must match exactly).
# One pin serves all three minors because each one's stated support admits them all
# (CHART_SUPPORT); a minor that needs another version gets its own row here.
CONTROLLER_CHARTS: dict[str, dict[str, ChartPin]] = {
    "1.33": {ALB_CONTROLLER: _ALB, METRICS_SERVER: _METRICS_SERVER},
    "1.34": {ALB_CONTROLLER: _ALB, METRICS_SERVER: _METRICS_SERVER},
    "1.35": {ALB_CONTROLLER: _ALB, METRICS_SERVER: _METRICS_SERVER},
}
# The Kubernetes minors each pinned controller chart says it supports, (oldest, newest or None
# when open-ended), read at its tag: the ALB controller chart README ("Chart version v1.5.0+
# requires Kubernetes 1.22+", aws-load-balancer-controller v2.12.0 helm/.../README.md) and
# metrics-server's compatibility matrix ("0.8.x ... 1.31+", README at
# metrics-server-helm-chart-3.13.0). tests/test_version_table.py checks every row against it.
CHART_SUPPORT: dict[tuple[str, str], tuple[str, str | None]] = {
    (ALB_CONTROLLER, "1.12.0"): ("1.22", None),
    (METRICS_SERVER, "3.13.0"): ("1.31", None),
}
# The current minor's row, under the names the components and tests use.
CHART_VERSIONS = {name: pin.version for name, pin in CONTROLLER_CHARTS[KUBERNETES_VERSION].items()}
CHART_IMAGES = {name: pin.image for name, pin in CONTROLLER_CHARTS[KUBERNETES_VERSION].items()}


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

# Karpenter is published only as OCI artifacts on ECR Public (no index.yaml repository): the
# chart reference is the OCI URL itself, the version exact. The CRDs come from the separate
# karpenter-crd chart (same version), so that `helm upgrade` upgrades them too; the
# controller chart is installed with skip_crds. Read at aws/karpenter-provider-aws tag v1.14.1
# (commit bde00654cd31): the release packages charts/karpenter at the tag with its image set
# to the tag's build, whose digest the docs commit for the release (1d927085d) records.
KARPENTER = "karpenter"
KARPENTER_CRD = "karpenter-crd"
# renovate: datasource=docker depName=public.ecr.aws/karpenter/karpenter
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
CHART_SUPPORT.update(
    {
        (chart, KARPENTER_VERSION): (
            KARPENTER_KUBERNETES_VERSIONS[0],
            KARPENTER_KUBERNETES_VERSIONS[-1],
        )
        for chart in KARPENTER_CHARTS
    }
)
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


def chart_versions(kubernetes_version: str) -> dict[str, str]:
    """Every cluster controller chart pinned for this minor, autoscaler included ({} if none)."""
    charts = {n: p.version for n, p in CONTROLLER_CHARTS.get(kubernetes_version, {}).items()}
    if pin := CLUSTER_AUTOSCALER_PINS.get(kubernetes_version):
        charts[CLUSTER_AUTOSCALER] = pin.chart
    return charts


def chart_images(kubernetes_version: str) -> dict[str, str]:
    """The image each cluster controller chart runs on a cluster of this minor."""
    images = {n: p.image for n, p in CONTROLLER_CHARTS.get(kubernetes_version, {}).items()}
    if kubernetes_version in CLUSTER_AUTOSCALER_PINS:
        images[CLUSTER_AUTOSCALER] = autoscaler_image(kubernetes_version)
    return images


def minor_key(minor: str) -> tuple[int, int]:
    """`"1.35"` -> (1, 35), so minors sort as numbers ("1.9" before "1.10")."""
    major, _, rest = minor.partition(".")
    return int(major), int(rest)


def supports(support: tuple[str, str | None], minor: str) -> bool:
    """Whether a stated support range (oldest, newest or None) admits `minor`."""
    oldest, newest = support
    return minor_key(oldest) <= minor_key(minor) and (
        newest is None or minor_key(minor) <= minor_key(newest)
    )


def table_gaps(minors: tuple[str, ...] | None = None) -> list[str]:
    """What the cluster's version table lacks for each supported minor: an add-on, a
    controller chart, the autoscaler of that minor, or a chart whose stated support range
    leaves the minor out. Empty when every minor has every pin."""
    minors = KUBERNETES_VERSIONS if minors is None else minors
    pinned = set(ADDON_VERSIONS) | set(CONTROLLER_CHARTS) | set(CLUSTER_AUTOSCALER_PINS)
    gaps = [f"{m}: pinned but not a supported minor" for m in sorted(pinned - set(minors))]
    for minor in minors:
        addons = ADDON_VERSIONS.get(minor, {})
        gaps += [f"{minor}: no {a} add-on" for a in sorted(REQUIRED_ADDONS - set(addons))]
        if (proxy := addons.get("kube-proxy")) and not proxy.startswith(f"v{minor}."):
            gaps.append(f"{minor}: kube-proxy {proxy} is not a {minor} build")
        charts = CONTROLLER_CHARTS.get(minor, {})
        for name in sorted(set(CHART_REPOSITORIES) - {CLUSTER_AUTOSCALER}):
            pin = charts.get(name)
            if pin is None:
                gaps.append(f"{minor}: no {name} chart")
            elif (support := CHART_SUPPORT.get((name, pin.version))) is None:
                gaps.append(f"{minor}: {name} {pin.version} has no stated support in CHART_SUPPORT")
            elif not supports(support, minor):
                gaps.append(f"{minor}: {name} {pin.version} supports {support}, not {minor}")
        autoscaler = CLUSTER_AUTOSCALER_PINS.get(minor)
        if autoscaler is None:
            gaps.append(f"{minor}: no {CLUSTER_AUTOSCALER} chart")
        elif not autoscaler.image_tag.startswith(f"v{minor}."):
            gaps.append(
                f"{minor}: {CLUSTER_AUTOSCALER} image {autoscaler.image_tag} is not {minor}"
            )
    return gaps


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
