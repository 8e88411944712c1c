"""Karpenter: the node autoscaler of clusters with `node_autoscaler="karpenter"`.

What it adds to the cluster, in order:

1. AWS side: the node role (worker + ECR pull policies; CNI credentials come from the vpc-cni
   add-on's own role) with an instance profile the stack owns, an EKS access entry of type
   EC2_LINUX for it (so its nodes can join), the interruption queue (SQS, SSE, TLS-only,
   writable only by this stack's EventBridge rules) and the four rules feeding it (spot
   interruption, rebalance recommendation, instance state change, AWS Health scheduled
   change), the controller's role through Pod Identity (`karpenter_policy.py`).
2. The karpenter-crd chart (the CRDs, upgraded with every release), then the controller chart
   with `skip_crds`, on the managed node group named by `karpenter_node_group` (required node
   affinity to that group's labels and to nodes *without* `karpenter.sh/nodepool`, so it
   never runs on a node it could remove), tolerating only that group's taints.
3. One EC2NodeClass and one NodePool per `node_pools` entry (`pools.py`).

Subnets and security groups are found by the `karpenter.sh/discovery: <cluster>` tag: the
Network component puts it on the private subnets, the cluster on its node security group.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster.addons import InCluster
from components.cluster.args import ClusterArgs
from components.cluster.controllers import (
    CONTROLLER_NAMESPACE,
    helm_release,
    resources,
    service_account_values,
)
from components.cluster.karpenter_policy import (
    INTERRUPTION_EVENTS,
    controller_policy,
    queue_policy,
)
from components.cluster.pools import node_class_manifest, node_pool_manifest
from components.cluster.rules import TAINT_EFFECTS
from components.cluster.versions import (
    KARPENTER,
    KARPENTER_AMI_ALIAS,
    KARPENTER_CHARTS,
    KARPENTER_CRD,
    KARPENTER_VERSION,
)
from components.iam import WorkloadRole, service_role

__all__ = [
    "DISCOVERY_TAG",
    "KARPENTER_NODE_POLICIES",
    "controller_scheduling",
    "karpenter",
]

DISCOVERY_TAG = "karpenter.sh/discovery"
KARPENTER_NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
_EFFECTS = dict(zip(TAINT_EFFECTS, ("NoSchedule", "NoExecute", "PreferNoSchedule"), strict=True))


def controller_scheduling(args: ClusterArgs) -> dict:
    """Affinity and tolerations of the controller: only the managed node group it is given."""
    group = args.controller_node_group()
    assert group is not None  # validate() refused it otherwise
    match = [
        # Nodes Karpenter launched carry their pool's name; the controller must never depend
        # on one (it could consolidate its own node away).
        {"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"},
        # Only EKS managed node group nodes carry this label.
        {"key": "eks.amazonaws.com/nodegroup", "operator": "Exists"},
        *({"key": key, "operator": "In", "values": [value]}
          for key, value in sorted(group.labels.items())),
    ]  # fmt: skip
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": match}]
                }
            },
            # The chart's default, restated: two replicas never share a node.
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"topologyKey": "kubernetes.io/hostname"}
                ]
            },
        },
        "tolerations": [
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            *(
                {"key": t.key, "operator": "Equal", "value": t.value, "effect": _EFFECTS[t.effect]}
                for t in group.taints
            ),
        ],
    }


def karpenter(
    where: InCluster,
    args: ClusterArgs,
    depends_on: list[pulumi.Resource],
    *,
    cluster_name: pulumi.Output[str],
    endpoint: pulumi.Output[str],
    region: pulumi.Output[str],
    partition: pulumi.Output[str],
    account_id: pulumi.Output[str],
    workload_role: Callable[..., WorkloadRole],
) -> dict[str, pulumi.Resource]:
    """Everything Karpenter needs (module docstring); returns name -> resource of the parts
    other code refers to (releases, queue, node role, pools, node classes)."""
    name = where.name
    aws_opts = pulumi.ResourceOptions(parent=where.parent)
    parts: dict[str, pulumi.Resource] = {}

    node_role, node_policies = service_role(
        f"{name}-karpenter-node",
        service_principal="ec2.amazonaws.com",
        account_id=account_id,
        partition=partition,
        aws_managed_policies=[
            *KARPENTER_NODE_POLICIES,
            *(["AmazonSSMManagedInstanceCore"] if args.node_ssm_access else []),
        ],
        description=f"Nodes Karpenter launches for {args.cluster_name}",
        opts=aws_opts,
    )
    profile = aws.iam.InstanceProfile(f"{name}-karpenter-node", role=node_role.name, opts=aws_opts)
    # Nodes join through an access entry of their role (API authentication mode; EKS makes
    # these itself only for managed node groups).
    node_access = aws.eks.AccessEntry(
        f"{name}-karpenter-node",
        cluster_name=cluster_name,
        principal_arn=node_role.arn,
        type="EC2_LINUX",
        opts=aws_opts,
    )

    queue = aws.sqs.Queue(
        f"{name}-karpenter-interruption",
        name=f"{args.cluster_name}-karpenter",
        # Karpenter's own setting: an interruption older than 5 minutes is moot.
        message_retention_seconds=300,
        sqs_managed_sse_enabled=True,
        opts=aws_opts,
    )
    rules = {}
    for event, pattern in INTERRUPTION_EVENTS.items():
        rules[event] = aws.cloudwatch.EventRule(
            f"{name}-karpenter-{event}",
            description=f"{pattern['detail-type'][0]} -> Karpenter of {args.cluster_name}",
            event_pattern=json.dumps(pattern),
            opts=aws_opts,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-karpenter-{event}",
            rule=rules[event].name,
            target_id="KarpenterInterruptionQueueTarget",
            arn=queue.arn,
            opts=aws_opts,
        )
    queue_access = aws.sqs.QueuePolicy(
        f"{name}-karpenter-interruption",
        queue_url=queue.url,
        policy=pulumi.Output.all(queue.arn, *(r.arn for r in rules.values())).apply(
            lambda v: json.dumps(queue_policy(v[0], list(v[1:])))
        ),
        opts=aws_opts,
    )

    policy = pulumi.Output.all(
        partition, region, account_id, node_role.arn, profile.arn, queue.arn
    ).apply(lambda v: json.dumps(controller_policy(args.cluster_name, *v)))
    role = workload_role(
        f"{name}-karpenter",
        namespace=CONTROLLER_NAMESPACE,
        service_account=KARPENTER,
        inline_policies={"controller": policy},
    )

    crds = helm_release(
        where, KARPENTER_CRD, KARPENTER_VERSION, {}, depends_on, oci=KARPENTER_CHARTS[KARPENTER_CRD]
    )
    replicas = max(args.controller_replicas, 1)
    controller = helm_release(
        where,
        KARPENTER,
        KARPENTER_VERSION,
        {
            "replicas": replicas,
            "serviceAccount": service_account_values(KARPENTER),
            "settings": {
                "clusterName": cluster_name,
                "clusterEndpoint": endpoint,
                "interruptionQueue": queue.name,
            },
            "controller": {
                # Pods cannot reach IMDS (hop limit 1): the region is given, not discovered.
                "env": [{"name": "AWS_REGION", "value": region}],
                "resources": resources("250m", "512Mi", "1Gi"),
            },
            **controller_scheduling(args),
        },
        [*depends_on, crds, *role.ready, *node_policies, node_access, queue_access],
        oci=KARPENTER_CHARTS[KARPENTER],
        skip_crds=True,
    )
    parts.update(
        {"crds": crds, "controller": controller, "queue": queue, "node_role": node_role,
         "instance_profile": profile, "node_access": node_access, "role": role.role}
    )  # fmt: skip

    for pool in args.node_pools:
        node_class = _custom_resource(
            f"{name}-nodeclass-{pool.name}",
            node_class_manifest(
                pool.name,
                cluster_name=cluster_name,
                instance_profile=profile.name,
                kms_key_arn=args.ebs_kms_key_arn,
                ami_alias=KARPENTER_AMI_ALIAS,
                imds_hop_limit=args.imds_hop_limit,
                disk_size_gib=pool.disk_size_gib,
                tags=dict(args.controller_tags),
            ),
            where.opts(depends_on=[controller]),
        )
        parts[f"nodeclass/{pool.name}"] = node_class
        parts[f"nodepool/{pool.name}"] = _custom_resource(
            f"{name}-nodepool-{pool.name}",
            node_pool_manifest(pool),
            where.opts(depends_on=[controller, node_class]),
        )
    return parts


def _custom_resource(
    resource_name: str, manifest: dict, opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest["spec"],
        opts=opts,
    )
