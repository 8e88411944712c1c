"""What a Pod Identity role is confined to, as plain data: Args classes that only name the
cluster (the observability stack's, the settings layer's imports) need not import pulumi_aws."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

__all__ = ["PodIdentityCluster"]


@dataclass(frozen=True)
class PodIdentityCluster:
    """The cluster a Pod Identity role is confined to (`Cluster.pod_identity`).

    Attributes:
        cluster_name: the EKS cluster's name (the association is created in it).
        cluster_arn: its ARN (`arn:<partition>:eks:<region>:<account>:cluster/<name>`), the
            `eks-cluster-arn` session tag the trust policy requires.
        account_id: the account the cluster lives in (`aws:SourceAccount`).
    """

    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
