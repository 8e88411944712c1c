"""Wiring of `platform:cluster`: the EKS cluster, its node groups, add-ons and controllers."""

from __future__ import annotations

from components.cluster import Cluster, ClusterArgs, NodeGroupSpec, NodeTaint
from components.network import Network
from infra import naming
from infra.config import Settings
from infra.wiring.foundation import Regions


def cluster(settings: Settings, network: Network, regions: Regions) -> Cluster:
    config = settings.cluster
    keys = regions.keys
    return Cluster(
        naming.CLUSTER,
        ClusterArgs(
            cluster_name=settings.name_prefix,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.subnet_ids["private"],
            admin_role_arns=config.admin_role_arns,
            preview_role_arns=config.preview_role_arns,
            reader_role_arns=config.reader_role_arns,
            secrets_kms_key_arn=keys.arns["cluster"],
            log_kms_key_arn=keys.arns["logs"],
            ebs_kms_key_arn=keys.arns["cluster"],
            kubernetes_version=config.version,
            public_endpoint=config.endpoint_public_access,
            public_access_cidrs=config.public_access_cidrs,
            # Deployers and CI runners in the VPC reach the private endpoint (prod's only one).
            private_access_cidrs=[settings.network.cidr, *config.private_access_cidrs],
            allow_public_access_from_anywhere=config.allow_public_access_from_anywhere,
            log_retention_days=config.log_retention_days,
            imds_hop_limit=config.imds_hop_limit,
            # Node autoscaling has its own switch; app.autoscaling is the pods' HPA.
            node_autoscaler=config.node_autoscaler,
            node_pools=config.node_pool_specs(),
            karpenter_node_group=config.karpenter_node_group,
            controller_replicas=config.controller_replicas,
            egress=network.egress,
            namespaces=config.namespaces,
            node_groups=[
                NodeGroupSpec(
                    name=group_name,
                    **group.model_dump(exclude={"taints"}),
                    taints=[NodeTaint(**taint.model_dump()) for taint in group.taints],
                )
                for group_name, group in config.node_groups.items()
            ],
            protect=settings.protect,
            controller_tags=settings.default_tags(),
        ),
        regions.opts,
    )
