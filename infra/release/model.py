"""The release tool's view of one BlueGreenService, parsed from `platform:services`.

Pure data and validation: nothing here talks to Pulumi, Kubernetes or Prometheus.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

# The service's own rules, from their one home (the component the settings layer uses too).
from components.bluegreen.args import (
    MAX_SERVICE_NAME,
    image_problems,
    path_problems,
    tag_problems,
)
from components.kubernetes_rules import service_name_problems

SERVICES_KEY = "platform:services"


class ExitCode(IntEnum):
    """Process exit codes of `python -m infra.release`."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    ROLLBACK_FAILED = 3


class ConfigError(ValueError):
    """Invalid command line or stack config; the tool exits with ExitCode.USAGE."""


class Color(StrEnum):
    """One of the two colours of a blue-green service."""

    BLUE = "blue"
    GREEN = "green"

    @property
    def other(self) -> "Color":
        """The opposite colour."""
        return Color.GREEN if self is Color.BLUE else Color.BLUE


@dataclass(frozen=True)
class Service:
    """One entry of `platform:services`, with its position in the list."""

    name: str
    index: int
    image: str
    tags: Mapping[Color, str]
    active: Color
    split: int | None
    idle_replicas: int | None
    service_port: int
    health_path: str

    @property
    def idle(self) -> Color:
        """The colour that receives no traffic in steady state."""
        return self.active.other

    def tag(self, color: Color) -> str | None:
        """The image tag configured for `color`, if any."""
        return self.tags.get(color)

    def image_ref(self, color: Color) -> str:
        """`image:tag` for `color` (the tag must be set)."""
        return f"{self.image}:{self.tags[color]}"

    def label(self, color: Color) -> str:
        """Human label such as `green (1.5.0)`."""
        return f"{color} ({self.tags.get(color, 'no tag')})"


def validate_tag(tag: str | None) -> str:
    """Return `tag` if it is a pinned image tag (the service's own rule); else ConfigError."""
    problems = tag_problems(tag)
    if problems:
        raise ConfigError(problems[0])
    return tag  # type: ignore[return-value]


def find_service(raw: object, name: str) -> Service:
    """Parse the `platform:services` list and return the entry called `name`."""
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ConfigError(f"{SERVICES_KEY} must be a list of services, got {type(raw).__name__}")
    names = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{SERVICES_KEY}[{index}] must be an object")
        names.append(entry.get("name"))
        if entry.get("name") == name:
            return _parse(entry, index)
    raise ConfigError(f"service {name!r} not found in {SERVICES_KEY}; configured: {names}")


def _parse(entry: Mapping[str, object], index: int) -> Service:
    key = f"{SERVICES_KEY}[{index}]"
    name = entry.get("name")
    if problems := service_name_problems(name, MAX_SERVICE_NAME):
        raise ConfigError(f"{key}.name: {problems[0]}")
    image = entry.get("image")
    if problems := image_problems(image):
        raise ConfigError(f"{key}.image: {problems[0]}")
    raw_active = entry.get("activeColor")
    if raw_active not in (Color.BLUE, Color.GREEN):
        raise ConfigError(f"{key}.activeColor must be 'blue' or 'green', got {raw_active!r}")
    active = Color(str(raw_active))
    raw_tags = entry.get("tags") or {}
    if not isinstance(raw_tags, Mapping) or set(raw_tags) - {"blue", "green"}:
        raise ConfigError(f"{key}.tags must map blue/green to image tags, got {raw_tags!r}")
    tags = {Color(str(c)): str(t) for c, t in raw_tags.items() if t is not None}
    if active not in tags:
        raise ConfigError(f"{key}.tags.{active} must be set: it is the active colour")
    health = entry.get("healthPath", "/healthz")
    if problems := path_problems(health):
        raise ConfigError(f"{key}.healthPath: {problems[0]}")
    return Service(
        name=name,  # type: ignore[arg-type]
        index=index,
        image=image,  # type: ignore[arg-type]
        tags=tags,
        active=active,
        split=_optional_int(entry, "trafficSplit", key, 0, 100),
        idle_replicas=_optional_int(entry, "idleReplicas", key, 0, 1000),
        service_port=_optional_int(entry, "servicePort", key, 1, 65535) or 80,
        health_path=health,
    )


def _optional_int(
    entry: Mapping[str, object], field: str, key: str, low: int, high: int
) -> int | None:
    """Read an optional integer; `pulumi config set --path` may store it as a string."""
    value = entry.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ConfigError(f"{key}.{field} must be an integer {low}..{high}, got {value!r}")
    number = int(str(value))
    if not low <= number <= high:
        raise ConfigError(f"{key}.{field} must be an integer {low}..{high}, got {number}")
    return number
