"""The one-time bootstrap of an AWS account for GitHub Actions (a Pulumi project of its own).

    cd infra/bootstrap
    pulumi stack init acme-prod-account
    pulumi config set aws:region eu-west-1
    pulumi config set bootstrap:repository acme/platform
    pulumi config set --path 'bootstrap:environments[0]' prod
    pulumi up

Config (`bootstrap:` namespace): `repository` (owner/name), `environments` (the GitHub
environments deploying into this account), optional `regions` (default: aws:region),
`repositoryIds` ([owner id, repo id], for GitHub's immutable OIDC subject),
`existingOidcProviderArn`, `stateBucket`, `secretsKeyArn`, `defaultBranch` (main).

Each deploy role trusts the branches its environment's profile deploys from
(`platform:app.deployBranches`: prod `main`, dev and uat any branch), so "prod deploys from
main only" is in the trust policy itself. Before the roles are used, set the repository's OIDC
subject template once (docs/delivery.md), or GitHub's tokens will not match them.
"""

from __future__ import annotations

import dataclasses

import pulumi
import pulumi_aws as aws

from components.github_oidc import GithubOidc, GithubOidcArgs, OperationsRole, drift_policy
from infra.config.profiles import PROFILES
from infra.drill import permissions as drill_permissions


def deploy_branches(environments: list[str]) -> dict[str, list[str]]:
    """Per environment with a profile of that name, the branches it deploys from (the
    profile's `app.deployBranches`, one home); other environments deploy from the default
    branch only."""
    return {
        env: list(PROFILES[env]["app"]["deployBranches"]) for env in environments if env in PROFILES
    }


def with_operations(args: GithubOidcArgs) -> GithubOidcArgs:
    """Each environment's operations roles, trusted from the default branch only: the daily
    drift check (a refreshing preview: it reads the stack's own secret values) and the DR
    drill (restores beside the live stores, deletes only its own copies)."""
    operations = (
        OperationsRole("drift", lambda env: drift_policy(args, env), "daily drift check"),
        OperationsRole("drill", drill_permissions.policy, "disaster-recovery drill"),
    )
    return dataclasses.replace(args, operations=operations)


def args_from_config(config: pulumi.Config, region: str) -> GithubOidcArgs:
    ids = config.get_object("repositoryIds")
    environments = list(config.require_object("environments"))
    return with_operations(
        GithubOidcArgs(
            repository=config.require("repository"),
            environments=environments,
            deploy_branches=deploy_branches(environments),
            default_branch=config.get("defaultBranch") or "main",
            regions=list(config.get_object("regions") or [region]),
            repository_ids=tuple(ids) if ids else None,
            existing_provider_arn=config.get("existingOidcProviderArn"),
            state_bucket=config.get("stateBucket"),
            secrets_key_arn=config.get("secretsKeyArn"),
        )
    )


def main() -> GithubOidc:
    region = pulumi.Config("aws").require("region")
    args = args_from_config(pulumi.Config("bootstrap"), region)
    provider = aws.Provider(
        "aws",
        region=region,
        default_tags={
            "tags": {"project": "platform", "managed-by": "pulumi", "stack": pulumi.get_stack()}
        },
    )
    oidc = GithubOidc("github", args, pulumi.ResourceOptions(providers={"aws": provider}))
    pulumi.export("oidcProviderArn", oidc.provider_arn)
    # Set each as the AWS_ROLE_ARN variable of the GitHub environment of the same name.
    pulumi.export("deployRoleArns", oidc.deploy_role_arns)
    pulumi.export("previewRoleArns", {f"preview-{k}": v for k, v in oidc.preview_role_arns.items()})
    for operation, arns in oidc.operations_role_arns.items():
        pulumi.export(f"{operation}RoleArns", {f"{operation}-{k}": v for k, v in arns.items()})
    return oidc
