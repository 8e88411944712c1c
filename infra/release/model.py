"""The release tool's view of one BlueGreenService, parsed from `platform:services`.

Pure data and validation: nothing here talks to Pulumi, Kubernetes or Prometheus.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from pydantic import ValidationError

# The one service entry is validated by the settings model `pulumi up` uses, alone: an
# unrelated config error elsewhere in the stack never blocks a release or an emergency rollback.
from components.bluegreen.args import tag_problems
from infra.config.errors import describe
from infra.config.fields import ConfigModel
from infra.config.services import ServiceSettings

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
    worker: bool = False  # kind: worker — no Ingress: released by scaling, not by traffic

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

    @property
    def serves(self) -> str:
        """What "the active colour has all the work" means for this kind of service."""
        return "runs alone" if self.worker else "serves 100 %"

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
    try:
        settings = ServiceSettings.model_validate(entry)
    except ValidationError as exc:
        lines = [
            line
            for error in exc.errors()
            for line in describe({**error, "loc": ("services", index, *error["loc"])}, _Root)
        ]
        raise ConfigError("; ".join(lines)) from None
    return Service(
        name=settings.name,
        index=index,
        image=settings.image,
        tags={Color.BLUE: settings.tags.blue, Color.GREEN: settings.tags.green},
        active=Color(settings.active_color),
        split=settings.traffic_split,
        idle_replicas=settings.idle_replicas,
        service_port=settings.service_port,
        health_path=settings.health_path,
        worker=settings.kind == "worker",
    )


class _Root(ConfigModel):
    """Where `describe` looks up the keys an unknown service key could have meant."""

    services: list[ServiceSettings]
