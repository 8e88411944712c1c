"""GitHub Actions → AWS without long-lived keys: the account's GitHub OIDC provider and one
role per GitHub environment (deploy) plus a read-only role per environment (previews).

Who may assume a role is decided by the token's `sub` claim, which names the repository and
the GitHub *environment* of the job. So the protection lives in GitHub: each deploy
environment must have required reviewers and a deployment-branch rule (prod: `main` only); a
job that names an environment inherits its rules before it gets a token. The preview roles
trust `preview-<env>` environments, which need no reviewers: they can only read.

GitHub is moving to an immutable `sub` (`repo:<owner>@<owner_id>/<repo>@<repo_id>:...`, for
repositories created, renamed or transferred from 2026-07-15, or opted in); with the ids
given, the trust accepts both spellings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import aws_permissions
from components.aws_permissions import PLATFORM_TYPES, deploy_statements
from components.iam import STS_AUDIENCE, web_identity_trust_policy

GITHUB_ISSUER = "token.actions.githubusercontent.com"
PREVIEW_PREFIX = "preview-"
# Services that are global (their API lives in us-east-1) and so escape the region guard.
GLOBAL_SERVICES = ("iam", "sts", "tag", "organizations", "support", "cloudfront", "route53")
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


@dataclass(frozen=True, kw_only=True)
class GithubOidcArgs:
    """Inputs of `GithubOidc`.

    Attributes:
        repository: `owner/name` of the repository whose workflows deploy.
        repository_ids: (owner id, repository id) for GitHub's immutable `sub` format, or
            None when the repository still sends the legacy one.
        environments: GitHub environments that deploy into this account (e.g. dev, uat,
            prod); each gets a deploy role and a `preview-<env>` read-only role.
        regions: regions the deploy roles may act in (the stack's and its replica region);
            global services are exempt.
        existing_provider_arn: the account's GitHub OIDC provider if it already has one (an
            account holds one provider per URL); None creates it.
        state_bucket: S3 bucket of a self-managed Pulumi backend (both roles read it, deploy
            roles write it), or None for Pulumi Cloud.
        secrets_key_arn: KMS key of the stacks' secrets provider (`awskms://`), or None.
        max_session_seconds: how long a workflow's credentials live (deploys of prod take
            a while: up to an hour by default).
        role_prefix: roles are named `<role_prefix>-<env>-deploy|preview`; the deploy roles
            may not change roles with this prefix (nor the GitHub provider).
    """

    repository: str
    environments: Sequence[str]
    regions: Sequence[str]
    repository_ids: tuple[int, int] | None = None
    existing_provider_arn: pulumi.Input[str] | None = None
    state_bucket: str | None = None
    secrets_key_arn: pulumi.Input[str] | None = None
    max_session_seconds: int = 3600
    role_prefix: str = "github-actions"


def validate(args: GithubOidcArgs) -> list[str]:
    problems = []
    if not _REPOSITORY.fullmatch(args.repository or ""):
        problems.append(f"repository {args.repository!r}: 'owner/name' as GitHub spells it")
    if not args.environments or isinstance(args.environments, str):
        problems.append("environments: a non-empty list of GitHub environment names")
    else:
        for env in args.environments:
            if not _ENVIRONMENT.fullmatch(env) or env.startswith(PREVIEW_PREFIX):
                problems.append(
                    f"environments {env!r}: letters, digits, '-' and '_', not starting "
                    f"with {PREVIEW_PREFIX!r} (reserved for the preview roles)"
                )
        if len(set(args.environments)) != len(args.environments):
            problems.append(f"environments {list(args.environments)}: each once")
    if not args.regions or isinstance(args.regions, str):
        problems.append("regions: a non-empty list of AWS regions")
    if args.repository_ids is not None and not all(
        isinstance(i, int) and i > 0 for i in args.repository_ids
    ):
        problems.append("repository_ids: (owner id, repository id), positive numbers")
    longest = max((len(e) for e in args.environments or [""]), default=0)
    if not re.fullmatch(r"[A-Za-z0-9+=,.@_-]+", args.role_prefix or "") or (
        len(args.role_prefix) + longest + len("--preview") > 64
    ):
        problems.append(
            f"role_prefix {args.role_prefix!r}: IAM role-name characters, and short enough "
            "for '<prefix>-<env>-preview' to fit IAM's 64"
        )
    if not 3600 <= args.max_session_seconds <= 43200:
        problems.append("max_session_seconds: 3600..43200 (IAM's range)")
    return problems


def subjects(args: GithubOidcArgs, environment: str) -> list[str]:
    """Every `sub` a job of `environment` in the repository may present."""
    owner, name = args.repository.split("/")
    found = [f"repo:{owner}/{name}:environment:{environment}"]
    if args.repository_ids is not None:
        owner_id, repo_id = args.repository_ids
        found.append(f"repo:{owner}@{owner_id}/{name}@{repo_id}:environment:{environment}")
    return found


def trust_policy(provider_arn: str, subs: Sequence[str]) -> dict:
    """Exact subjects only (a list is an OR), for the STS audience."""
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
        problems = validate(args)
        if problems:
            raise ValueError(f"GithubOidc {name}: " + "; ".join(problems))
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
        for env in args.environments:
            deploy = self._role(f"{name}-{env}-deploy", f"{env}-deploy", args, env, child)
            aws.iam.RolePolicy(
                f"{name}-{env}-deploy",
                role=deploy.id,
                policy=self.provider_arn.apply(lambda arn: json.dumps(deploy_policy(args, arn))),
                opts=child,
            )
            preview_env = f"{PREVIEW_PREFIX}{env}"
            preview = self._role(
                f"{name}-{env}-preview", f"{env}-preview", args, preview_env, child
            )
            aws.iam.RolePolicy(
                f"{name}-{env}-preview-read",
                role=preview.id,
                policy=json.dumps(preview_policy(args)),
                opts=child,
            )
            self.deploy_role_arns[env] = deploy.arn
            self.preview_role_arns[env] = preview.arn
        self.register_outputs(
            {
                "providerArn": self.provider_arn,
                "deployRoleArns": self.deploy_role_arns,
                "previewRoleArns": self.preview_role_arns,
            }
        )

    def _role(
        self, name: str, suffix: str, args: GithubOidcArgs, environment: str, opts
    ) -> aws.iam.Role:
        subs = subjects(args, environment)
        return aws.iam.Role(
            name,
            name=f"{args.role_prefix}-{suffix}",
            description=f"GitHub Actions of {args.repository}, environment {environment}",
            assume_role_policy=self.provider_arn.apply(
                lambda arn: json.dumps(trust_policy(arn, subs))
            ),
            max_session_duration=args.max_session_seconds,
            opts=opts,
        )
