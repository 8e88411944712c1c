"""Branch-name patterns as git and the platform read them (one home).

`platform:app.deployBranches` are globs the release tool matches with `fnmatch` and the GitHub
bootstrap turns into IAM `StringLike` patterns in the deploy roles' trust: so the only
wildcards are `*` and `?` (IAM has no character classes), and the rest must be a name git
allows (`git check-ref-format`): a pattern that is a regular expression, or that holds a
character git refuses in a ref, can never match a branch and would silently allow nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "branch_pattern_problems",
]


# What `git check-ref-format` refuses anywhere in a ref name (besides control characters).
_GIT_FORBIDDEN = (" ", "~", "^", ":", "\\", "[", "..", "@{", "//")
# Characters that only make sense in a regular expression.
_REGEX = ("^", "$", "(", ")", "+", "|", "{", "}", ".*", "\\")


def branch_pattern_problems(patterns: Sequence[object]) -> list[str]:
    """Why each branch pattern can never match a branch (empty when every one can)."""
    if isinstance(patterns, str):
        return [f"{patterns!r}: a list of branch patterns, e.g. ['main']"]
    problems = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            problems.append(
                f"{pattern!r}: a branch name or glob (text), e.g. 'main' or 'release/*'"
            )
            continue
        regex = [r for r in _REGEX if r in pattern]
        forbidden = [c for c in _GIT_FORBIDDEN if c in pattern]
        if regex:
            glob = pattern.strip("^$").replace(".*", "*")
            problems.append(
                f"{pattern!r} looks like a regular expression ({', '.join(regex)}); branch "
                f"patterns are globs with * and ? only — did you mean {glob!r}?"
            )
        elif forbidden or any(ord(c) < 32 or ord(c) == 127 for c in pattern):
            problems.append(
                f"{pattern!r} holds characters git never allows in a branch name "
                f"({', '.join(repr(c) for c in forbidden) or 'a control character'}): it "
                "cannot match any branch"
            )
        elif (
            pattern.startswith(("-", "/", "."))
            or pattern.endswith(("/", ".", ".lock"))
            or "/." in pattern
            or pattern == "@"
        ):
            problems.append(
                f"{pattern!r} cannot be a branch name (git refuses names that start with '-', "
                "'/' or '.', end with '/', '.' or '.lock', or have a component starting with "
                "'.')"
            )
    duplicates = sorted({p for p in patterns if isinstance(p, str) and list(patterns).count(p) > 1})
    if duplicates:
        problems.append(f"{duplicates}: each pattern once")
    return problems
