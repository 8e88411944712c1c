"""Run a Pulumi program under the SDK's mock engine and record every resource it registers.

This is what `make plan` and the whole-stack tests use instead of a cloud account: the real
program runs, the mock monitor captures each RegisterResource request (type, name, parent,
inputs, protect/retain flags, provider) and answers with plausible cloud-assigned outputs
(ids, ARNs, endpoints). Outputs are synthesised from the resource's *identity* (type and
name), never copied from what a test expects, so a test can only pass on the inputs the
program really sent.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

# The mocks themselves are public (components.testing): users' tests and this engine share them.
from components.testing import ACCOUNT_ID
from components.testing import AwsMocks as PlatformMocks

__all__ = [
    "ACCOUNT_ID",
    "PlatformMocks",
    "RecordedResource",
    "Recording",
    "RecordingMonitor",
    "integral",
    "kubernetes_manifest",
    "last_run",
    "run_program",
    "urn_type",
]

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class RecordedResource:
    """One RegisterResource request as the engine would see it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    provider: str
    ignore_changes: list[str]
    secret_inputs: list[str] = field(default_factory=list)
    id: str = ""  # the id the (mock) cloud assigned
    dependencies: list[str] = field(default_factory=list)  # URNs it waits for (depends_on)
    # input name -> URNs of the resources whose outputs that input was built from
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    @property
    def parent_type(self) -> str:
        return urn_type(self.parent) if self.parent else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "provider": self.provider,
            "ignoreChanges": self.ignore_changes,
            "inputs": _redact(self.inputs, self.secret_inputs),
        }


@dataclass
class Recording:
    """Everything one program run registered, plus its stack outputs."""

    resources: list[RecordedResource]
    outputs: dict[str, Any]
    secret_outputs: set[str]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> RecordedResource:
        matches = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_} named {name!r}, found {len(matches)}")
        return matches[0]

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def _index(self) -> dict[str, RecordedResource]:
        """`by_urn()`, built once per recording (not per lookup: that would be quadratic)."""
        cached = self.__dict__.get("_urn_index")
        if cached is None or cached[0] != len(self.resources):
            cached = (len(self.resources), self.by_urn())
            self.__dict__["_urn_index"] = cached
        return cached[1]

    def ancestors(self, resource: RecordedResource) -> list[RecordedResource]:
        """Component chain above a resource, nearest first."""
        index, chain, parent = self._index(), [], resource.parent
        while parent in index:
            chain.append(index[parent])
            parent = index[parent].parent
        return chain

    def children_of(self, component: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == component.urn]


def urn_type(urn: str) -> str:
    """The resource type at the end of a URN's type chain."""
    return urn.split("::")[2].split("$")[-1]


def _redact(value: Any, secret_keys: Iterable[str]) -> Any:
    if isinstance(value, dict):
        return {k: ("[secret]" if k in secret_keys else v) for k, v in value.items()}
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Mock monitor that keeps the engine-level facts Mocks.new_resource does not see."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.secret_outputs: set[str] = set()

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != STACK_TYPE:
            inputs = rpc.deserialize_properties(request.object)
            self.recorded.append(
                RecordedResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=bool(request.custom),
                    inputs=_unwrap_secrets(inputs),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    provider=request.provider,
                    ignore_changes=list(request.ignoreChanges),
                    secret_inputs=sorted(k for k, v in inputs.items() if _is_secret(v)),
                    id=response.id,
                    dependencies=list(request.dependencies),
                    property_dependencies={
                        key: list(deps.urns) for key, deps in request.propertyDependencies.items()
                    },
                )
            )
        return response

    def RegisterResourceOutputs(self, request):
        if urn_type(request.urn) == STACK_TYPE:
            outputs = rpc.deserialize_properties(request.outputs)
            self.secret_outputs = {k for k, v in outputs.items() if _is_secret(v)}
            self.stack_outputs = _unwrap_secrets(outputs)
        return super().RegisterResourceOutputs(request)


def integral(value: Any) -> Any:
    """The engine's wire format has only doubles; Kubernetes wants integers as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


def kubernetes_manifest(resource: RecordedResource) -> dict[str, Any] | None:
    """A recorded Kubernetes object as kubectl would send it (None for anything else:
    other providers, Helm releases, providers themselves)."""
    if not resource.type.startswith("kubernetes:") or "helm.sh" in resource.type:
        return None
    _, group_version, kind = resource.type.split(":")
    group, version = group_version.split("/")
    inputs = {k: v for k, v in resource.inputs.items() if not k.startswith("__")}
    api_version = version if group == "core" else group_version
    return {"apiVersion": api_version, "kind": kind, **integral(inputs)}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _unwrap_secrets(value: Any) -> Any:
    if _is_secret(value):
        return _unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def run_program(
    program: Callable[[], None],
    *,
    stack: str,
    config: dict[str, Any],
    project: str = "platform",
    mocks: pulumi.runtime.Mocks | None = None,
    secret_keys: frozenset[str] = frozenset(),
) -> Recording:
    """Run `program` as stack `stack` with flat Pulumi config (`"ns:key": value`) under mocks.

    Raises whatever the program raises (e.g. a settings validation error) after the engine
    has drained, so a failing program still reports which resources it registered.
    """
    region = str(config.get("aws:region", "eu-west-1"))
    mocks = mocks or PlatformMocks(region)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
        list(secret_keys),  # the keys `pulumi config set --secret` would have marked
    )
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    # set_mocks installs a root Stack eagerly; run_in_stack wants to create its own so that
    # stack exports are registered (and recorded) when the program finishes.
    pulumi_settings.ROOT.set(None)
    # No cyclic collection during the run: each full pass would walk the objects of the ~1,800
    # SDK modules already imported (a third of a prod run's CPU), while a run's own garbage is
    # small and bounded (~20 MB for prod); the collector resumes, and frees it, afterwards.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _sync_await(run_in_stack(program))
    finally:
        if collecting:
            gc.enable()
        last_run.monitor = monitor
    return Recording(monitor.recorded, monitor.stack_outputs, monitor.secret_outputs)


class _LastRun:
    """The monitor of the most recent run, so a failed run can still be inspected."""

    monitor: RecordingMonitor | None = None


last_run = _LastRun()
