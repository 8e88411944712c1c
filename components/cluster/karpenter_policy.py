"""Karpenter's IAM: the controller's permissions and the interruption queue's policy (pure).

Derived from Karpenter's documented controller policy at the pinned release (aws/
karpenter-provider-aws v1.14.1, website/content/en/docs/getting-started/getting-started-with-
karpenter/cloudformation.yaml: NodeLifecyclePolicy, IAMIntegrationPolicy, EKSIntegrationPolicy,
InterruptionPolicy, ResourceDiscoveryPolicy), narrowed:

* every ARN names this account (the template writes `*` for it) and the cluster's region;
* launches, tagging and deletion keep Karpenter's own conditions: the request or resource
  carries `kubernetes.io/cluster/<cluster>: owned`, `eks:eks-cluster-name: <cluster>` and a
  `karpenter.sh/nodepool` tag, so nothing outside this cluster's pools can be touched;
* the instance profile is the stack's (EC2NodeClass `instanceProfile`), so the template's
  CreateInstanceProfile / TagInstanceProfile / AddRoleToInstanceProfile /
  RemoveRoleFromInstanceProfile / DeleteInstanceProfile statements are left out, and
  GetInstanceProfile names that one profile. ListInstanceProfiles stays: the controller's
  instance-profile garbage collector lists them on every run whatever the node class says;
* ZonalShiftPolicy is left out (`settings.enableZonalShift` stays false), and so is the
  capacity-reservation interruption rule (no reservations are selected).
"""

from __future__ import annotations

__all__ = [
    "INTERRUPTION_EVENTS",
    "OWNED",
    "controller_policy",
    "queue_policy",
]

# The tags Karpenter puts on everything it launches, which its own policy keys on.
OWNED = "owned"


def controller_policy(
    cluster_name: str,
    partition: str,
    region: str,
    account_id: str,
    node_role_arn: str,
    instance_profile_arn: str,
    queue_arn: str,
) -> dict:
    """The Karpenter controller's permissions, scoped to one cluster (see module docstring)."""
    ec2 = f"arn:{partition}:ec2:{region}"
    own = f"{ec2}:{account_id}"
    cluster_tag = f"kubernetes.io/cluster/{cluster_name}"
    launched = [
        f"{own}:fleet/*",
        f"{own}:instance/*",
        f"{own}:volume/*",
        f"{own}:network-interface/*",
        f"{own}:launch-template/*",
        f"{own}:spot-instances-request/*",
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowScopedEC2InstanceAccessActions",
                "Effect": "Allow",
                "Resource": [
                    f"{ec2}::image/*",
                    f"{ec2}::snapshot/*",
                    f"{own}:security-group/*",
                    f"{own}:subnet/*",
                    f"{own}:capacity-reservation/*",
                    f"{own}:placement-group/*",
                ],
                "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
            },
            {
                "Sid": "AllowScopedEC2LaunchTemplateAccessActions",
                "Effect": "Allow",
                "Resource": f"{own}:launch-template/*",
                "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/{cluster_tag}": OWNED},
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "AllowScopedEC2InstanceActionsWithTags",
                "Effect": "Allow",
                "Resource": launched,
                "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                "Condition": {
                    "StringEquals": {
                        f"aws:RequestTag/{cluster_tag}": OWNED,
                        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                    },
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "AllowScopedResourceCreationTagging",
                "Effect": "Allow",
                "Resource": launched,
                "Action": "ec2:CreateTags",
                "Condition": {
                    "StringEquals": {
                        f"aws:RequestTag/{cluster_tag}": OWNED,
                        "aws:RequestTag/eks:eks-cluster-name": cluster_name,
                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                    },
                    "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "AllowScopedResourceTagging",
                "Effect": "Allow",
                "Resource": f"{own}:instance/*",
                "Action": "ec2:CreateTags",
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/{cluster_tag}": OWNED},
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                    "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster_name},
                    "ForAllValues:StringEquals": {
                        "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
                    },
                },
            },
            {
                "Sid": "AllowScopedDeletion",
                "Effect": "Allow",
                "Resource": [f"{own}:instance/*", f"{own}:launch-template/*"],
                "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                "Condition": {
                    "StringEquals": {f"aws:ResourceTag/{cluster_tag}": OWNED},
                    "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                },
            },
            {
                "Sid": "AllowPassingInstanceRole",
                "Effect": "Allow",
                "Resource": node_role_arn,
                "Action": "iam:PassRole",
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            },
            {
                "Sid": "AllowInstanceProfileReadActions",
                "Effect": "Allow",
                "Resource": instance_profile_arn,
                "Action": "iam:GetInstanceProfile",
            },
            {
                "Sid": "AllowUnscopedInstanceProfileListAction",
                "Effect": "Allow",
                "Resource": "*",
                "Action": "iam:ListInstanceProfiles",
            },
            {
                "Sid": "AllowAPIServerEndpointDiscovery",
                "Effect": "Allow",
                "Resource": f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}",
                "Action": "eks:DescribeCluster",
            },
            {
                "Sid": "AllowInterruptionQueueActions",
                "Effect": "Allow",
                "Resource": queue_arn,
                "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            },
            {
                "Sid": "AllowRegionalReadActions",
                "Effect": "Allow",
                "Resource": "*",
                "Action": [
                    "ec2:DescribeCapacityReservations",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus",
                    "ec2:DescribeInstanceTypeOfferings",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates",
                    "ec2:DescribePlacementGroups",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeSubnets",
                ],
                "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
            },
            {
                "Sid": "AllowSSMReadActions",
                "Effect": "Allow",
                "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*",
                "Action": "ssm:GetParameter",
            },
            {
                # The pricing API has no resource-level permissions; Karpenter ranks instance
                # types by price with it (spot prices come from DescribeSpotPriceHistory).
                "Sid": "AllowPricingReadActions",
                "Effect": "Allow",
                "Resource": "*",
                "Action": "pricing:GetProducts",
            },
        ],
    }


def queue_policy(queue_arn: str, rule_arns: list[str]) -> dict:
    """Only this stack's EventBridge rules may send to the interruption queue; TLS only.

    Karpenter's template also admits `sqs.amazonaws.com` and any rule; here the sender is
    EventBridge on behalf of the four rules (`aws:SourceArn`), nothing else.
    """
    return {
        "Version": "2012-10-17",
        "Id": "EC2InterruptionPolicy",
        "Statement": [
            {
                "Sid": "EventBridgeRulesOfThisCluster",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
            },
            {
                "Sid": "DenyHTTP",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


# EventBridge patterns of the events Karpenter handles (the template's four rules it needs).
INTERRUPTION_EVENTS = {
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot-interruption": {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Spot Instance Interruption Warning"],
    },
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "instance-state-change": {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Instance State-change Notification"],
    },
}
