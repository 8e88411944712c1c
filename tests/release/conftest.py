"""In-memory fakes of the release tool's ports, and a `world` fixture wiring them together.

The fake stack keeps two copies of `platform:services`: `services` (the stack YAML) and
`applied` (what the last successful `pulumi up` pushed to the cluster). The fake cluster,
smoke test and metrics look at `applied`, so a config change without an apply has no effect,
exactly like the real thing. `crash_before` kills the "process" just before a given write.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from infra.release.actions import Check, Done, Sample
from infra.release.deploy import Deployment
from infra.release.model import Color, Service, find_service
from infra.release.ports import Ports
from infra.release.promote import promotion
from infra.release.record import Record
from infra.release.rollback import Rollback
from infra.release.runner import run
from infra.release.sync import live_fields
from infra.release.transitions import Policy

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api"
HEALTHY = Sample(error_rate=0.01, p95_seconds=0.3)


def fast() -> Policy:
    """Short waits for the fakes. A function, not a module constant: building a Policy runs its
    validation, which `make mutate` mutates, and a conftest must import under every mutant."""
    return Policy(step_wait=60, window=60, ready_timeout=30, poll_interval=10)


class Crash(BaseException):
    """Simulated death of the release process (the runner does not catch it)."""


def service_entry(**overrides: object) -> dict[str, object]:
    """One `platform:services` entry: api, blue 1.4.2 active, green 1.5.0 idle."""
    entry: dict[str, object] = {
        "name": "api",
        "image": IMAGE,
        "tags": {"blue": "1.4.2", "green": "1.5.0"},
        "activeColor": "blue",
        "trafficSplit": None,
        "idleReplicas": None,
        "port": 8080,
        "healthPath": "/healthz",
        "allowPlainHttp": True,
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


class FakeStack:
    """`StackConfig` + `ReleaseLog` in memory, with failure and crash injection."""

    def __init__(self, services: list[dict[str, object]]) -> None:
        self.services = copy.deepcopy(services)
        self.applied = copy.deepcopy(services)
        self.records: dict[str, str] = {}
        self.history: list[str] = []
        self.applies: list[dict[str, object]] = []
        self.crash_before: str | None = None
        self.crash_occurrence = 1
        self.fail_apply: Callable[[dict[str, object]], bool] = lambda entry: False

    def _write(self, op: str) -> None:
        if op == self.crash_before:
            self.crash_occurrence -= 1
            if self.crash_occurrence == 0:
                self.crash_before = None
                raise Crash(op)
        self.history.append(op)

    def read_services(self) -> object:
        return copy.deepcopy(self.services)

    def set_field(self, index: int, field: str, value: str | int) -> None:
        self._write(f"set {field}={value}")
        *parents, leaf = field.split(".")
        node = self.services[index]
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = value

    def clear_field(self, index: int, field: str) -> None:
        self._write(f"clear {field}")
        *parents, leaf = field.split(".")
        node = self.services[index]
        for part in parents:
            node = node.get(part, {})  # type: ignore[assignment]
        node.pop(leaf, None)

    def live_services(self) -> dict[str, dict]:
        """What the stack's outputs would say after the last apply."""
        return live_fields({e["name"]: e for e in self.applied})  # type: ignore[misc]

    def apply(self) -> None:
        self._write("apply")
        if self.fail_apply(self.services[0]):
            raise RuntimeError("pulumi up failed: update failed")
        self.applied = copy.deepcopy(self.services)
        self.applies.append(copy.deepcopy(self.services[0]))

    def load(self, service: str) -> Record | None:
        text = self.records.get(service)
        return Record.from_json(text) if text is not None else None

    def save(self, service: str, record: Record) -> None:
        self._write(f"save {record.phase}")
        self.records[service] = record.to_json()

    def live(self) -> Service:
        """The service as the cluster runs it."""
        return find_service(self.applied, "api")

    def config(self) -> Service:
        """The service as the stack config says."""
        return find_service(self.services, "api")


class FakeCluster:
    """Readiness from the applied config: right image, not scaled to 0, not a bad tag."""

    def __init__(self, stack: FakeStack) -> None:
        self.stack = stack
        self.bad_tags: set[str] = set()
        self.not_ready_checks = 0
        self.calls: list[Color] = []

    def readiness(self, service: str, color: Color, image: str) -> Check:
        self.calls.append(color)
        live = find_service(self.stack.applied, service)
        if color not in live.tags or live.image_ref(color) != image:
            return Check(False, f"{service}-{color} runs {live.tags.get(color)}, want {image}")
        if color is live.idle and live.idle_replicas == 0:
            return Check(False, f"{service}-{color} is scaled to 0 replicas")
        if live.tags[color] in self.bad_tags:
            return Check(False, f"{service}-{color} 0/2 ready (CrashLoopBackOff)")
        if self.not_ready_checks > 0:
            self.not_ready_checks -= 1
            return Check(False, f"{service}-{color} rolling out: ready 1/2")
        return Check(True, f"{service}-{color} 2/2 ready")


class FakeSmoke:
    """Smoke probe that fails for the listed tags on the applied idle colour."""

    def __init__(self, stack: FakeStack) -> None:
        self.stack = stack
        self.bad_tags: set[str] = set()
        self.calls = 0

    def probe(self, service: Service) -> Check:
        self.calls += 1
        live = find_service(self.stack.applied, service.name)
        url = f"http://{service.name}-preview.apps.svc.cluster.local:80{service.health_path}"
        if live.tags.get(live.idle) in self.bad_tags:
            return Check(False, f"GET {url} -> HTTP 503")
        return Check(True, f"GET {url} -> HTTP 200")


class FakeMetrics:
    """Returns scripted samples in order, then `default`; an Exception in the script raises."""

    def __init__(self) -> None:
        self.script: list[Sample | Exception] = []
        self.default = HEALTHY
        self.calls: list[tuple[Color, float]] = []

    def sample(self, service: str, color: Color, window_seconds: float) -> Sample:
        self.calls.append((color, window_seconds))
        item = self.script.pop(0) if self.script else self.default
        if isinstance(item, Exception):
            raise item
        return item


class FakeClock:
    """Records sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@dataclass
class World:
    """A fake platform: one service `api` and every port."""

    stack: FakeStack
    cluster: FakeCluster
    smoke: FakeSmoke
    metrics: FakeMetrics
    clock: FakeClock
    ports: Ports = field(init=False)

    def __post_init__(self) -> None:
        self.ports = Ports(
            self.stack, self.stack, self.cluster, self.smoke, self.metrics, self.clock
        )

    def _service(self) -> tuple[Service, Record | None]:
        return self.stack.config(), self.stack.load("api")

    def deploy(self, tag: str | None, color: Color | None = None) -> Done:
        service, record = self._service()
        return run(Deployment(service, record, tag, color), service, self.ports)

    def promote(self, policy: Policy | None = None) -> Done:
        service, record = self._service()
        return run(promotion(service, record, policy or fast()), service, self.ports)

    def rollback(self, to_tag: str | None = None, policy: Policy | None = None) -> Done:
        service, record = self._service()
        return run(Rollback(service, record, policy or fast(), to_tag), service, self.ports)

    def crashes(self, operation: Callable[[], Done]) -> bool:
        """Run `operation`; True if the injected crash killed it."""
        try:
            operation()
        except Crash:
            return True
        return False

    def converged_on(self) -> Color:
        """Assert one colour serves 100 % and config matches the cluster; return the colour."""
        live = self.stack.live()
        assert live.split is None, f"traffic still split: {live.split} %"
        assert self.stack.services == self.stack.applied, "config not applied"
        return live.active


def make_world(**overrides: object) -> World:
    """A world whose config and cluster hold `service_entry(**overrides)`."""
    stack = FakeStack([service_entry(**overrides)])
    return World(stack, FakeCluster(stack), FakeSmoke(stack), FakeMetrics(), FakeClock())


@pytest.fixture(name="make_world")
def make_world_fixture() -> Callable[..., World]:
    """Factory for worlds with other service settings, e.g. `make_world(idleReplicas=0)`."""
    return make_world


@pytest.fixture
def world() -> World:
    """Steady state: blue 1.4.2 serves, nothing staged."""
    return make_world()


@pytest.fixture
def staged() -> World:
    """`deploy --tag 1.6.0` done: green holds the candidate, blue serves."""
    w = make_world()
    assert w.deploy("1.6.0").code == 0
    w.stack.history.clear()
    w.stack.applies.clear()
    return w
