"""What `GithubOidc` takes and the rules its inputs follow: the repository, its GitHub
environments and their deploy branches, the session lifetime (pure; the component and the
bootstrap program apply the same checks)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.git_refs import branch_pattern_problems

__all__ = [
    "DEPLOY_SESSION_SECONDS",
    "GITHUB_ISSUER",
    "GLOBAL_SERVICES",
    "PREVIEW_PREFIX",
    "PULL_REQUEST_REF",
    "SUBJECT_CLAIM_KEYS",
    "GithubOidcArgs",
    "OperationsRole",
    "validate",
]

GITHUB_ISSUER = "token.actions.githubusercontent.com"
PREVIEW_PREFIX = "preview-"
# The repository's OIDC subject template (`include_claim_keys`), in this order: GitHub builds
# `sub` as `repo:<owner/name>:<context>:ref:<ref>`, where the context of a job with an
# environment is `environment:<name>`.
SUBJECT_CLAIM_KEYS = ("repo", "context", "ref")
# Refs a preview role trusts: pull requests (GitHub checks out their merge ref) and the
# default branch, where the scheduled drift check runs.
PULL_REQUEST_REF = "refs/pull/*/merge"
# How long a deploy's credentials live. The longest stack's worst first `up` is prod's:
# EKS (~15 min) -> nodes and add-ons (~15) -> the in-cluster releases, installing in parallel
# but each up to its readiness timeout (~30), beside VPC -> MSK (15-60 in practice) -> topics ->
# services (typical chains: `make plan`'s critical path), and
# Aurora writer -> reader -> proxy (~45). Worst case about 2 h; 4 h leaves room for a slow
# MSK and Helm's readiness timeouts. The job's own timeout stays below it, so a credential
# never expires inside a running `pulumi up` (where the provider and `aws eks get-token`
# would fail mid-update and leave pending operations). IAM allows 1..12 h.
DEPLOY_SESSION_SECONDS = 4 * 3600
# Services that are global (their API lives in us-east-1) and so escape the region guard.
GLOBAL_SERVICES = ("iam", "sts", "tag", "organizations", "support", "cloudfront", "route53")
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


@dataclass(frozen=True)
class OperationsRole:
    """A role per environment for a scheduled operations job that runs reviewed code only.

    Attributes:
        name: `drift`, `drill`, ...: the role is `<prefix>-<env>-<name>`, trusted by the
            GitHub environment `<name>-<env>` on the default branch only.
        policy: its identity policy document, per environment name (the stack's resources
            carry the `environment` tag, which a policy can match).
        purpose: one line for the role's description.
    """

    name: str
    policy: Callable[[str], dict]
    purpose: str


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
        deploy_branches: per environment, the branch patterns (globs: `*`, `?`) whose jobs
            may assume its deploy role — the stack's `platform:app.deployBranches` (the
            bootstrap passes them from the profiles). An environment without an entry
            deploys from `default_branch` only.
        default_branch: the repository's default branch (scheduled jobs run there).
        operations: the operations roles each environment also gets (`OperationsRole`).
        max_session_seconds: the roles' maximum session (the workflows ask for
            `DEPLOY_SESSION_SECONDS`; see there how it is sized).
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
    deploy_branches: Mapping[str, Sequence[str]] = field(default_factory=dict)
    default_branch: str = "main"
    operations: Sequence[OperationsRole] = ()
    max_session_seconds: int = DEPLOY_SESSION_SECONDS
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
    unknown = sorted(set(args.deploy_branches) - set(args.environments or ()))
    if unknown:
        problems.append(f"deploy_branches: {unknown} are not among the environments")
    for env, patterns in args.deploy_branches.items():
        if isinstance(patterns, str) or not patterns:
            problems.append(f"deploy_branches[{env!r}]: a non-empty list of branch patterns")
            continue
        problems += [f"deploy_branches[{env!r}]: {p}" for p in branch_pattern_problems(patterns)]
    problems += [f"default_branch: {p}" for p in branch_pattern_problems([args.default_branch])]
    names = [op.name for op in args.operations]
    for name in names:
        if not _ENVIRONMENT.fullmatch(name) or name in ("deploy", "preview"):
            problems.append(f"operations {name!r}: letters, digits, '-', not deploy or preview")
    if len(set(names)) != len(names):
        problems.append(f"operations {names}: each once")
    return problems
