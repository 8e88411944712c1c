"""EKS managed node groups: AL2023, IMDSv2 only, encrypted gp3 roots, no public IPs.

Plain `aws.eks.NodeGroup`s with launch templates (pulumi-eks's ManagedNodeGroup cannot run
under the mock engine: it echoes its `cluster` resource reference back as an output).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cluster.args import ClusterArgs
from components.cluster.rules import ami_type

__all__ = [
    "node_groups",
]


def node_groups(
    parent: pulumi.Resource,
    name: str,
    args: ClusterArgs,
    *,
    cluster_name: pulumi.Input[str],
    node_role_arn: pulumi.Input[str],
    node_security_group_id: pulumi.Input[str],
    depends_on: list[pulumi.Resource],
) -> dict[str, aws.eks.NodeGroup]:
    """One launch template and one node group per `args.node_groups` entry, children of
    `parent`; every group waits for `depends_on` (node-level add-ons, role policies, egress)."""
    groups: dict[str, aws.eks.NodeGroup] = {}
    for spec in args.node_groups:
        template = aws.ec2.LaunchTemplate(
            f"{name}-{spec.name}",
            description=f"{args.cluster_name} node group {spec.name}",
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=args.imds_hop_limit,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",  # AL2023 root device
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=spec.disk_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=args.ebs_kms_key_arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            # Only pulumi-eks's node security group: it already allows the control plane
            # and node-to-node traffic, and exactly one security group on a node may carry
            # the cluster's `kubernetes.io/cluster/<name>` tag or the load balancer
            # controller refuses to manage target security group rules.
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=[node_security_group_id],
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind, tags={"Name": f"{args.cluster_name}-{spec.name}"}
                )
                for kind in ("instance", "volume")
            ],
            opts=pulumi.ResourceOptions(parent=parent),
        )
        groups[spec.name] = aws.eks.NodeGroup(
            f"{name}-{spec.name}",
            cluster_name=cluster_name,
            node_group_name_prefix=f"{spec.name}-",
            version=args.kubernetes_version,
            node_role_arn=node_role_arn,
            subnet_ids=args.private_subnet_ids,
            ami_type=ami_type(spec.instance_types),
            capacity_type=spec.capacity_type,
            instance_types=list(spec.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=spec.min_size,
                max_size=spec.max_size,
                desired_size=spec.desired_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=spec.max_unavailable),
            labels=dict(spec.labels),
            taints=[
                aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value, effect=t.effect)
                for t in spec.taints
            ],
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            opts=pulumi.ResourceOptions(
                parent=parent,
                depends_on=depends_on,
                # The autoscaler owns the desired size once it runs.
                ignore_changes=["scalingConfig.desiredSize"] if args.cluster_autoscaler else [],
            ),
        )
    return groups
