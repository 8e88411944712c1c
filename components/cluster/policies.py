"""IAM policy documents of the EKS cluster's controllers (IRSA trust and permissions).

Every function returns a plain policy dict (no Pulumi types) so it can be unit-tested and
rendered into JSON inside an `apply`.

`aws-load-balancer-controller-iam-policy.json` is the controller's reference policy, byte for
byte, from kubernetes-sigs/aws-load-balancer-controller `docs/install/iam_policy.json` at release
tag v2.12.0 (the controller chart 1.12.0 runs; tag commit ab69d951f7f4). It names the commercial
`aws` partition. When you bump the controller chart, replace the file with the policy of the
release tag the new chart's appVersion names (never a branch commit: an untagged commit once
lacked `SetRulePriorities` and `DescribeIpamPools`, which v2.12 calls) and update
`ALB_CONTROLLER_POLICY_APP_VERSION`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_HERE = Path(__file__).parent

# The controller minor version the committed reference policy belongs to; the chart pinned for
# the controller must run this minor (checked in `components.cluster.args`).
ALB_CONTROLLER_POLICY_APP_VERSION = "v2.12"
ALB_CONTROLLER_POLICY_SOURCE = (
    "https://github.com/kubernetes-sigs/aws-load-balancer-controller/blob/"
    "v2.12.0/docs/install/iam_policy.json"
)


@cache
def alb_controller_policy() -> dict:
    """The AWS Load Balancer Controller's reference IAM policy (see module docstring)."""
    text = (_HERE / "aws-load-balancer-controller-iam-policy.json").read_text(encoding="utf-8")
    return json.loads(text)


__all__ = [
    "alb_controller_policy",
    "cluster_autoscaler_policy",
    "ebs_csi_kms_policy",
]


def ebs_csi_kms_policy(key_arn: str) -> dict:
    """Use of the EBS key by the EBS CSI driver (AWS's documented KMS addendum, one key only).

    Grants are limited to AWS resources (EC2 attaches encrypted volumes through grants).
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GrantsForAttachingVolumes",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": [key_arn],
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "EncryptVolumes",
                "Effect": "Allow",
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                "Resource": [key_arn],
            },
        ],
    }


def cluster_autoscaler_policy(
    cluster_name: str, partition: str, region: str, account_id: str
) -> dict:
    """Cluster Autoscaler, least privilege (the autoscaler's documented AWS policy, scoped).

    Scaling actions only touch Auto Scaling groups carrying both auto-discovery tags of this
    cluster (EKS puts them on every managed node group's ASG); `eks:DescribeNodegroup` (labels
    and taints for scale-from-zero) is limited to this cluster's node groups. The read-only
    describe calls take no resource-level permissions.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ScaleOwnNodeGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                    }
                },
            },
            {
                "Sid": "DescribeScalingInputs",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                "Resource": "*",
            },
            {
                "Sid": "DescribeOwnNodeGroups",
                "Effect": "Allow",
                "Action": ["eks:DescribeNodegroup"],
                "Resource": (
                    f"arn:{partition}:eks:{region}:{account_id}:nodegroup/{cluster_name}/*/*"
                ),
            },
        ],
    }
