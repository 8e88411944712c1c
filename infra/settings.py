"""Kept importable for existing callers: the configuration lives in `infra.config`."""

from components.cluster.versions import KUBERNETES_VERSIONS
from components.logs import LOG_RETENTION_DAYS
from infra.config import (
    ENVIRONMENTS,
    PROJECT_ROOT,
    Settings,
    SettingsError,
    deep_merge,
    from_pulumi,
    load_settings,
    read_stack_config,
)
from infra.config.fields import SecretSetting
from infra.config.services import ServiceSettings

__all__ = [
    "ENVIRONMENTS",
    "KUBERNETES_VERSIONS",
    "LOG_RETENTION_DAYS",
    "PROJECT_ROOT",
    "SecretSetting",
    "ServiceSettings",
    "Settings",
    "SettingsError",
    "deep_merge",
    "from_pulumi",
    "load_settings",
    "read_stack_config",
]
