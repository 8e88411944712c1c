"""How a component refuses its Args when called from Python: wrong types first, as a clear
TypeError naming the field (`NetworkArgs.az_count: expected int, got str '2'`), then its rules,
with the fields spelled as Python spells them (`multi_az`, not the stack file's `multiAz`).

The rules themselves stay shared with the settings layer, which reports them with the stack
file's keys; only the component's own raise translates the names, from the Args' fields.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence, Set
from typing import Any

import pulumi

__all__ = [
    "python_names",
    "require_valid",
    "type_problems",
]


def require_valid(component: str, name: str, args: Any, problems: Callable[[], list[str]]) -> None:
    """Raise before anything is registered: TypeError for a field of the wrong type (the
    rules would only trip over it), else ValueError with every problem `problems()` finds."""
    wrong = type_problems(args)
    if wrong:
        raise TypeError(f"{component} {name}: " + "; ".join(wrong))
    found = problems()
    if found:
        raise ValueError(f"{component} {name}: " + "; ".join(python_names(args, found)))


def type_problems(args: Any, path: str = "") -> list[str]:
    """`<Args>.<field>: expected <type>, got <type> <value>` for each field whose value its
    annotation does not allow (nested Args checked too). Outputs and awaitables are inputs
    resolved later and always fit; typing constructs this check does not know are not guessed.
    """
    if not dataclasses.is_dataclass(args) or isinstance(args, type):
        return []
    hints = _hints(type(args))
    prefix = path or type(args).__name__
    problems = []
    for field in dataclasses.fields(args):
        value, hint = getattr(args, field.name), hints.get(field.name, Any)
        where = f"{prefix}.{field.name}"
        if not _fits(value, hint):
            problems.append(
                f"{where}: expected {_describe(hint)}, got {type(value).__name__} {value!r}"
            )
        elif dataclasses.is_dataclass(value):
            problems += type_problems(value, where)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                problems += type_problems(item, f"{where}[{i}]")
    return problems


def python_names(args: Any, problems: list[str]) -> list[str]:
    """The problems with each Args field's camelCase spelling replaced by its Python name."""
    names = {_camel(f): f for f in _field_names(type(args)) if "_" in f}
    if not names:
        return problems
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len)[::-1]) + r")\b")
    return [pattern.sub(lambda m: names[m.group(1)], p) for p in problems]


def _field_names(cls: type, seen: frozenset[type] = frozenset()) -> set[str]:
    """The fields of an Args class and of the Args classes its fields hold."""
    if cls in seen or not dataclasses.is_dataclass(cls):
        return set()
    names, hints = set(), _hints(cls)
    for field in dataclasses.fields(cls):
        names.add(field.name)
        for inner in _classes_in(hints.get(field.name, Any)):
            names |= _field_names(inner, seen | {cls})
    return names


def _classes_in(hint: Any) -> list[type]:
    if isinstance(hint, type):
        return [hint]
    return [c for arg in typing.get_args(hint) for c in _classes_in(arg)]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# `pulumi.Input[T]` is `T | Awaitable[T] | "Output[T]"`: the forward reference resolves here.
_PULUMI_NAMES = {"Output": pulumi.Output, "Awaitable": Awaitable, "T": typing.TypeVar("T")}


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, localns=_PULUMI_NAMES)
    except (NameError, TypeError):  # an annotation only a type checker resolves
        return {}


def _fits(value: Any, hint: Any) -> bool:
    if hint is Any or isinstance(value, pulumi.Output) or inspect.isawaitable(value):
        return True
    origin, params = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, p) for p in params)
    if origin is typing.Literal:
        return value in params
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    container = origin if isinstance(origin, type) else None
    if container is not None and issubclass(container, Mapping):
        kinds = params or (Any, Any)
        return isinstance(value, Mapping) and all(
            _fits(k, kinds[0]) and _fits(v, kinds[1]) for k, v in value.items()
        )
    if container is not None and issubclass(container, Sequence | Set):
        # Any sequence for a sequence (a list where a tuple is annotated is fine), never text.
        kind = Set if issubclass(container, Set) else Sequence
        if isinstance(value, str | bytes) or not isinstance(value, kind):
            return False
        if container is tuple and params and params[-1] is not Ellipsis:
            return len(value) == len(params) and all(map(_fits, value, params))
        return all(_fits(item, params[0]) for item in value) if params else True
    if container is not None:  # another generic class: Awaitable[T], Output[T], Callable
        return isinstance(value, container)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        params = typing.get_args(hint)
        # pulumi.Input[X] is X | Awaitable[X] | Output[X]: name X and say it may be an Output.
        plain = [p for p in params if typing.get_origin(p) not in (Awaitable, pulumi.Output)]
        words = " or ".join(dict.fromkeys(_describe(p) for p in plain))
        return words + (" (or an Output)" if len(plain) < len(params) else "")
    if isinstance(hint, type) and not typing.get_args(hint):
        return "None" if hint is type(None) else hint.__name__
    return str(hint).replace("typing.", "").replace("collections.abc.", "")
