"""Pod hardening shared by every workload the platform runs (one home for the rules).

The Pod Security Standard `restricted` profile, as securityContext values: non-root, no
privilege escalation, every capability dropped, the runtime's default seccomp profile and a
read-only root filesystem. Application Deployments, bootstrap Jobs and the Helm charts'
values all take them from here, and `is_hardened_*` lets tests and policies check any pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components import pod_security

__all__ = [
    "NOBODY",
    "SECCOMP_RUNTIME_DEFAULT",
    "WRITABLE_TMP",
    "container_security_context",
    "is_hardened_container",
    "is_hardened_pod",
    "pod_security_context",
]


SECCOMP_RUNTIME_DEFAULT = {"type": "RuntimeDefault"}
# Where a pod with a read-only root filesystem gets a writable emptyDir (a path inside the
# container, not the host's shared temp directory).
WRITABLE_TMP = "/tmp"  # nosec B108
NOBODY = 65534  # the conventional unprivileged UID/GID for images that ship no user of their own


def container_security_context() -> dict[str, Any]:
    """Container-level securityContext for `restricted` plus a read-only root filesystem."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": dict(SECCOMP_RUNTIME_DEFAULT),
    }


def pod_security_context(uid: int | None = NOBODY) -> dict[str, Any]:
    """Pod-level securityContext: non-root (numeric `uid` when the image has no user of its
    own, so the kubelet can verify it) and the runtime's default seccomp profile."""
    context: dict[str, Any] = {
        "runAsNonRoot": True,
        "seccompProfile": dict(SECCOMP_RUNTIME_DEFAULT),
    }
    if uid is not None:
        context |= {"runAsUser": uid, "runAsGroup": uid, "fsGroup": uid}
    return context


def is_hardened_container(context: Mapping[str, Any] | None) -> bool:
    """True when a container securityContext meets `restricted` with a read-only root FS."""
    context = context or {}
    return (
        context.get("allowPrivilegeEscalation") is False
        and not context.get("privileged")
        and context.get("readOnlyRootFilesystem") is True
        and "ALL" in (context.get("capabilities") or {}).get("drop", [])
        and not (context.get("capabilities") or {}).get("add")
    )


def is_hardened_pod(pod: Mapping[str, Any] | None, container: Mapping[str, Any] | None) -> bool:
    """True when pod + container contexts together meet Pod Security `restricted` (judged by
    `components.pod_security`, the one home of those rules) under RuntimeDefault seccomp,
    with the container hardened as above."""
    pod, container = pod or {}, container or {}
    spec = {"securityContext": pod, "containers": [{"name": "c", "securityContext": container}]}
    seccomp = container.get("seccompProfile") or pod.get("seccompProfile") or {}
    return (
        not pod_security.problems(spec, "restricted")
        and seccomp.get("type") == "RuntimeDefault"
        and is_hardened_container(container)
    )
