"""From flat Pulumi config to validated `Settings`: the one pipeline every caller uses.

    config (flat `{"ns:key": value}`) ─> the `platform:` keys, secrets recognised
      ─> the environment's profile, deep-merged under them ─> `Settings` (every rule)

`load_settings` is pure, so tests and the offline plan call it directly; `from_pulumi()` is
the thin adapter for the running program.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from infra.config.errors import SettingsError, describe
from infra.config.model import Settings
from infra.config.profiles import ENVIRONMENTS, PROFILES
from infra.config.reading import decode, deep_merge
from infra.naming import NAMESPACE

SECRET_KEYS = ("slackWebhookUrl", "grafanaAdminPassword")


def _secrets(stack: str, own: dict[str, Any], secret_keys: frozenset[str]) -> None:
    """Turn the secret keys into `SecretSetting` input; refuse them in plain text."""
    problems = []
    for key in SECRET_KEYS:
        if key not in own:
            continue
        value = own[key]
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            own[key] = {"value": None}  # the stack file's ciphertext (offline)
        elif isinstance(value, str) and f"{NAMESPACE}:{key}" in secret_keys:
            own[key] = {"value": value}
        else:
            problems.append(
                f"{NAMESPACE}:{key}: must be a secret; set it with `pulumi config set --secret "
                f"{NAMESPACE}:{key} ...` (a plain value is stored unencrypted in "
                f"Pulumi.{stack}.yaml and shown in previews)"
            )
    if problems:
        raise SettingsError(stack, problems)


def load_settings(
    stack: str, config: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()
) -> Settings:
    """Build validated settings for `stack` from flat Pulumi config (`"platform:x": ...`).

    `secret_keys`: the config keys the engine holds as secrets (their values here are the
    decrypted text); the stack file's `secure:` values are recognised on their own.
    """
    own = {
        key.split(":", 1)[1]: decode(value)
        for key, value in config.items()
        if key.startswith(f"{NAMESPACE}:")
    }
    _secrets(stack, own, secret_keys)
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
        lines = [line for e in exc.errors() for line in describe(e, Settings)]
        raise SettingsError(stack, lines) from None


def from_pulumi() -> Settings:
    """Adapter for the running program: read every `platform:*` key plus `aws:region`.

    Pulumi has no public "list config keys" call; the SDK's config map is the only way to see
    keys the program does not know about, which is what makes typos fail loudly.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = frozenset(key for key in raw if runtime_config.is_config_secret(key))
    return load_settings(pulumi.get_stack(), raw, secret)
