"""EKS managed add-ons and the cluster's own in-cluster objects (namespaces, StorageClasses).

Add-ons are pinned per Kubernetes minor (`versions.ADDON_VERSIONS`). With
`bootstrap_self_managed_addons` off the cluster starts without networking, so the node-level
add-ons (DaemonSets) go before the nodes and Deployments (coredns, the EBS CSI controller)
after them (see `Cluster`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.args import ClusterArgs
from components.kubernetes_rules import pod_security_labels

__all__ = [
    "DEFAULT_CLASS",
    "WORKLOAD_NAMESPACE_LABELS",
    "InCluster",
    "eks_addon",
    "namespace",
    "namespaces",
    "storage_classes",
]


# Labels every workload namespace gets beyond Pod Security: ALB readiness gates, so a rolling
# update waits until new pods are healthy in the target group and rollouts drop nothing.
WORKLOAD_NAMESPACE_LABELS = {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


@dataclass(frozen=True)
class InCluster:
    """Where in-cluster children go: under `parent`, through the cluster's `provider`."""

    parent: pulumi.Resource
    provider: pulumi.ProviderResource
    name: str  # the Cluster component's name, the prefix of every child's resource name

    def opts(self, **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, provider=self.provider, **extra)


def eks_addon(
    parent: pulumi.Resource,
    name: str,
    addon: str,
    version: str,
    cluster_name: pulumi.Input[str],
    identity: tuple[str, pulumi.Input[str]] | None = None,
    *,
    config: dict | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> aws.eks.Addon:
    """One EKS managed add-on at an exact version, optionally with a Pod Identity role:
    `identity` is (service account, role ARN); EKS creates and deletes the association with
    the add-on (no IRSA role annotation)."""
    associations = None
    if identity is not None:
        service_account, role_arn = identity
        associations = [
            aws.eks.AddonPodIdentityAssociationArgs(
                service_account=service_account, role_arn=role_arn
            )
        ]
    return aws.eks.Addon(
        f"{name}-{addon}",
        cluster_name=cluster_name,
        addon_name=addon,
        addon_version=version,
        pod_identity_associations=associations,
        configuration_values=json.dumps(config) if config else None,
        # The add-on's configuration is declared here; drift inside the cluster is reset.
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def namespace(
    where: InCluster, namespace: str, level: str, labels: dict[str, str], protect: bool
) -> k8s.core.v1.Namespace:
    """A namespace enforcing Pod Security `level`, warning and auditing at `restricted`."""
    return k8s.core.v1.Namespace(
        f"{where.name}-ns-{namespace}",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=namespace,
            labels={**pod_security_labels(level), **labels},
        ),
        opts=where.opts(protect=protect),
    )


def namespaces(
    where: InCluster, args: ClusterArgs
) -> tuple[dict[str, k8s.core.v1.Namespace], k8s.core.v1.Namespace]:
    """The workload namespaces (name -> Namespace) and the platform's system namespace."""
    workload = {
        name: namespace(
            where,
            name,
            args.namespace_pod_security.get(name, args.default_pod_security),
            WORKLOAD_NAMESPACE_LABELS,
            args.protect,
        )
        for name in args.namespaces
    }
    system = namespace(where, args.system_namespace, "restricted", {}, args.protect)
    return workload, system


def storage_classes(
    where: InCluster, args: ClusterArgs, ebs_csi: aws.eks.Addon
) -> k8s.storage.v1.StorageClass:
    """The default encrypted gp3 class (and gp2 demoted); returns the gp3 class."""
    gp3 = k8s.storage.v1.StorageClass(
        f"{where.name}-gp3",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="gp3", annotations={DEFAULT_CLASS: "true"}),
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
        opts=where.opts(depends_on=[ebs_csi]),
    )
    if args.demote_gp2:
        # EKS installs gp2 (in-tree, unencrypted unless the account default says so); a
        # server-side-apply patch owns just this annotation, forced past EKS's field manager,
        # so that claims without a class land on encrypted gp3.
        k8s.storage.v1.StorageClassPatch(
            f"{where.name}-gp2-not-default",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name="gp2",
                annotations={DEFAULT_CLASS: "false", "pulumi.com/patchForce": "true"},
            ),
            opts=where.opts(),
        )
    return gp3
