"""IAM trust policies shared by the components (pure functions returning policy dicts)."""

from __future__ import annotations


def service_trust_policy(service_principal: str, account_id: str) -> dict:
    """Let one AWS service assume a role, only on behalf of this account.

    The `aws:SourceAccount` condition is the confused-deputy guard: the service cannot be
    tricked into using the role for another account's resources.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service_principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def irsa_trust_policy(provider_arn: str, issuer: str, namespace: str, service_account: str) -> dict:
    """IRSA trust: exactly one service account may assume the role, for the STS audience."""
    issuer = issuer.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
