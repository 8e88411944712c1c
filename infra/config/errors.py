"""Turning validation failures into lines an operator can act on: the config key in stack-file
spelling (`platform:cluster.nodeGroups.system.taints[0]`), the bad value, what is allowed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from infra.naming import NAMESPACE


class SettingsError(ValueError):
    """Invalid stack configuration. `errors` holds one readable line per problem."""

    def __init__(self, stack: str, errors: list[str]) -> None:
        self.stack = stack
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"invalid configuration for stack {stack!r}:\n{lines}")


def config_key(loc: list[str]) -> str:
    """A pydantic error location as the config key the operator wrote."""
    if loc[:1] == ["region"]:
        return "aws:region"
    if loc[:1] == ["stack"]:
        return "the stack name"
    head, rest = loc[0], loc[1:]
    return f"{NAMESPACE}:{head}" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)


def describe(error: Mapping[str, Any], root: type[BaseModel]) -> list[str]:
    """Readable lines for one pydantic error: config key path, the bad value, what is allowed.

    `root` is the model the error came from (for the keys an unknown key could have meant).
    """
    loc = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
    message = error["msg"].removeprefix("Value error, ")
    if not loc:
        # Cross-field rules report "relative.key.path: message" lines themselves.
        return [
            line if line.startswith("the stack name") else f"{NAMESPACE}:{line}"
            for line in message.splitlines()
        ]
    key = config_key(loc)
    if error["type"] == "extra_forbidden":
        allowed = allowed_keys(root, loc[:-1])
        return [f"{key}: unknown key (typo?); allowed keys here: {', '.join(allowed)}"]
    if error["type"] == "missing":
        return [f"{key}: required but not set"]
    value = error.get("input")
    if isinstance(value, dict):
        # A rule of the section itself names the field it is about ("certificateArn: ...");
        # join it to the section's key so the line names exactly one key.
        return [
            f"{key}.{line}" if _names_a_field(line) else f"{key}: {line}"
            for line in message.splitlines()
        ]
    shown = "" if isinstance(value, list) else f" = {value!r}"
    return [f"{key}{shown}: {line}" for line in message.splitlines()]


def _names_a_field(line: str) -> bool:
    """Whether a problem line starts with the camelCase field it is about (`proxy: ...`)."""
    head, colon, _ = line.partition(": ")
    return bool(colon) and head.isidentifier() and head[:1].islower()


def allowed_keys(root: type[BaseModel], loc: list[str]) -> list[str]:
    """The keys a config section accepts, following `loc` through models, lists and maps."""
    model: Any = root
    map_key_next = False  # the part after a `dict[str, Model]` field is a user-chosen name
    for part in loc:
        if part.isdigit() or map_key_next:
            map_key_next = False
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return []
        annotation = field.annotation
        map_key_next = getattr(annotation, "__origin__", None) is dict
        inner = getattr(annotation, "__args__", (annotation,))
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return sorted(f.alias or n for n, f in model.model_fields.items())
