"""The one IAM room: trust policies (pure functions returning policy dicts) and the IRSA role
helper every service-account role goes through."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

__all__ = [
    "NO_SOURCE_ACCOUNT_CONTEXT",
    "STS_AUDIENCE",
    "IrsaRole",
    "irsa_role",
    "irsa_trust_policy",
    "service_role",
    "service_trust_policy",
    "web_identity_trust_policy",
]


# Service principals that assume roles without an `aws:SourceAccount` in the request context
# (there is no source resource: EC2 instance profiles, AWS Backup jobs), so the confused-deputy
# condition would deny the service itself. For them `iam:PassRole` on the deployer is the guard.
# AWS Support's list via prowler-cloud/prowler#2810; add a principal only with such evidence.
NO_SOURCE_ACCOUNT_CONTEXT = frozenset({"ec2.amazonaws.com", "backup.amazonaws.com"})


def service_trust_policy(service_principal: str, account_id: str) -> dict:
    """Let one AWS service assume a role, only on behalf of this account.

    The `aws:SourceAccount` condition is the confused-deputy guard: the service cannot be
    tricked into using the role for another account's resources. The services in
    `NO_SOURCE_ACCOUNT_CONTEXT` do not send that key, so they get the plain trust.
    """
    statement: dict = {
        "Effect": "Allow",
        "Principal": {"Service": service_principal},
        "Action": "sts:AssumeRole",
    }
    if service_principal not in NO_SOURCE_ACCOUNT_CONTEXT:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def service_role(
    resource_name: str,
    *,
    service_principal: str,
    account_id: pulumi.Input[str],
    partition: pulumi.Input[str],
    aws_managed_policies: Sequence[str] = (),
    attachment_prefix: str | None = None,
    description: str | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """A role one AWS service assumes (trust from `service_trust_policy`), with AWS-managed
    policies (paths under `arn:<partition>:iam::aws:policy/`, e.g. `service-role/X`) attached
    as `<attachment_prefix>-<policy name>`.
    """
    opts = opts or pulumi.ResourceOptions()
    role = aws.iam.Role(
        resource_name,
        description=description,
        assume_role_policy=pulumi.Output.from_input(account_id).apply(
            lambda account: json.dumps(service_trust_policy(service_principal, account))
        ),
        opts=opts,
    )
    prefix = attachment_prefix or resource_name
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{prefix}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=pulumi.Output.from_input(partition).apply(
                lambda p, policy=policy: f"arn:{p}:iam::aws:policy/{policy}"
            ),
            opts=opts,
        )
        for policy in aws_managed_policies
    ]
    return role, attachments


STS_AUDIENCE = "sts.amazonaws.com"


def web_identity_trust_policy(
    provider_arn: str, issuer: str, subjects: str | Sequence[str]
) -> dict:
    """Trust for an OIDC identity provider: only these subjects (a list is an OR), only for
    the STS audience. Exact subjects use `StringEquals`; a subject with `*` or `?` (a pattern
    the caller built on purpose, e.g. a ref glob) uses `StringLike` for the subjects only."""
    issuer = issuer.removeprefix("https://")
    subs = [subjects] if isinstance(subjects, str) else list(subjects)
    patterned = any(c in sub for sub in subs for c in "*?")
    value: str | list[str] = subs[0] if isinstance(subjects, str) else subs
    condition: dict = {"StringEquals": {f"{issuer}:aud": STS_AUDIENCE}}
    if patterned:
        condition["StringLike"] = {f"{issuer}:sub": value}
    else:
        condition["StringEquals"] = {f"{issuer}:sub": value, f"{issuer}:aud": STS_AUDIENCE}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ],
    }


def irsa_trust_policy(provider_arn: str, issuer: str, namespace: str, service_account: str) -> dict:
    """IRSA trust: exactly one service account may assume the role, for the STS audience."""
    subject = f"system:serviceaccount:{namespace}:{service_account}"
    return web_identity_trust_policy(provider_arn, issuer, subject)


@dataclass(frozen=True)
class IrsaRole:
    """An IAM role for one Kubernetes service account.

    Attributes:
        role: the `aws.iam.Role`.
        arn: the role ARN, resolved only after every policy is attached, so a service account
            annotated with it never starts with a half-empty role.
    """

    role: aws.iam.Role
    arn: pulumi.Output[str]


def irsa_role(
    resource_name: str,
    *,
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer: pulumi.Input[str],
    namespace: str,
    service_account: str,
    inline_policies: Mapping[str, pulumi.Input[str]] | None = None,
    managed_policy_arns: Sequence[pulumi.Input[str]] = (),
    opts: pulumi.ResourceOptions | None = None,
) -> IrsaRole:
    """Create an IRSA role that only `system:serviceaccount:<namespace>:<service_account>` can
    assume (`sts:AssumeRoleWithWebIdentity` from the cluster's OIDC provider, audience STS).

    Args:
        resource_name: Pulumi name of the role; policies are `<resource_name>-<key>`.
        oidc_provider_arn: `Cluster.oidc_provider_arn`.
        oidc_issuer: `Cluster.oidc_issuer` (with or without `https://`).
        namespace: namespace of the service account.
        service_account: name of the service account (annotate it with `.arn`).
        inline_policies: label -> policy JSON, attached as inline role policies.
        managed_policy_arns: managed policies to attach.
        opts: options of every created resource (pass `parent=` your component).
    """
    opts = opts or pulumi.ResourceOptions()
    trust = pulumi.Output.all(oidc_provider_arn, oidc_issuer).apply(
        lambda v: json.dumps(irsa_trust_policy(v[0], v[1], namespace, service_account))
    )
    role = aws.iam.Role(
        resource_name,
        assume_role_policy=trust,
        description=f"IRSA role of {namespace}/{service_account}",
        opts=opts,
    )
    attached: list[pulumi.Output] = []
    for label, document in (inline_policies or {}).items():
        policy = aws.iam.RolePolicy(
            f"{resource_name}-{label}", role=role.id, policy=document, opts=opts
        )
        attached.append(policy.id)
    for index, arn in enumerate(managed_policy_arns):
        attachment = aws.iam.RolePolicyAttachment(
            f"{resource_name}-managed-{index}", role=role.name, policy_arn=arn, opts=opts
        )
        attached.append(attachment.id)
    arn = pulumi.Output.all(role.arn, *attached).apply(lambda v: v[0])
    return IrsaRole(role=role, arn=arn)
