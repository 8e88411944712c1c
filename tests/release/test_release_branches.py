"""Deploy-branch policy: prod accepts releases from main only; rollback is never blocked."""

from __future__ import annotations

import subprocess

import pytest

from infra.config import PROJECT_ROOT
from infra.release import cli
from infra.release.branches import branch_allowed, check_branch, current_branch


@pytest.mark.parametrize(
    ("branch", "patterns", "allowed"),
    [
        ("main", ["main"], True),
        ("feature/x", ["main"], False),
        (None, ["main"], False),
        (None, ["*"], True),
        ("release/1.2", ["main", "release/*"], True),
        ("Main", ["main"], False),
    ],
)
def test_branch_patterns(branch, patterns, allowed):
    assert branch_allowed(branch, patterns) is allowed


def test_ci_variables_win_over_the_checkout_and_detached_head_is_unknown():
    assert current_branch({"GITHUB_REF_NAME": "main"}, git=lambda: "feature/x") == "main"
    assert current_branch({}, git=lambda: "feature/x") == "feature/x"
    assert current_branch({}, git=lambda: "HEAD") is None

    def broken():
        raise subprocess.CalledProcessError(128, "git")

    assert current_branch({}, git=broken) is None


@pytest.mark.parametrize(
    ("ref", "ref_name", "head_ref", "branch"),
    [
        ("refs/heads/main", "main", "", "main"),
        ("refs/heads/release/1.2", "release/1.2", "", "release/1.2"),
        ("refs/tags/main", "main", "", None),  # a tag named main is no branch
        ("refs/pull/7/merge", "7/merge", "main", None),  # a fork's "main" is not main
    ],
)
def test_on_github_the_ref_decides_what_branch_this_is(ref, ref_name, head_ref, branch):
    environ = {"GITHUB_REF": ref, "GITHUB_REF_NAME": ref_name, "GITHUB_HEAD_REF": head_ref}
    assert current_branch(environ, git=lambda: "main") == branch


def test_committed_prod_profile_allows_only_main(monkeypatch):
    monkeypatch.setenv("GITHUB_REF_NAME", "feature/x")
    message = check_branch("prod", PROJECT_ROOT)
    assert message and "accepts deploys and releases only from main" in message
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    assert check_branch("prod", PROJECT_ROOT) is None
    monkeypatch.setenv("GITHUB_REF_NAME", "feature/x")
    assert check_branch("dev", PROJECT_ROOT) is None


def test_cli_refuses_deploy_and_promote_but_not_rollback_from_a_wrong_branch(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_REF_NAME", "feature/x")

    def no_stack(args):
        raise AssertionError("the branch check must run before the stack is touched")

    for command in (["deploy", "--tag", "1.2.3"], ["promote"]):
        code = cli.main([*command, "--stack", "prod", "--service", "api"], connect=no_stack)
        assert code == 2
        assert "accepts deploys and releases only from main" in capsys.readouterr().err
    rollback = ["rollback", "--stack", "prod", "--service", "api"]
    assert cli.branch_check(cli.build_parser().parse_args(rollback)) is None
