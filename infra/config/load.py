"""From flat Pulumi config to validated `Settings`: the one pipeline every caller uses.

    config (flat `{"ns:key": value}`) ─> the `platform:` keys, secrets recognised
      ─> the environment's profile, deep-merged under them ─> `Settings` (every rule)

`load_settings` is pure, so tests and the offline plan call it directly; `from_pulumi()` is
the thin adapter for the running program.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from infra.config.errors import SECRETS, SettingsError, describe
from infra.config.floors import PROTECTED_ENVIRONMENT
from infra.config.local import CLOUD_ONLY, LocalSettings
from infra.config.model import Settings
from infra.config.profiles import ENVIRONMENTS, LOCAL_ENVIRONMENT, PROFILE_NAMES, PROFILES
from infra.config.reading import decode, deep_merge
from infra.naming import NAMESPACE

SECRET_KEYS = SECRETS
# Config namespaces something in this project reads: the program itself; the providers it uses
# (their own settings, e.g. `aws:region`, `aws:profile`); the engine (`pulumi:tags`); the
# release tool's records (`release:<service>`). Any other namespace is a typo or a key for a
# program that does not run here: refused, never ignored.
KNOWN_NAMESPACES = (NAMESPACE, "aws", "kubernetes", "eks", "random", "tls", "pulumi", "release")


# Settings fields the program fills in, which a `platform:` key must not set behind its back.
_PROGRAM_FILLED = {
    "region": "the region belongs at aws:region (`pulumi config set aws:region eu-west-1`)",
    "stack": "the stack name is the stack's own (`pulumi stack select`)",
    "environment": f"the environment is chosen with {NAMESPACE}:profile",
}


def namespace_problems(config: Mapping[str, Any]) -> list[str]:
    """Keys outside the namespaces anything here reads, with a did-you-mean."""
    problems = []
    for key in config:
        namespace, colon, name = str(key).partition(":")
        if not colon:
            problems.append(
                f"{key}: a config key without a namespace; write {NAMESPACE}:{key} "
                f"(`pulumi config set {key} ...` adds it for you)"
            )
        elif namespace not in KNOWN_NAMESPACES:
            close = difflib.get_close_matches(namespace, KNOWN_NAMESPACES, n=1, cutoff=0.6)
            hint = (
                f"did you mean {close[0]}:{name}?"
                if close
                else f"namespaces read here: {', '.join(KNOWN_NAMESPACES)}"
            )
            problems.append(
                f"{key}: no program or provider here reads namespace {namespace!r}; {hint}"
            )
    return problems


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


def _map_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, type[BaseModel]]]:
    """(config path, entry model) of every map of named entries (`cluster.nodeGroups`)."""
    found = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        if getattr(annotation, "__origin__", None) is dict and len(args) == 2:
            if isinstance(args[1], type) and issubclass(args[1], BaseModel):
                found.append((key, args[1]))
            continue
        for inner in args or (annotation,):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                found += _map_fields(inner, f"{key}.")
    return found


def _at(document: Mapping[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def protected_name_problems(stack: str, environment: str) -> list[str]:
    """Safety keys on the name too: a stack named like the protected environment (`prod`,
    `prod-eu`) gets that environment's profile and floors, whatever `platform:profile` says —
    one line in the stack file must not take a prod stack's floors away."""
    if (stack == PROTECTED_ENVIRONMENT or stack.startswith(f"{PROTECTED_ENVIRONMENT}-")) and (
        environment != PROTECTED_ENVIRONMENT
    ):
        return [
            f"{NAMESPACE}:profile: {environment!r} on stack {stack!r}: a stack named like the "
            f"protected environment {PROTECTED_ENVIRONMENT!r} takes its profile and floors; "
            f"set {NAMESPACE}:profile: {PROTECTED_ENVIRONMENT} (or remove it), or give the "
            "stack a name that does not start with it"
        ]
    return []


def local_name_problems(stack: str, environment: str) -> list[str]:
    """The same idea for the local profile: a stack named like a cloud environment (`dev`,
    `uat-eu`, `prod`) deploys to AWS, so it can never take the local profile — one line must
    not turn a cloud stack's `pulumi up` into one against whatever cluster a laptop points at
    (and take its floors away) — and a stack named like `local` never takes a cloud one."""
    if environment != LOCAL_ENVIRONMENT:
        # And back: `pulumi up --stack local` never creates AWS resources someone pays for.
        if stack == LOCAL_ENVIRONMENT or stack.startswith(f"{LOCAL_ENVIRONMENT}-"):
            return [
                f"{NAMESPACE}:profile: {environment!r} on stack {stack!r}: a stack named like "
                f"the local environment takes the local profile (no AWS); remove "
                f"{NAMESPACE}:profile (or set {LOCAL_ENVIRONMENT}), or give the cloud stack a "
                f"name that does not start with {LOCAL_ENVIRONMENT!r}"
            ]
        return []
    named = [e for e in ENVIRONMENTS if stack == e or stack.startswith(f"{e}-")]
    if not named:
        return []
    return [
        f"{NAMESPACE}:profile: {LOCAL_ENVIRONMENT!r} on stack {stack!r}: a stack named like the "
        f"cloud environment {named[0]!r} takes a cloud profile; remove {NAMESPACE}:profile (or "
        f"set {named[0]}), or give the local stack a name that does not start with "
        f"{', '.join(ENVIRONMENTS)} (e.g. local, local-alice)"
    ]


def cloud_only_problems(config: Mapping[str, Any], own: Mapping[str, Any]) -> list[str]:
    """A local stack's keys for something only AWS has: named, with what stands in for it."""
    problems = [
        f"{NAMESPACE}:{key}: not used by a local stack: {why}"
        for key, why in CLOUD_ONLY.items()
        if key in own
    ]
    problems += [
        f"{key}: a local stack configures no AWS provider and creates no AWS resource; remove it"
        for key in config
        if str(key).startswith(("aws:", "eks:"))
    ]
    return problems


def new_entry_problems(environment: str, own: Mapping[str, Any]) -> list[str]:
    """A stack file's entry of a named map the profile does not have (renamed, or never
    there) that is not complete on its own: say so, instead of "field required" for each of
    its fields."""
    problems = []
    for path, model in _map_fields(Settings):
        entries, known = _at(own, path), _at(PROFILES[environment], path) or {}
        if not isinstance(entries, Mapping):
            continue
        required = [f.alias or n for n, f in model.model_fields.items() if f.is_required()]
        for name, entry in entries.items():
            if name in known or not isinstance(entry, Mapping):
                continue
            missing = [key for key in required if key not in entry]
            if missing:
                problems.append(
                    f"{NAMESPACE}:{path}.{name}: no entry {name!r} in the {environment} profile "
                    f"(it has: {', '.join(known) or 'none'}); to change one of those, use its "
                    f"name; to add {name!r}, give it {', '.join(missing)} too"
                )
    return problems


def load_settings(
    stack: str, config: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()
) -> Settings | LocalSettings:
    """Build validated settings for `stack` from flat Pulumi config (`"platform:x": ...`).

    `secret_keys`: the config keys the engine holds as secrets (their values here are the
    decrypted text); the stack file's `secure:` values are recognised on their own.
    """
    problems = namespace_problems(config)
    if problems:
        raise SettingsError(stack, problems)
    own = {
        key.split(":", 1)[1]: decode(value)
        for key, value in config.items()
        if key.startswith(f"{NAMESPACE}:")
    }
    problems = [
        f"{NAMESPACE}:{key}: not a config key; {hint}"
        for key, hint in _PROGRAM_FILLED.items()
        if key in own
    ]
    if problems:
        raise SettingsError(stack, problems)
    _secrets(stack, own, secret_keys)
    environment = own.pop("profile", stack)
    if environment not in PROFILE_NAMES:
        source = (
            "platform:profile"
            if "profile" in config or f"{NAMESPACE}:profile" in config
            else ("the stack name")
        )
        raise SettingsError(
            stack,
            [
                f"{source}: {environment!r} is not a known environment; allowed: "
                f"{', '.join(PROFILE_NAMES)} (set platform:profile when the stack name is not one)"
            ],
        )
    problems = protected_name_problems(stack, environment)
    problems += local_name_problems(stack, environment)
    if environment == LOCAL_ENVIRONMENT:
        problems += cloud_only_problems(config, own)
    else:
        problems += new_entry_problems(environment, own)
    if problems:
        raise SettingsError(stack, problems)
    document = deep_merge(PROFILES[environment], own)
    document.update(stack=stack, environment=environment)
    model: type[Settings] | type[LocalSettings] = Settings
    if environment == LOCAL_ENVIRONMENT:
        model = LocalSettings
    elif "aws:region" in config:
        document["region"] = config["aws:region"]
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        lines = [line for e in exc.errors() for line in describe(e, model)]
        raise SettingsError(stack, lines) from None


def from_pulumi() -> Settings | LocalSettings:
    """Adapter for the running program: read every `platform:*` key plus `aws:region`.

    Pulumi has no public "list config keys" call; the SDK's config map is the only way to see
    keys the program does not know about, which is what makes typos fail loudly.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = frozenset(key for key in raw if runtime_config.is_config_secret(key))
    return load_settings(pulumi.get_stack(), raw, secret)
