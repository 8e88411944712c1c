"""GitHub Actions → AWS without long-lived keys: the account's GitHub OIDC provider and one
role per GitHub environment (deploy) plus a read-only role per environment (previews).

Who may assume a role is decided by the token's `sub` claim. The repository's subject
template is customised once (`SUBJECT_CLAIM_KEYS`, the `gh api` call is in
docs/delivery.md) so that `sub` names the repository, the job's GitHub *environment* AND the
git ref: `repo:acme/platform:environment:prod:ref:refs/heads/main`. The trust itself then
says "prod deploys from main only" — a branch rule in repository settings (which nobody
versions) is a second line, not the only one:

    role            environment        refs it trusts
    <env>-deploy    <env>              the environment's deploy branches (prod: main)
    <env>-preview   preview-<env>      pull-request merge refs, and the default branch
    <env>-<op>      <op>-<env>         the default branch only: scheduled operations jobs of
                                       reviewed code (`operations`: the drift check, the DR
                                       drill), which may read more than a pull request may

A job that names an environment inherits that environment's protection (reviewers) before it
gets a token: prod's deploy and preview environments need required reviewers.

GitHub is moving to an immutable `sub` (`repo:<owner>@<owner_id>/<repo>@<repo_id>:...`, for
repositories created, renamed or transferred from 2026-07-15, or opted in); with the ids
given, the trust accepts both spellings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components import aws_permissions
from components.arguments import require_valid
from components.aws_permissions import PLATFORM_TYPES, deploy_statements
from components.github_oidc_args import (
    DEPLOY_SESSION_SECONDS,
    GITHUB_ISSUER,
    GLOBAL_SERVICES,
    PREVIEW_PREFIX,
    PULL_REQUEST_REF,
    SUBJECT_CLAIM_KEYS,
    GithubOidcArgs,
    OperationsRole,
    validate,
)
from components.iam import STS_AUDIENCE, web_identity_trust_policy

__all__ = [
    "DEPLOY_SESSION_SECONDS",
    "GITHUB_ISSUER",
    "GLOBAL_SERVICES",
    "PREVIEW_PREFIX",
    "PULL_REQUEST_REF",
    "SUBJECT_CLAIM_KEYS",
    "GithubOidc",
    "GithubOidcArgs",
    "OperationsRole",
    "deploy_policy",
    "deploy_refs",
    "drift_policy",
    "preview_policy",
    "preview_refs",
    "subjects",
    "trust_policy",
    "validate",
]


def deploy_refs(args: GithubOidcArgs, environment: str) -> list[str]:
    """The git refs whose jobs may assume `environment`'s deploy role."""
    patterns = args.deploy_branches.get(environment) or [args.default_branch]
    return [f"refs/heads/{pattern}" for pattern in patterns]


def preview_refs(args: GithubOidcArgs) -> list[str]:
    """Pull requests' merge refs and the default branch (the scheduled drift check)."""
    return [PULL_REQUEST_REF, f"refs/heads/{args.default_branch}"]


def subjects(args: GithubOidcArgs, environment: str, refs: Sequence[str]) -> list[str]:
    """Every `sub` (or `sub` pattern) a job of `environment` on one of `refs` presents, in
    the customised template `SUBJECT_CLAIM_KEYS`."""
    owner, name = args.repository.split("/")
    repositories = [f"{owner}/{name}"]
    if args.repository_ids is not None:
        owner_id, repo_id = args.repository_ids
        repositories.append(f"{owner}@{owner_id}/{name}@{repo_id}")
    return [
        f"repo:{repository}:environment:{environment}:ref:{ref}"
        for repository in repositories
        for ref in refs
    ]


def trust_policy(provider_arn: str, subs: Sequence[str]) -> dict:
    """These subjects only (a list is an OR; `*`/`?` match within a ref, never across the
    environment, which comes first), for the STS audience."""
    return web_identity_trust_policy(provider_arn, GITHUB_ISSUER, subs)


def deploy_policy(args: GithubOidcArgs, provider_arn: str) -> dict:
    """What `pulumi up` of the platform needs, in the allowed regions, minus what no
    deployment should ever do: create long-lived credentials, or widen its own trust.

    It is broad by necessity (the platform creates IAM roles, networks and clusters); the
    guard is who can assume it — a reviewed job in a protected GitHub environment."""
    statements: list[dict] = [
        *deploy_statements(PLATFORM_TYPES),  # the services the stacks' resources call
        {
            "Sid": "OnlyTheStacksRegions",
            "Effect": "Deny",
            "NotAction": [f"{service}:*" for service in GLOBAL_SERVICES],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(args.regions)}},
        },
        {
            "Sid": "NoLongLivedCredentials",
            "Effect": "Deny",
            "Action": [
                "iam:CreateUser",
                "iam:CreateAccessKey",
                "iam:CreateLoginProfile",
                "iam:UpdateLoginProfile",
                "iam:CreateServiceSpecificCredential",
            ],
            "Resource": "*",
        },
        {
            # The GitHub provider and these roles are the bootstrap's, never a deploy's: a
            # workflow must not widen who may assume them or what they may do.
            "Sid": "NoTamperingWithTheTrustItself",
            "Effect": "Deny",
            "Action": [
                "iam:DeleteOpenIDConnectProvider",
                "iam:UpdateOpenIDConnectProviderThumbprint",
                "iam:AddClientIDToOpenIDConnectProvider",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:AttachRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:PutRolePermissionsBoundary",
                "iam:DeleteRolePermissionsBoundary",
                "iam:DeleteRole",
            ],
            "Resource": [provider_arn, f"arn:*:iam::*:role/{args.role_prefix}-*"],
        },
    ]
    statements += _backend_statements(args, write=True)
    return {"Version": "2012-10-17", "Statement": statements}


def preview_policy(args: GithubOidcArgs) -> dict:
    """What a pull request's preview may read: the configuration of what the stacks manage,
    never its data (`components/aws_permissions`), plus the state backend (read) and the
    secrets key (decrypt)."""
    key = args.secrets_key_arn if isinstance(args.secrets_key_arn, str) else None
    policy = aws_permissions.preview_policy(
        PLATFORM_TYPES, state_bucket=args.state_bucket, secrets_key_arn=key
    )
    policy["Statement"] += _backend_statements(args, write=False)
    return policy


def drift_policy(args: GithubOidcArgs, environment: str) -> dict:
    """The drift check's `pulumi preview --refresh`: what a preview reads, plus the values a
    refresh of the stack's secret versions reads — only secrets carrying this environment's
    tag, decrypted only through Secrets Manager. Reviewed code of the default branch only."""
    policy = preview_policy(args)
    for statement in policy["Statement"]:
        if statement.get("Sid") == "NoDataReads":
            statement["Action"] = [
                a for a in statement["Action"]
                if a not in ("secretsmanager:GetSecretValue", "kms:Decrypt")
            ]  # fmt: skip
    policy["Statement"] += [
        {
            "Sid": "TheStacksOwnSecretValues",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/environment": environment}},
        },
        {
            "Sid": "DecryptThroughSecretsManagerOnly",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}},
        },
    ]
    return policy


def _backend_statements(args: GithubOidcArgs, *, write: bool) -> list[dict]:
    statements: list[dict] = []
    if args.state_bucket:
        bucket = f"arn:aws:s3:::{args.state_bucket}"
        actions = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]
        if write:
            actions += ["s3:PutObject", "s3:DeleteObject"]
        statements.append(
            {
                "Sid": "PulumiState",
                "Effect": "Allow",
                "Action": actions,
                "Resource": [bucket, f"{bucket}/*"],
            }
        )
    if isinstance(args.secrets_key_arn, str):
        actions = ["kms:Decrypt"] + (["kms:Encrypt", "kms:GenerateDataKey"] if write else [])
        statements.append(
            {
                "Sid": "PulumiSecrets",
                "Effect": "Allow",
                "Action": actions,
                "Resource": args.secrets_key_arn,
            }
        )
    return statements


class GithubOidc(pulumi.ComponentResource):
    """The GitHub OIDC provider (unless given) and, per environment, `<prefix>-<env>-deploy`
    and `<prefix>-<env>-preview` roles.

    Outputs: `provider_arn`, `deploy_role_arns[env]`, `preview_role_arns[env]` — set them as
    the `AWS_ROLE_ARN` variable of the GitHub environments `<env>` and `preview-<env>`.
    """

    def __init__(
        self, name: str, args: GithubOidcArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("GithubOidc", name, args, lambda: validate(args))
        super().__init__("platform:delivery:GithubOidc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.existing_provider_arn is not None:
            self.provider_arn = pulumi.Output.from_input(args.existing_provider_arn)
        else:
            # No thumbprint: IAM validates GitHub's certificate against its own trusted CAs.
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-github",
                url=f"https://{GITHUB_ISSUER}",
                client_id_lists=[STS_AUDIENCE],
                opts=child,
            )
            self.provider_arn = provider.arn
        self.deploy_role_arns: dict[str, pulumi.Output[str]] = {}
        self.preview_role_arns: dict[str, pulumi.Output[str]] = {}
        self.operations_role_arns: dict[str, dict[str, pulumi.Output[str]]] = {
            op.name: {} for op in args.operations
        }
        for env in args.environments:
            deploy = self._role(
                f"{name}-{env}-deploy", f"{env}-deploy", args, env, deploy_refs(args, env), child
            )
            aws.iam.RolePolicy(
                f"{name}-{env}-deploy",
                role=deploy.id,
                policy=self.provider_arn.apply(lambda arn: json.dumps(deploy_policy(args, arn))),
                opts=child,
            )
            preview_env = f"{PREVIEW_PREFIX}{env}"
            preview = self._role(
                f"{name}-{env}-preview",
                f"{env}-preview",
                args,
                preview_env,
                preview_refs(args),
                child,
            )
            aws.iam.RolePolicy(
                f"{name}-{env}-preview-read",
                role=preview.id,
                policy=json.dumps(preview_policy(args)),
                opts=child,
            )
            self.deploy_role_arns[env] = deploy.arn
            self.preview_role_arns[env] = preview.arn
            main_only = [f"refs/heads/{args.default_branch}"]
            for op in args.operations:
                role = self._role(
                    f"{name}-{env}-{op.name}",
                    f"{env}-{op.name}",
                    args,
                    f"{op.name}-{env}",
                    main_only,
                    child,
                )
                policy = op.policy(env)
                policy["Statement"] = [
                    *policy["Statement"],
                    *_backend_statements(args, write=False),
                ]
                aws.iam.RolePolicy(
                    f"{name}-{env}-{op.name}", role=role.id, policy=json.dumps(policy), opts=child
                )
                self.operations_role_arns[op.name][env] = role.arn
        self.register_outputs(
            {
                "providerArn": self.provider_arn,
                "deployRoleArns": self.deploy_role_arns,
                "previewRoleArns": self.preview_role_arns,
                "operationsRoleArns": self.operations_role_arns,
            }
        )

    def _role(
        self,
        name: str,
        suffix: str,
        args: GithubOidcArgs,
        environment: str,
        refs: Sequence[str],
        opts: pulumi.ResourceOptions,
    ) -> aws.iam.Role:
        subs = subjects(args, environment, refs)
        return aws.iam.Role(
            name,
            name=f"{args.role_prefix}-{suffix}",
            description=f"GitHub Actions of {args.repository}, environment {environment}, "
            f"refs {', '.join(refs)}",
            assume_role_policy=self.provider_arn.apply(
                lambda arn: json.dumps(trust_policy(arn, subs))
            ),
            max_session_duration=args.max_session_seconds,
            opts=opts,
        )
