"""Turning validation failures into lines an operator can act on: the config key in stack-file
spelling (`platform:cluster.nodeGroups.system.taints[0]`), the bad value, what is allowed."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from infra.naming import NAMESPACE

# Settings fields that no config key sets: the program fills them in (`region` comes from
# `aws:region`, which `key_paths` names as such).
_NOT_CONFIG = ("stack", "environment")
# Keys Pulumi keeps encrypted in the stack file (`pulumi config set --secret`).
SECRETS = ("slackWebhookUrl", "grafanaAdminPassword")


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
        return [f"{key}: {unknown_key_hint(root, loc)}"]
    if error["type"] == "missing":
        return [f"{key}: required but not set"]
    value = error.get("input")
    if isinstance(value, dict):
        # A rule of the section itself names the field it is about ("certificateArn: ...");
        # join it to the section's key so the line names exactly one key.
        return [_join_section(key, line) for line in message.splitlines()]
    shown = "" if isinstance(value, list) else f" = {value!r}"
    return [f"{key}{shown}: {line}" for line in message.splitlines()]


def unknown_key_hint(root: type[BaseModel], loc: list[str]) -> str:
    """Why a key is unknown and what was probably meant: the key where it really belongs
    (a key written in the wrong section, a secret under a section), a near spelling, or the
    keys this section accepts."""
    name = loc[-1]
    allowed = allowed_keys(root, loc[:-1])
    elsewhere = [path for path in key_paths(root) if path.rsplit(".", 1)[-1] == name]
    if elsewhere:
        where = " or ".join(
            "aws:region" if path == "region" else f"{NAMESPACE}:{path}" for path in elsewhere
        )
        secret = " (a secret: set it with `pulumi config set --secret`)" if name in SECRETS else ""
        return f"unknown key here; it belongs at {where}{secret}"
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]!r}?" if close else " (typo?);"
    return f"unknown key{hint} allowed keys here: {', '.join(allowed)}"


def key_paths(root: type[BaseModel], prefix: str = "") -> list[str]:
    """Every key path of the model tree in config spelling (`app.replicas`); map entries
    (node groups by name) are left out, list entries are `[]`."""
    paths = []
    for name, field in root.model_fields.items():
        if not prefix and name in _NOT_CONFIG:
            continue
        key = f"{prefix}{field.alias or name}"
        paths.append(key)
        annotation = field.annotation
        if getattr(annotation, "__origin__", None) is dict:
            continue
        inner = getattr(annotation, "__args__", (annotation,))
        nested = [a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)]
        for model in nested:
            separator = "[]." if getattr(annotation, "__origin__", None) is list else "."
            paths += key_paths(model, f"{key}{separator}")
    return paths


def _join_section(key: str, line: str) -> str:
    """A section rule's line under the section's key. A line that starts with the field(s) it
    is about (`proxy: ...`, `tags.green: ...`, `memoryRequest and memoryLimit: ...`) names each
    of them in full; any other line is about the section as a whole."""
    head, colon, rest = line.partition(": ")
    fields = head.split(" and ")
    if colon and all(_is_field_path(field) for field in fields):
        return " and ".join(f"{key}.{field}" for field in fields) + f": {rest}"
    return f"{key}: {line}"


def _is_field_path(text: str) -> bool:
    """Whether `text` is a camelCase key path (`proxy`, `tags.green`, `deployBranches[0]`)."""
    first = text.replace("[", ".").split(".", 1)[0]
    return first.isidentifier() and first[:1].islower() and " " not in text


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
