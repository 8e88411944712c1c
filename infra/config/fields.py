"""The building blocks every config section uses: the strict model base, and the adapters
that apply a component's own rule (a function returning problems) to a config value.

A section never writes a rule of its own: the component owns it, and `rule(check)` turns it
into a pydantic validator, so the error names the config key and says what the component
allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.logs import LOG_RETENTION_DAYS
from components.tags import tag_value_problems


class ConfigModel(BaseModel):
    """A config section: camelCase keys as in `Pulumi.<stack>.yaml`, unknown keys refused,
    and values YAML changed the type of refused (`yaml_type_problems`)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )
    # Text fields where a YAML number is a fine spelling of the same value (quantities: `1`
    # CPU is "1"); every other text field refuses numbers.
    numbers_as_text: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _yaml_types(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        problems = []
        for name, field in cls.model_fields.items():
            key = field.alias or name
            for spelling in {name, key}:
                if spelling in data:
                    problems += yaml_type_problems(
                        key, field.annotation, data[spelling], name in cls.numbers_as_text
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return data


def _wants(annotation: Any, kind: type) -> bool:
    """Whether a field's type is `kind`, optionally (`kind | None`)."""
    if annotation is kind:
        return True
    if get_origin(annotation) is Annotated:
        return _wants(get_args(annotation)[0], kind)
    if get_origin(annotation) in (Union, UnionType):
        return any(_wants(a, kind) for a in get_args(annotation) if a is not type(None))
    return False


def _written_as(value: Any) -> str | None:
    """What YAML made of a value that was meant as text, or None for text."""
    if isinstance(value, bool):
        return "a boolean (true/false; YAML 1.1 readers also take yes/no/on/off)"
    if isinstance(value, int | float):
        return f"the number {value!r} (YAML reads 1.10 as 1.1 and 017 as 17)"
    if isinstance(value, date):
        return f"the date {value.isoformat()} (YAML reads 2026-01-05 as a date)"
    return None


def yaml_type_problems(key: str, annotation: Any, value: Any, numbers_ok: bool) -> list[str]:
    """`key: problem` when YAML turned a value into another type than the field's: a number,
    boolean or date where text is meant ("quote it" — never converted back, because the text
    is already lost: `1.10` became 1.1), a boolean where a number is meant (`yes` is true, and
    true would count as 1). Lists and maps of text are checked entry by entry."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        inner = [a for a in args if a is not type(None)]
        return yaml_type_problems(key, inner[0], value, numbers_ok) if len(inner) == 1 else []
    if origin is Annotated:
        return yaml_type_problems(key, args[0], value, numbers_ok)
    if origin is list and isinstance(value, list) and args:
        return [
            p
            for i, v in enumerate(value)
            for p in yaml_type_problems(f"{key}[{i}]", args[0], v, numbers_ok)
        ]
    if origin is dict and isinstance(value, Mapping) and len(args) == 2:
        return [
            p
            for k, v in value.items()
            for p in yaml_type_problems(f"{key}.{k}", args[1], v, numbers_ok)
        ]
    if _wants(annotation, str):
        written = _written_as(value)
        if written and not (
            numbers_ok and isinstance(value, int | float) and not isinstance(value, bool)
        ):
            return [f'{key}: written as {written} where text is meant; quote it: "..."']
    elif _wants(annotation, int) or _wants(annotation, float):
        if isinstance(value, bool):
            return [f"{key}: a boolean where a number is meant (YAML read yes/no/true/false)"]
        if isinstance(value, str):
            return [f"{key}: {value!r} is text where a number is meant; remove the quotes"]
    return []


def rule(check: Callable[[Any], list[str]]) -> AfterValidator:
    """A pydantic validator that raises the component rule's problems."""

    def apply(value: Any) -> Any:
        problems = check(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    return AfterValidator(apply)


def component_default(args_class: type, field: str) -> Any:
    """A component Args field's own default, so the settings default cannot drift from it."""
    return args_class.__dataclass_fields__[field].default


RetentionDays = Annotated[
    int,
    rule(lambda d: [] if d in LOG_RETENTION_DAYS else [f"one of {list(LOG_RETENTION_DAYS)}"]),
]
TagValue = Annotated[str, Field(min_length=1), rule(tag_value_problems)]


class SecretSetting(ConfigModel):
    """A config value set with `pulumi config set --secret`.

    `value` is None when only its ciphertext is known (the offline plan reads the stack file,
    which holds `secure: v1:...`); the running program always has the plaintext.
    """

    value: SecretStr | None = None
