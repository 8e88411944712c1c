"""What a Pod Identity role must look like, shared by the component and stack tests."""

from __future__ import annotations

import json

from infra.offline.mockengine import RecordedResource, Recording

ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"


def expected_trust(account: str, cluster_arn: str, namespace: str, service_account: str) -> dict:
    """AWS's documented Pod Identity trust (pod-id-role: principal, both actions, the
    session-tag conditions) plus the confused-deputy account condition, written out here
    independently of `components.iam` so a weakened helper fails the tests."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": account,
                        "aws:RequestTag/eks-cluster-arn": cluster_arn,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": service_account,
                    }
                },
            }
        ],
    }


def trust(role: RecordedResource) -> dict:
    return json.loads(role.inputs["assumeRolePolicy"])


def association_of(recording: Recording, role: RecordedResource) -> RecordedResource:
    """The one association whose `roleArn` is built from `role`."""
    found = [
        a
        for a in recording.of_type(ASSOCIATION)
        if role.urn in a.property_dependencies.get("roleArn", [])
    ]
    assert len(found) == 1, (role.name, [a.name for a in found])
    return found[0]


def assert_pod_identity(
    recording: Recording,
    role: RecordedResource,
    *,
    account: str,
    cluster_arn: str,
    cluster_name: str,
    namespace: str,
    service_account: str,
) -> None:
    """`role` trusts exactly that service account of that cluster, and is associated to it."""
    assert trust(role) == expected_trust(account, cluster_arn, namespace, service_account)
    association = association_of(recording, role)
    assert association.inputs["clusterName"] == cluster_name
    assert association.inputs["namespace"] == namespace
    assert association.inputs["serviceAccount"] == service_account
    assert association.inputs["disableSessionTags"] is False
