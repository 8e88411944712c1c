"""GitHub OIDC bootstrap: who may assume which role, and what the roles may do."""

from __future__ import annotations

import json

import pytest

from components.aws_permissions import PLATFORM_TYPES, deploy_statements
from components.github_oidc import (
    DEPLOY_SESSION_SECONDS,
    GITHUB_ISSUER,
    GithubOidcArgs,
    deploy_policy,
    deploy_refs,
    preview_policy,
    subjects,
    trust_policy,
    validate,
)
from infra.bootstrap.program import deploy_branches, main
from infra.offline import mockengine
from infra.offline.mockengine import run_program
from tests.iam_eval import evaluate

CONFIG = {
    "aws:region": "eu-west-1",
    "bootstrap:repository": "acme/platform",
    "bootstrap:environments": ["dev", "uat"],
    "bootstrap:repositoryIds": [1234, 5678],
    "bootstrap:stateBucket": "acme-pulumi-state",
}
ROLE = "aws:iam/role:Role"
# CONFIG as GithubOidcArgs (what the bootstrap program passes on).
ARGS = dict(
    repository="acme/platform",
    environments=["dev", "uat"],
    regions=["eu-west-1"],
    repository_ids=(1234, 5678),
    state_bucket="acme-pulumi-state",
)


@pytest.fixture(scope="module")
def recording():
    return run_program(main, stack="acme-nonprod", config=CONFIG)


def _trust(role) -> dict:
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return statement


def _roles(recording) -> dict[str, object]:
    return {r.inputs["name"]: r for r in recording.of_type(ROLE)}


def test_one_provider_for_github_with_the_sts_audience_and_no_thumbprint(recording):
    (provider,) = recording.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{GITHUB_ISSUER}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert "thumbprintLists" not in provider.inputs  # IAM trusts GitHub's CA itself


def test_each_role_trusts_its_environment_and_refs_in_both_subject_spellings(recording):
    roles = _roles(recording)
    assert set(roles) == {
        f"github-actions-{env}-{kind}"
        for env in ("dev", "uat")
        for kind in ("deploy", "preview", "drift", "drill")
    }
    for name, role in roles.items():
        if name.endswith(("-drift", "-drill")):
            env, operation = name.removeprefix("github-actions-").rsplit("-", 1)
            sub = _trust(role)["Condition"]["StringEquals"][f"{GITHUB_ISSUER}:sub"]
            assert sub == [
                f"repo:acme/platform:environment:{operation}-{env}:ref:refs/heads/main",
                f"repo:acme@1234/platform@5678:environment:{operation}-{env}:ref:refs/heads/main",
            ]
            continue
        env = name.removeprefix("github-actions-").removesuffix("-deploy")
        env = f"preview-{env.removesuffix('-preview')}" if name.endswith("-preview") else env
        # dev and uat deploy from any branch (their profiles); previews from pull requests
        # and the default branch (the scheduled drift check).
        refs = (
            ["refs/pull/*/merge", "refs/heads/main"]
            if env.startswith("preview-")
            else ["refs/heads/*"]
        )
        statement = _trust(role)
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"]["Federated"].endswith(f"oidc-provider/{GITHUB_ISSUER}")
        assert statement["Condition"] == {
            "StringEquals": {f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com"},
            "StringLike": {
                f"{GITHUB_ISSUER}:sub": [
                    *(f"repo:acme/platform:environment:{env}:ref:{ref}" for ref in refs),
                    *(f"repo:acme@1234/platform@5678:environment:{env}:ref:{ref}" for ref in refs),
                ]
            },
        }
    assert recording.outputs["deployRoleArns"].keys() == {"dev", "uat"}
    for role in roles.values():
        assert role.inputs["maxSessionDuration"] == DEPLOY_SESSION_SECONDS


def test_prod_deploys_from_main_only_in_the_trust_itself():
    """The prod profile's deployBranches (main) become an exact subject: no pattern at all."""
    args = GithubOidcArgs(
        repository="acme/platform",
        environments=["prod"],
        regions=["eu-west-1"],
        deploy_branches=deploy_branches(["prod"]),
    )
    assert deploy_refs(args, "prod") == ["refs/heads/main"]
    trust = trust_policy(
        "arn:aws:iam::1:oidc-provider/x", subjects(args, "prod", ["refs/heads/main"])
    )
    (statement,) = trust["Statement"]
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB_ISSUER}:sub": ["repo:acme/platform:environment:prod:ref:refs/heads/main"],
            f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com",
        }
    }


def test_preview_roles_only_read_and_deploy_roles_stay_in_their_regions(recording):
    # No AWS-managed ReadOnlyAccess (it reads log events and objects): one written-out policy.
    assert recording.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []
    policies = {p.name: json.loads(p.inputs["policy"]) for p in recording.of_type(
        "aws:iam/rolePolicy:RolePolicy")}  # fmt: skip
    assert set(policies) == {
        "github-dev-deploy", "github-dev-preview-read", "github-dev-drift", "github-dev-drill",
        "github-uat-deploy", "github-uat-preview-read", "github-uat-drift", "github-uat-drill",
    }  # fmt: skip
    # The drift role reads what a preview reads plus its own environment's secret values.
    drift = policies["github-dev-drift"]
    tagged = "arn:aws:secretsmanager:eu-west-1:1:secret:x"
    assert (
        evaluate(
            drift, "secretsmanager:GetSecretValue", tagged, {"aws:ResourceTag/environment": "dev"}
        )
        == "Allow"
    )
    assert (
        evaluate(
            drift, "secretsmanager:GetSecretValue", tagged, {"aws:ResourceTag/environment": "prod"}
        )
        != "Allow"
    )
    assert evaluate(drift, "logs:GetLogEvents") == "Deny"
    assert evaluate(drift, "kms:Decrypt", "arn:aws:kms:eu-west-1:1:key/k") != "Allow"
    assert (
        evaluate(
            drift,
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:1:key/k",
            {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"},
        )
        == "Allow"
    )
    # The drill deletes only its own copies.
    drill = policies["github-dev-drill"]
    assert evaluate(drill, "rds:DeleteDBCluster", "arn:aws:rds:eu-west-1:1:cluster:live") == "Deny"
    assert (
        evaluate(
            drill,
            "rds:DeleteDBCluster",
            "arn:aws:rds:eu-west-1:1:cluster:copy",
            {"aws:ResourceTag/platform:created-by": "drill"},
        )
        == "Allow"
    )
    preview = policies["github-dev-preview-read"]
    assert preview == preview_policy(GithubOidcArgs(**ARGS))
    state = "arn:aws:s3:::acme-pulumi-state/.pulumi/stacks/platform/dev.json"
    assert evaluate(preview, "s3:GetObject", state) == "Allow"
    assert evaluate(preview, "s3:GetObject", "arn:aws:s3:::acme-data/x") == "Deny"
    assert evaluate(preview, "logs:GetLogEvents") == "Deny"
    assert evaluate(preview, "ec2:DescribeVpcs") == "Allow"
    deploy = {s["Sid"]: s for s in policies["github-dev-deploy"]["Statement"]}
    # The deploy scope is the table's: MSK storage autoscaling is in it (issue 14).
    assert deploy["PlatformServices"] == deploy_statements(PLATFORM_TYPES)[0]
    assert "application-autoscaling:*" in deploy["PlatformServices"]["Action"]
    region_guard = deploy["OnlyTheStacksRegions"]
    assert region_guard["Effect"] == "Deny"
    assert region_guard["Condition"] == {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}
    assert "iam:CreateAccessKey" in deploy["NoLongLivedCredentials"]["Action"]
    tamper = deploy["NoTamperingWithTheTrustItself"]
    assert "iam:UpdateAssumeRolePolicy" in tamper["Action"]
    assert "arn:*:iam::*:role/github-actions-*" in tamper["Resource"]
    assert "s3:PutObject" in deploy["PulumiState"]["Action"]


def test_the_legacy_subject_alone_without_repository_ids():
    args = GithubOidcArgs(repository="acme/platform", environments=["prod"], regions=["eu-west-1"])
    assert subjects(args, "prod", ["refs/heads/main"]) == [
        "repo:acme/platform:environment:prod:ref:refs/heads/main"
    ]
    guard = deploy_policy(args, "arn:aws:iam::1:oidc-provider/x")["Statement"][1]
    assert "iam:*" in guard["NotAction"]  # global services are not region-bound


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"repository": "https://github.com/acme/platform"}, "'owner/name'"),
        ({"environments": "prod"}, "non-empty list"),
        ({"environments": ["prod", "prod"]}, "each once"),
        ({"environments": ["preview-prod"]}, "reserved for the preview roles"),
        ({"regions": []}, "regions"),
        ({"repository_ids": (0, 5)}, "positive"),
        ({"max_session_seconds": 60}, "3600..43200"),
        ({"role_prefix": "x" * 60}, "IAM's 64"),
        ({"deploy_branches": {"qa": ["main"]}}, "not among the environments"),
        ({"deploy_branches": {"prod": "main"}}, "non-empty list"),
        ({"deploy_branches": {"prod": []}}, "non-empty list"),
        ({"deploy_branches": {"prod": ["release/[0-9]*"]}}, "characters git never allows"),
        ({"deploy_branches": {"prod": ["^main$"]}}, "looks like a regular expression"),
        ({"deploy_branches": {"prod": ["feature..x"]}}, "characters git never allows"),
        ({"default_branch": "ma in"}, "default_branch"),
    ],
)
def test_bad_args_are_refused_before_anything_exists(changes, message):
    base = dict(repository="acme/platform", environments=["prod"], regions=["eu-west-1"])
    assert any(message in p for p in validate(GithubOidcArgs(**{**base, **changes})))


def test_bad_config_registers_nothing_but_the_provider():
    with pytest.raises(ValueError, match="'owner/name'"):
        run_program(main, stack="x", config={**CONFIG, "bootstrap:repository": "platform"})
    assert [r.type for r in mockengine.last_run.monitor.recorded] == ["pulumi:providers:aws"]
