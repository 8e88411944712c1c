"""The EKS cluster, as a package (like pulumi-eks's cluster/ + nodes/ + addons/):

    versions.py     every pinned version (Kubernetes, add-ons, charts, images): edit on upgrades
    args.py         ClusterArgs, NodeGroupSpec, NodeTaint and the pure rules they follow
    component.py    Cluster: control plane, admins, node role, wiring of the parts below
    nodes.py        managed node groups with hardened launch templates
    addons.py       EKS add-ons, namespaces, StorageClasses
    controllers.py  Helm releases of the cluster's controllers, in install order
    karpenter.py    Karpenter: node role, interruption queue, controller, node classes, pools
    karpenter_policy.py  Karpenter's controller and queue policies (pure)
    pools.py        NodePoolSpec, its rules and the NodePool/EC2NodeClass manifests (pure)
    policies.py     IAM policy documents of the controllers (+ the ALB controller's JSON)

`versions` and `args` import neither pulumi-eks nor the Kubernetes SDK, so the settings layer
can apply the rules without loading them; `Cluster` is imported on first use for that reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.cluster.args import ClusterArgs, NodeGroupSpec, NodeTaint, validate
from components.cluster.pools import NodePoolSpec
from components.cluster.versions import ADDON_VERSIONS, KUBERNETES_VERSION

if TYPE_CHECKING:
    from components.cluster.component import Cluster

__all__ = [
    "ADDON_VERSIONS",
    "KUBERNETES_VERSION",
    "Cluster",
    "ClusterArgs",
    "NodeGroupSpec",
    "NodePoolSpec",
    "NodeTaint",
    "validate",
]


def __getattr__(name: str):
    # Lazy: importing the package for its rules must not load pulumi-eks (see docstring).
    if name == "Cluster":
        from components.cluster.component import Cluster

        return Cluster
    raise AttributeError(name)
