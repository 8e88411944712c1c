"""The side effects the release tool needs, as small Protocols.

Real adapters live in `infra.release.adapters`; tests use in-memory fakes.
"""

from dataclasses import dataclass
from typing import Protocol

from infra.release.actions import Check, Sample
from infra.release.model import Color, Service
from infra.release.record import Record


class StackConfig(Protocol):
    """The stack's `platform:services` config and `pulumi up`."""

    def read_services(self) -> object:
        """The raw `platform:services` value (a list of service objects)."""
        ...

    def set_field(self, index: int, field: str, value: str | int) -> None:
        """Set `platform:services[index].<field>` (`field` may be dotted, e.g. `tags.green`)."""
        ...

    def clear_field(self, index: int, field: str) -> None:
        """Remove `platform:services[index].<field>`; no-op when absent."""
        ...

    def live_services(self) -> dict[str, dict]:
        """Per service, the release-managed fields as the stack last applied them (its
        `services` output, `infra.release.sync.live_fields`); empty before the first up."""
        ...

    def apply(self) -> None:
        """Run `pulumi up` for the stack; raise on failure."""
        ...


class ReleaseLog(Protocol):
    """Where the release record (intent) of each service is kept."""

    def load(self, service: str) -> Record | None:
        """The last saved record, or None."""
        ...

    def save(self, service: str, record: Record) -> None:
        """Persist `record` durably before returning."""
        ...


class Cluster(Protocol):
    """Kubernetes state of the colour Deployments."""

    def readiness(self, service: str, color: Color, image: str) -> Check:
        """Whether Deployment `<service>-<color>` runs `image`, fully rolled out and ready."""
        ...


class Smoke(Protocol):
    """An HTTP request to the idle colour through the `<service>-preview` Service."""

    def probe(self, service: Service) -> Check:
        """GET the health path; ok when the answer is 2xx."""
        ...


class Metrics(Protocol):
    """Request metrics of one colour."""

    def sample(self, service: str, color: Color, window_seconds: float) -> Sample:
        """Error rate (5xx / all) and p95 latency over the last `window_seconds`."""
        ...


class Clock(Protocol):
    """Time, so tests never sleep."""

    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""
        ...


@dataclass(frozen=True)
class Ports:
    """Every side effect a run may use."""

    stack: StackConfig
    log: ReleaseLog
    cluster: Cluster
    smoke: Smoke
    metrics: Metrics
    clock: Clock
