"""The building blocks every config section uses: the strict model base, and the adapters
that apply a component's own rule (a function returning problems) to a config value.

A section never writes a rule of its own: the component owns it, and `rule(check)` turns it
into a pydantic validator, so the error names the config key and says what the component
allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

from components.logs import LOG_RETENTION_DAYS
from components.tags import tag_value_problems


class ConfigModel(BaseModel):
    """A config section: camelCase keys as in `Pulumi.<stack>.yaml`, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


def rule(check: Callable[[Any], list[str]]) -> AfterValidator:
    """A pydantic validator that raises the component rule's problems."""

    def apply(value: Any) -> Any:
        problems = check(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    return AfterValidator(apply)


def no_float(kind: str) -> BeforeValidator:
    """Versions are text: YAML reads `1.30` as the number 1.3 and `17.10` as 17.1."""

    def check(value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f"{kind} written as a number; quote it (YAML reads 1.30 as 1.3)")
        return value

    return BeforeValidator(check)


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
