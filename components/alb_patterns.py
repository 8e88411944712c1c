"""ALB listener-rule patterns: what a path pattern may be, and how two patterns relate.

An ALB compares a request's host and path with each rule's patterns, in priority order, and
the first rule that matches wins. Its patterns are globs, not regular expressions: `*` matches
any run of characters (including `/` and `.`), `?` exactly one; host patterns ignore case,
path patterns do not. Each string is at most 128 characters, and a rule may hold at most 5
condition values and 5 wildcards in all (the quotas `condition-values-per-alb-rule` and
`condition-wildcards-per-alb-rule`). A listener holds at most 100 rules besides its default
(`rules-per-application-load-balancer`; an adjustable quota, 100 by default).

`relation` compares two patterns as the sets of strings they match (language inclusion of
two glob automata), so `*.example.com` is known to contain `grafana.example.com` and
`/api/*` to contain `/api/users` whatever their spelling.
"""

from __future__ import annotations

import re

__all__ = [
    "ANY",
    "MAX_CONDITION_VALUES",
    "MAX_PATTERN",
    "MAX_RULES",
    "MAX_WILDCARDS",
    "covers",
    "intersects",
    "path_pattern_problems",
    "relation",
    "rule_problems",
    "wildcards",
]

MAX_PATTERN = 128  # characters of one host or path condition value
MAX_CONDITION_VALUES = 5  # per rule, over all its conditions
MAX_WILDCARDS = 5  # `*` and `?` per rule, over all its conditions
MAX_RULES = 100  # per listener besides the default rule (default quota)
ANY = "*"  # the pattern that matches everything (no host or no path condition)

# What AWS accepts in a path pattern: letters, digits, `_-.$/~"'@:+&` and the wildcards.
_PATH_CHARS = re.compile(r"[A-Za-z0-9_\-.$/~\"'@:+&*?]*")
# Spellings that mean something in a regular expression and nothing (or else) in a glob.
_REGEX = re.compile(r"(^|/)\.\*|\.\+|\$$|[()|\[\]{}\\^]")
_OTHER = "\x00"  # stands for every character no pattern names


def wildcards(pattern: str) -> int:
    return pattern.count("*") + pattern.count("?")


def path_pattern_problems(path: object) -> list[str]:
    """Why `path` is not an ALB path pattern (a glob an operator means)."""
    if not isinstance(path, str) or not path.strip():
        return ["a path pattern such as '/api/*' (text, not empty)"]
    if _REGEX.search(path):
        glob = path.lstrip("^").rstrip("$").replace(".*", "*").replace(".+", "?*")
        hint = f"'{glob}'" if not _REGEX.search(glob) and glob != path else "'/api/*'"
        return [
            f"path {path!r} looks like a regular expression; ALB paths are globs: '*' matches "
            f"any characters (also '/'), '?' exactly one, e.g. {hint}"
        ]
    if not path.startswith("/"):
        hint = f" (did you mean '/{path}'?)" if not path[0].isspace() else ""
        return [f"path {path!r}: must start with '/'{hint}"]
    if "?" in path and ("=" in path or "&" in path):
        return [
            f"path {path!r}: the query string is not part of the path (an ALB compares the "
            "path only, and '?' is a one-character wildcard there)"
        ]
    if "**" in path:
        return [f"path {path!r}: '**' is '*' on an ALB ('*' already crosses '/'); write one '*'"]
    if not _PATH_CHARS.fullmatch(path):
        bad = sorted({c for c in path if not _PATH_CHARS.fullmatch(c)})
        return [
            f"path {path!r}: characters {bad} are not allowed in an ALB path pattern (letters, "
            "digits, _-.$/~\"'@:+& and the wildcards * ?; no spaces or %-escapes)"
        ]
    if len(path) > MAX_PATTERN:
        return [f"path {path!r}: {len(path)} characters, an ALB allows {MAX_PATTERN}"]
    return []


def rule_problems(host: str | None, path: str | None) -> list[str]:
    """Why one listener rule (an optional host and an optional path) exceeds the ALB's limits."""
    values = [v for v in (host, path) if v is not None]
    problems = []
    if host is not None and len(host) > MAX_PATTERN:
        problems.append(f"host {host!r}: {len(host)} characters, an ALB allows {MAX_PATTERN}")
    if len(values) > MAX_CONDITION_VALUES:  # one host + one path: never, but it is the rule
        problems.append(
            f"{len(values)} condition values, an ALB rule allows {MAX_CONDITION_VALUES}"
        )
    count = sum(wildcards(v) for v in values)
    if count > MAX_WILDCARDS:
        problems.append(
            f"host {host!r} with path {path!r} has {count} wildcards ('*', '?'); an ALB rule "
            f"allows {MAX_WILDCARDS}"
        )
    return problems


# -- patterns as sets of strings ----------------------------------------------------------------


def _closure(pattern: str, states: set[int]) -> frozenset[int]:
    """States reachable without reading a character (a `*` may match nothing)."""
    found = set(states)
    for state in sorted(states):
        while state < len(pattern) and pattern[state] == "*":
            state += 1
            found.add(state)
    return frozenset(found)


def _step(pattern: str, states: frozenset[int], char: str) -> frozenset[int]:
    nxt: set[int] = set()
    for state in states:
        if state < len(pattern):
            token = pattern[state]
            if token == "*":
                nxt.add(state)  # `*` takes one more character and stays
            elif token == "?" or token == char:
                nxt.add(state + 1)
    return _closure(pattern, nxt)


def _alphabet(*patterns: str) -> list[str]:
    # Wildcards treat every character alike, so the literals plus one stand-in for the rest
    # decide every question about these patterns.
    return [*sorted({c for p in patterns for c in p if c not in "*?"}), _OTHER]


def intersects(a: str, b: str) -> bool:
    """Whether some string matches both `a` and `b`."""
    start = (_closure(a, {0}), _closure(b, {0}))
    seen, todo = {start}, [start]
    symbols = _alphabet(a, b)
    while todo:
        sa, sb = todo.pop()
        if len(a) in sa and len(b) in sb:
            return True
        for char in symbols:
            nxt = (_step(a, sa, char), _step(b, sb, char))
            if nxt[0] and nxt[1] and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def covers(a: str, b: str) -> bool:
    """Whether every string that matches `b` also matches `a`."""
    start = (_closure(a, {0}), _closure(b, {0}))
    seen, todo = {start}, [start]
    symbols = _alphabet(a, b)
    while todo:
        sa, sb = todo.pop()
        if len(b) in sb and len(a) not in sa:
            return False  # a string of `b` that `a` does not match
        for char in symbols:
            nxt = (_step(a, sa, char), _step(b, sb, char))
            if nxt[1] and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return True


def relation(a: str, b: str) -> str:
    """`a` compared with `b` as sets: equal, narrower, wider, overlapping or disjoint."""
    if not intersects(a, b):
        return "disjoint"
    a_in_b, b_in_a = covers(b, a), covers(a, b)
    if a_in_b and b_in_a:
        return "equal"
    if a_in_b:
        return "narrower"
    return "wider" if b_in_a else "overlapping"
