"""The `status` report: colours, tags, traffic split, readiness, release record."""

from collections.abc import Mapping

from infra.release.actions import Check
from infra.release.model import Color, Service
from infra.release.record import Record


def format_status(service: Service, record: Record | None, ready: Mapping[Color, Check]) -> str:
    """A short multi-line report for operators."""
    split = service.split
    if service.worker:
        traffic = f"worker, {service.active} runs (no Ingress: released by scaling)"
    elif split is None:
        traffic = f"100 % {service.active}"
    else:
        traffic = f"{100 - split} % {service.active}, {split} % {service.idle} (canary)"
    lines = [f"service {service.name}: {traffic}"]
    for color in (service.active, service.idle):
        role = "active" if color is service.active else "idle"
        check = ready.get(color)
        state = "no tag" if check is None else ("ready" if check.ok else "NOT READY")
        detail = f" ({check.detail})" if check is not None and check.detail else ""
        lines.append(f"  {role:6} {service.label(color):24} {state}{detail}")
    if service.idle_replicas is not None:
        lines.append(f"  idleReplicas: {service.idle_replicas}")
    if record is not None:
        lines.append(f"  release record: {record.to_json()}")
    return "\n".join(lines)
