"""Which git branches may release to a stack (the brief: prod from main only).

The allowed patterns are `platform:app.deployBranches` of the stack's settings (profile
defaults: `*` for dev/uat, `main` for prod). `deploy` and `promote` check them; `rollback`
never does — getting back to a known-good colour must always be possible.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

# Where CI systems put the branch of the current build (a detached checkout has no branch).
CI_BRANCH_VARIABLES = ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME", "BRANCH_NAME")


def branch_allowed(branch: str | None, patterns: Sequence[str]) -> bool:
    """True if `branch` matches one of the glob `patterns` (`*` allows any, even unknown)."""
    if "*" in patterns:
        return True
    return branch is not None and any(fnmatchcase(branch, p) for p in patterns)


def current_branch(
    environ: Mapping[str, str] = os.environ,
    git: Callable[[], str] | None = None,
) -> str | None:
    """The branch being released from: CI variables first, then the local checkout.

    On GitHub Actions `GITHUB_REF` is authoritative: a branch is `refs/heads/<name>`; a tag
    (`refs/tags/main` has the ref *name* main) or a pull request's merge ref (whose head branch
    anyone with a fork may call main) is no branch at all.
    """
    github_ref = environ.get("GITHUB_REF")
    if github_ref:
        return (
            github_ref.removeprefix("refs/heads/") if github_ref.startswith("refs/heads/") else None
        )
    for variable in CI_BRANCH_VARIABLES:
        if environ.get(variable):
            return environ[variable]
    try:
        name = (git or _git_branch)()
    except (OSError, subprocess.CalledProcessError):
        return None
    return None if name in ("", "HEAD") else name


def _git_branch() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def allowed_patterns(stack: str, work_dir: Path) -> list[str]:
    """`platform:app.deployBranches` of the stack, from its validated settings."""
    from infra.config import load_settings, read_stack_config

    return load_settings(stack, read_stack_config(stack, work_dir)).app.deploy_branches


def check_branch(stack: str, work_dir: Path) -> str | None:
    """None if releasing from here is allowed, else the reason it is not."""
    patterns = allowed_patterns(stack, work_dir)
    branch = current_branch()
    if branch_allowed(branch, patterns):
        return None
    return (
        f"stack {stack!r} accepts deploys and releases only from {', '.join(patterns)} "
        f"(platform:app.deployBranches); this is {branch or 'an unknown branch'!r}. "
        "rollback is always allowed."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m infra.release.branches <stack>`: exit 1 (with the reason) when the current
    branch may not deploy to the stack. The deploy workflow's guard step runs it, so the
    decision is this code (tested), not only a workflow `if:`."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m infra.release.branches")
    parser.add_argument("stack", help="the stack to deploy, e.g. prod")
    parser.add_argument("--work-dir", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    refusal = check_branch(args.stack, args.work_dir)
    if refusal:
        print(f"::error::{refusal}", file=sys.stderr)
        return 1
    print(f"{args.stack}: deploys from {current_branch() or 'this checkout'} are allowed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
