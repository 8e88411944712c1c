"""The local stack's part of `make plan STACK=local`: where it deploys, what stands in for
each AWS service, and the proof that nothing in it is an AWS resource (it has no cost table:
it runs on a laptop)."""

from __future__ import annotations

from components.local_stores.versions import STAND_INS
from infra.config import LocalSettings
from infra.offline.mockengine import Recording

# The AWS service each stand-in replaces.
REPLACES = {"postgres": "Aurora PostgreSQL", "valkey": "ElastiCache", "kafka": "MSK"}
CLOUD_PROVIDERS = ("aws:", "eks:")


def cloud_resources(recording: Recording) -> list[str]:
    """Every recorded resource of a cloud provider (the local stack must have none)."""
    return [f"{r.type} {r.name}" for r in recording.resources if r.type.startswith(CLOUD_PROVIDERS)]


def render(settings: LocalSettings, recording: Recording) -> list[str]:
    local = settings.local
    lines = [
        "Local cluster",
        f"    kubeconfig context  {local.context} (Kubernetes {local.version})",
        f"    namespaces          {', '.join(local.namespaces)} (restricted) + data, monitoring",
        f"    storage class       {local.storage_class}",
        "",
        "Stand-ins (one pod each, in namespace data)",
    ]
    lines += [
        f"    {name:<10} for {REPLACES[name]:<18} {stand_in.image}"
        for name, stand_in in STAND_INS.items()
    ]
    found = cloud_resources(recording)
    lines += ["", f"AWS resources: {len(found)}", *(f"    {r}" for r in found)]
    return lines
