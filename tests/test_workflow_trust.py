"""Each role's trust against the OIDC subjects the workflows really produce.

The bootstrap program's roles (dev, uat, prod; `infra/bootstrap`) are evaluated with IAM's
condition semantics (`tests/iam_eval`) for every (environment, ref) each workflow job can run
with (`tests/github_subjects`): exactly the intended job may assume each role — prod's
deploy role only from main, a pull request never a deploy role, the drift check only a
preview role.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
import yaml

from components.github_oidc import GITHUB_ISSUER
from infra.bootstrap.program import main
from infra.offline.mockengine import run_program
from tests.github_subjects import OTHER_BRANCH, PULL_REQUEST, REPOSITORY, JobIdentity, identities
from tests.iam_eval import evaluate

ROOT = Path(__file__).resolve().parent.parent
MAIN = "refs/heads/main"
CONFIG = {
    "aws:region": "eu-west-1",
    "bootstrap:repository": REPOSITORY,
    "bootstrap:environments": ["dev", "uat", "prod"],
}


@cache
def trusts() -> dict[str, dict]:
    recording = run_program(main, stack="acme-account", config=CONFIG)
    return {
        r.inputs["name"].removeprefix("github-actions-"): json.loads(r.inputs["assumeRolePolicy"])
        for r in recording.of_type("aws:iam/role:Role")
    }


def assumable(sub: str) -> set[str]:
    """The roles a token with this `sub` (and the STS audience) may assume."""
    context = {f"{GITHUB_ISSUER}:sub": sub, f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com"}
    found = set()
    for role, policy in trusts().items():
        statements = [
            {k: v for k, v in s.items() if k != "Principal"} | {"Resource": "*"}
            for s in policy["Statement"]
        ]
        doc = {"Version": "2012-10-17", "Statement": statements}
        if evaluate(doc, "sts:AssumeRoleWithWebIdentity", "*", context) == "Allow":
            found.add(role)
    return found


def _workflow(name: str) -> dict:
    document = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    document["on"] = document.pop(True, document.get("on"))
    return document


def all_identities() -> list[JobIdentity]:
    return [
        identity
        for path in sorted((ROOT / ".github" / "workflows").glob("*.yml"))
        for identity in identities(path.name, _workflow(path.name))
    ]


def expected_role(identity: JobIdentity) -> str | None:
    """The one role each kind of job is meant to get (None: no role at all)."""
    env, ref = identity.environment, identity.ref
    if env.startswith("preview-"):
        # Pull requests, and the default branch; a dispatch from another branch gets nothing.
        return f"{env.removeprefix('preview-')}-preview" if ref in (PULL_REQUEST, MAIN) else None
    for operation in ("drift", "drill"):
        if env.startswith(f"{operation}-"):
            # Reviewed code only: operations roles read more than a pull request may.
            return f"{env.removeprefix(f'{operation}-')}-{operation}" if ref == MAIN else None
    if env in ("dev", "uat"):
        return f"{env}-deploy"
    if env == "prod":
        return "prod-deploy" if identity.ref == MAIN else None
    return None


def test_the_model_sees_every_job_that_asks_for_a_token():
    jobs = {(i.workflow, i.job) for i in all_identities()}
    assert {
        ("deploy.yml", "dev"),
        ("deploy.yml", "uat"),
        ("deploy.yml", "prod"),
        ("pull-request.yml", "preview"),
        ("release.yml", "release"),
        ("drift.yml", "preview"),
        ("drill.yml", "uat"),
        ("drill.yml", "prod-cross-region"),
    } <= jobs


@pytest.mark.parametrize("identity", all_identities(), ids=lambda i: f"{i.workflow}:{i.job}:"
                         f"{i.environment}@{i.ref}")  # fmt: skip
def test_each_job_gets_exactly_its_role(identity):
    expected = expected_role(identity)
    assert assumable(identity.sub) == ({expected} if expected else set()), identity.sub


@pytest.mark.parametrize(
    ("environment", "ref", "roles"),
    [
        # A pull request that edits its workflow to name a deploy environment gets nothing.
        ("prod", PULL_REQUEST, set()),
        ("dev", PULL_REQUEST, set()),
        # prod's deploy role: main only, whatever the job.
        ("prod", OTHER_BRANCH, set()),
        ("prod", "refs/tags/v1.0.0", set()),
        ("prod", MAIN, {"prod-deploy"}),
        # dev and uat deploy from any branch, never from a tag or a pull request.
        ("uat", OTHER_BRANCH, {"uat-deploy"}),
        ("uat", "refs/tags/v1.0.0", set()),
        # A preview environment on another branch (not a pull request) gets nothing.
        ("preview-prod", OTHER_BRANCH, set()),
        ("preview-prod", PULL_REQUEST, {"prod-preview"}),
        ("preview-prod", MAIN, {"prod-preview"}),
        # Operations roles: the default branch only, never a pull request or another branch.
        ("drift-prod", MAIN, {"prod-drift"}),
        ("drift-prod", PULL_REQUEST, set()),
        ("drill-uat", OTHER_BRANCH, set()),
        ("drill-uat", MAIN, {"uat-drill"}),
        # An environment the bootstrap does not know, or none.
        ("staging", MAIN, set()),
    ],
)
def test_subjects_outside_the_workflows_are_refused(environment, ref, roles):
    sub = f"repo:{REPOSITORY}:environment:{environment}:ref:{ref}"
    assert assumable(sub) == roles


def test_the_default_subject_template_matches_no_role():
    """Until the one-time `gh api` call sets the template, GitHub's default `sub` (no ref)
    matches nothing: the roles fail closed."""
    for env in ("prod", "preview-prod", "dev"):
        assert assumable(f"repo:{REPOSITORY}:environment:{env}") == set()
    assert assumable(f"repo:{REPOSITORY}:ref:{MAIN}") == set()
    assert assumable(f"repo:other/repo:environment:prod:ref:{MAIN}") == set()
