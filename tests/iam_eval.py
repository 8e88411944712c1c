"""A small IAM evaluator for identity policies, for tests: does this policy allow this call?

What it implements, after the IAM User Guide ("Policy evaluation logic", "IAM JSON policy
elements"): an explicit Deny in any statement wins; otherwise an Allow that applies allows;
otherwise the request is implicitly denied. A statement applies when its `Action` matches (or
its `NotAction` does not), its `Resource` matches (or its `NotResource` does not) and every
condition holds. Actions match case-insensitively, resources case-sensitively; `*` matches any
run of characters (across `:` and `/`), `?` exactly one.

Conditions: the string operators only (`StringEquals`, `StringNotEquals`, `StringLike`,
`StringNotLike`, and their `IfExists` forms); several keys or operators are ANDed, several
values ORed; key names are case-insensitive, values not. A key missing from the request context
makes a positive operator false and a negated one true (an `IfExists` form holds). Anything else
(other operators, policy variables, `Principal`) raises, so a test cannot pass by accident.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Literal

Decision = Literal["Allow", "Deny", "ImplicitDeny"]
_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike"}


def evaluate(
    policy: dict | list[dict],
    action: str,
    resource: str | None = None,
    context: Mapping[str, str] | None = None,
) -> Decision:
    """The decision for `action` on `resource` under one or more policy documents.

    `resource` None stands for a resource of the action's service that no policy names
    specifically (so `"*"` matches it, a carved-out ARN does not).
    """
    documents = policy if isinstance(policy, list) else [policy]
    if resource is None:
        service = action.split(":", 1)[0].lower()
        resource = f"arn:aws:{service}:eu-west-1:123456789012:unnamed/resource"
    allowed = False
    for document in documents:
        for statement in _statements(document):
            if not _applies(statement, action, resource, context or {}):
                continue
            if statement["Effect"] == "Deny":
                return "Deny"
            allowed = True
    return "Allow" if allowed else "ImplicitDeny"


def _statements(document: dict) -> list[dict]:
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    for statement in statements:
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValueError(f"Effect must be Allow or Deny: {statement}")
        if ("Action" in statement) == ("NotAction" in statement):
            raise ValueError(f"exactly one of Action, NotAction: {statement}")
        if ("Resource" in statement) == ("NotResource" in statement):
            raise ValueError(f"exactly one of Resource, NotResource: {statement}")
        if "Principal" in statement or "NotPrincipal" in statement:
            raise ValueError(f"identity policies have no Principal: {statement}")
    return statements


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@cache
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    if "${" in glob:
        raise ValueError(f"policy variables are not supported: {glob}")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def matches(glob: str, value: str, *, ignore_case: bool) -> bool:
    """IAM's wildcard match of one pattern against one value."""
    return _pattern(glob, ignore_case).fullmatch(value) is not None


def _any(patterns: str | list[str], value: str, *, ignore_case: bool) -> bool:
    return any(matches(p, value, ignore_case=ignore_case) for p in _listed(patterns))


def _applies(statement: dict, action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "Action" in statement:
        if not _any(statement["Action"], action, ignore_case=True):
            return False
    elif _any(statement["NotAction"], action, ignore_case=True):
        return False
    if "Resource" in statement:
        if not _any(statement["Resource"], resource, ignore_case=False):
            return False
    elif _any(statement["NotResource"], resource, ignore_case=False):
        return False
    return all(
        _condition(operator, key, values, context)
        for operator, entries in statement.get("Condition", {}).items()
        for key, values in entries.items()
    )


def _condition(operator: str, key: str, values: str | list[str], context: Mapping) -> bool:
    base = operator.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise ValueError(f"condition operator not supported here: {operator}")
    negated = "Not" in base
    present = {k.lower(): v for k, v in context.items()}
    if key.lower() not in present:
        return operator.endswith("IfExists") or negated
    value, like = present[key.lower()], base.endswith("Like")
    hit = any(matches(v, value, ignore_case=False) if like else v == value for v in _listed(values))
    return not hit if negated else hit
