"""Typed, validated settings for one stack: the only module that reads Pulumi config.

    profile defaults (infra/profiles.py, per environment)
      deep-merged with  Pulumi.<stack>.yaml `platform:*` keys
      validated by      the pydantic models below (unknown keys are errors)

`load_settings(stack, config)` is pure (a flat `{"ns:key": value}` mapping in, `Settings` or
`SettingsError` out), so tests and the offline plan call it directly; `from_pulumi()` is the
thin adapter that reads the running program's config.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.cidr import MAX_AZS, parse_vpc_cidr
from infra.profiles import ENVIRONMENTS, MIN_AZS, PROFILES

__all__ = ["ENVIRONMENTS", "Settings", "SettingsError", "from_pulumi", "load_settings"]

NAMESPACE = "platform"

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


class SettingsError(ValueError):
    """Invalid stack configuration. `errors` holds one readable line per problem."""

    def __init__(self, stack: str, errors: list[str]) -> None:
        self.stack = stack
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"invalid configuration for stack {stack!r}:\n{lines}")


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


def _retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"must be one of the CloudWatch Logs retention periods {LOG_RETENTION_DAYS}"
        )
    return value


RetentionDays = Annotated[int, Field(description="CloudWatch Logs retention in days")]


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------
class NetworkSettings(_Model):
    """`platform:network`."""

    cidr: str
    az_count: int = Field(ge=2, le=MAX_AZS)
    nat_gateways: Literal["single", "perAz"]
    interface_endpoints: bool
    flow_log_retention_days: RetentionDays

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        parse_vpc_cidr(value)
        return value

    _flow_retention = field_validator("flow_log_retention_days")(_retention)


class KeySettings(_Model):
    """`platform:keys`."""

    deletion_window_days: int = Field(ge=7, le=30)


class StorageSettings(_Model):
    """`platform:storage`."""

    replication: bool
    replica_region: str | None = None
    noncurrent_version_expiry_days: PositiveInt
    infrequent_access_after_days: int = Field(ge=30)  # S3 minimum for STANDARD_IA
    access_log_expiry_days: PositiveInt
    force_destroy: bool = False

    @model_validator(mode="after")
    def _replica(self) -> StorageSettings:
        if self.replication and not self.replica_region:
            raise ValueError("replicaRegion is required when replication is true")
        return self


class AppSettings(_Model):
    """`platform:app` — the product brief's per-environment service settings."""

    replicas: PositiveInt
    autoscaling: bool
    monitoring: Literal["basic", "enhanced", "full"]
    deploy_branches: list[str] = Field(min_length=1)


class Settings(_Model):
    """Everything the program needs for one stack."""

    stack: str
    environment: Literal["dev", "uat", "prod"]
    region: str
    owner: str = Field(min_length=1)
    cost_center: str = Field(min_length=1)
    protect: bool
    network: NetworkSettings
    keys: KeySettings
    storage: StorageSettings
    app: AppSettings

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check_region(value)

    @model_validator(mode="after")
    def _environment_rules(self) -> Settings:
        problems = []
        need = MIN_AZS[self.environment]
        if self.network.az_count < need:
            problems.append(
                f"network.azCount: {self.network.az_count} is fewer than the {need} AZs the "
                f"{self.environment} profile needs"
            )
        if self.environment == "prod":
            if self.network.nat_gateways != "perAz":
                problems.append(
                    f"network.natGateways: {self.network.nat_gateways!r} is not allowed in prod; "
                    "use 'perAz' so losing one AZ does not cut egress for the others"
                )
            if not self.protect:
                problems.append("protect: false is not allowed in prod (stateful resources)")
            if not self.storage.replication:
                problems.append("storage.replication: prod must replicate to a second region")
        if self.storage.replica_region:
            try:
                _check_region(self.storage.replica_region)
            except ValueError as exc:
                problems.append(f"storage.replicaRegion: {exc}")
            if self.storage.replica_region == self.region:
                problems.append(
                    f"storage.replicaRegion: {self.storage.replica_region!r} is the stack's own "
                    "region; choose a second region"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def name_prefix(self) -> str:
        """Prefix for physical names: unique per stack so two stacks can share an account."""
        return f"{NAMESPACE}-{self.stack}"

    @property
    def replica_region(self) -> str | None:
        return self.storage.replica_region if self.storage.replication else None

    def default_tags(self) -> dict[str, str]:
        return {
            "project": NAMESPACE,
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
            "stack": self.stack,
        }


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows in any partition (offline, no AWS call)."""
    import botocore.session

    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


def _check_region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(
            f"{value!r} is not an AWS region known to botocore (e.g. eu-west-1, us-east-1; "
            f"{len(known_regions())} known)"
        )
    return value


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` into a copy of `base`; nested mappings merge, everything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def load_settings(stack: str, config: Mapping[str, Any]) -> Settings:
    """Build validated settings for `stack` from flat Pulumi config (`"platform:x": ...`)."""
    own = {
        key.split(":", 1)[1]: _decode(value)
        for key, value in config.items()
        if key.startswith(f"{NAMESPACE}:")
    }
    environment = own.pop("profile", stack)
    if environment not in ENVIRONMENTS:
        source = (
            "platform:profile"
            if "profile" in config or f"{NAMESPACE}:profile" in config
            else ("the stack name")
        )
        raise SettingsError(
            stack,
            [
                f"{source}: {environment!r} is not a known environment; allowed: "
                f"{', '.join(ENVIRONMENTS)} (set platform:profile when the stack name is not one)"
            ],
        )
    document = deep_merge(PROFILES[environment], own)
    document.update(stack=stack, environment=environment)
    if "aws:region" in config:
        document["region"] = config["aws:region"]
    try:
        return Settings.model_validate(document)
    except ValidationError as exc:
        raise SettingsError(stack, [line for e in exc.errors() for line in _describe(e)]) from None


def _key(loc: list[str]) -> str:
    if loc[:1] == ["region"]:
        return "aws:region"
    head, rest = loc[0], loc[1:]
    return f"{NAMESPACE}:{head}" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)


def _describe(error: Mapping[str, Any]) -> list[str]:
    """Readable lines for one pydantic error: config key path, the bad value, what is allowed."""
    loc = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if not loc:
        # Cross-field rules report "relative.key.path: message" lines themselves.
        return [f"{NAMESPACE}:{line}" for line in message.splitlines()]
    key = _key(loc)
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return [f"{key}: unknown key (typo?); allowed keys here: {', '.join(allowed)}"]
    if error["type"] == "missing":
        return [f"{key}: required but not set"]
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) else f" = {value!r}"
    return [f"{key}{shown}: {message}"]


def _allowed_keys(loc: list[str]) -> list[str]:
    model: Any = Settings
    for part in loc:
        if part.isdigit():
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return sorted(f.alias or n for n, f in model.model_fields.items())


def from_pulumi() -> Settings:
    """Adapter for the running program: read every `platform:*` key plus `aws:region`.

    Pulumi has no public "list config keys" call; the SDK's config map is the only way to see
    keys the program does not know about, which is what makes typos fail loudly.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return load_settings(pulumi.get_stack(), raw)
