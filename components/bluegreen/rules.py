"""The rules a `BlueGreenService`'s inputs follow, one pure function per fact (problems as
text; `validate` in args.py, the settings layer and the release tool apply the same ones)."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "PORTS",
    "certificate_arn_problems",
    "hostname_problems",
    "image_problems",
    "path_problems",
    "port_problems",
    "replicas_problems",
    "tag_problems",
]

PORTS = (1, 65535)
_TAG = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
# Registry host (optionally with port) and path; the tag comes from `tags`, never the repo.
_REPOSITORY = re.compile(
    r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*"
)
_CERTIFICATE_ARN = re.compile(r"arn:aws[a-z-]*:acm:([a-z0-9-]+):[0-9]{12}:certificate/[\w-]+")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/\S+")
_HOSTNAME = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


# -- rules, one function per fact (the settings layer and the release tool apply the same) ------
def tag_problems(tag: object) -> list[str]:
    """Why `tag` cannot be an image tag here (pinned, and usable as a label value)."""
    if not isinstance(tag, str) or not tag.strip():
        return ["image tag is empty; use an immutable version tag such as 1.4.2"]
    if tag.strip().lower() == "latest":
        return [
            "image tag 'latest' is not allowed: it is not reproducible and cannot be rolled "
            "back; use an immutable version tag such as 1.4.2"
        ]
    if not _TAG.fullmatch(tag):
        return [
            f"image tag {tag!r}: at most 63 of [A-Za-z0-9_.-], alphanumeric at both ends (no '/', "
            "':' or '@')"
        ]
    return []


def image_problems(image: object) -> list[str]:
    """Why `image` is not a repository reference (registry/path, without tag or digest)."""
    if isinstance(image, str) and _REPOSITORY.fullmatch(image):
        return []
    hint = ""
    if isinstance(image, str) and ("@" in image or re.search(r":[^/]*$", image.split("/", 1)[-1])):
        hint = "; put the version in `tags`, not in the image"
    return [f"image {image!r}: a repository without tag or digest, lowercase{hint}"]


def path_problems(path: object) -> list[str]:
    """Why `path` is not an absolute URL path (health checks, metrics)."""
    if isinstance(path, str) and path.startswith("/") and not any(c.isspace() for c in path):
        return []
    return [f"path {path!r}: an absolute URL path without spaces, such as '/healthz'"]


def port_problems(port: object, bounds: tuple[int, int] = PORTS) -> list[str]:
    low, high = bounds
    if _is_int(port) and low <= port <= high:
        return []
    return [f"port {port!r}: a port number {low}..{high}"]


def certificate_arn_problems(arn: object, region: str | None = None) -> list[str]:
    """Why `arn` is not an ACM certificate ARN usable by an ALB in `region`."""
    match = _CERTIFICATE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        return [
            f"certificateArn {arn!r}: an ACM certificate ARN, "
            "arn:aws:acm:<region>:<account>:certificate/<id>"
        ]
    if region is not None and match.group(1) != region:
        return [
            f"certificateArn is in {match.group(1)}, but the ALB is in {region}: ACM certificates "
            "are regional; request or import one in the ALB's region"
        ]
    return []


def hostname_problems(host: object) -> list[str]:
    """Why `host` is not a host name an Ingress rule accepts."""
    if isinstance(host, str) and _HOSTNAME.fullmatch(host) and len(host) <= 253:
        return []
    hint = "; give the host name only, not a URL" if isinstance(host, str) and "/" in host else ""
    return [f"hostname {host!r}: a lowercase DNS name, optionally '*.'{hint}"]


def replicas_problems(replicas: object, idle_replicas: object, hpa_max: object) -> list[str]:
    problems = []
    if not _is_int(replicas) or replicas < 1:
        problems.append(f"replicas {replicas!r}: an integer >= 1")
    if idle_replicas is not None and (not _is_int(idle_replicas) or idle_replicas < 0):
        problems.append(f"idleReplicas {idle_replicas!r}: an integer >= 0")
    if not problems and _is_int(hpa_max) and hpa_max < max(replicas, idle_replicas or 0):  # type: ignore[call-overload]
        idle = f" (idle colour: {idle_replicas})" if idle_replicas is not None else ""
        problems.append(f"replicas {replicas}{idle} is above the autoscaling maximum {hpa_max}")
    return problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
