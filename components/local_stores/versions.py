"""Every image the local stand-ins run, pinned exactly, in one file (edit this alone on an
upgrade). Each follows the engine and version its cloud counterpart runs, so the application
meets the same protocol and major version on a laptop as on AWS.

Digests: the machine these pins were written on reaches no container registry, so no digest
could be verified and none is recorded (a digest copied from elsewhere unchecked would be a
promise nobody kept). Add `@sha256:...` to a pin after `docker buildx imagetools inspect
<image>` prints it; `image_problems` accepts both spellings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.database.logins import POSTGRES_IMAGE

__all__ = [
    "DEFAULT_STORAGE_GIB",
    "KAFKA",
    "POSTGRES",
    "STAND_INS",
    "VALKEY",
    "StandIn",
    "image_problems",
]


@dataclass(frozen=True)
class StandIn:
    """One stand-in's image and the numeric user it runs as (the kubelet can only verify
    `runAsNonRoot` for a numeric user; each is the user the image itself creates)."""

    image: str
    uid: int
    gid: int


# Aurora PostgreSQL 17: the same image (and psql) the database-logins Job runs on AWS; the
# Debian image's `postgres` user is 999:999.
POSTGRES = StandIn(POSTGRES_IMAGE, uid=999, gid=999)
# ElastiCache Valkey 8.2 (components/cache.py DEFAULT_ENGINE_VERSION); the image's `valkey`
# user is 999:999 (Debian variant).
# renovate: datasource=docker
VALKEY = StandIn("docker.io/valkey/valkey:8.2.2-bookworm", uid=999, gid=999)
# MSK 3.8.x (components/streaming.py DEFAULT_KAFKA_VERSION): Apache's own image, one KRaft
# node (broker and controller); its `appuser` is 1000:1000.
# renovate: datasource=docker
KAFKA = StandIn("docker.io/apache/kafka:3.8.1", uid=1000, gid=1000)

STAND_INS = {"postgres": POSTGRES, "valkey": VALKEY, "kafka": KAFKA}

# Each stand-in's volume (PostgreSQL's data, Kafka's log) on the laptop's default class.
DEFAULT_STORAGE_GIB = 2

# `<registry>/<path>:<exact version>[-variant]`, optionally `@sha256:<64 hex>`. An exact
# version has three parts, or two for PostgreSQL (whose 17.6 is a release, not a series).
_PINNED = re.compile(
    r"[a-z0-9.-]+\.[a-z]+(:[0-9]+)?/[a-z0-9._/-]+:[0-9]+\.[0-9]+(\.[0-9]+)?(-[a-z0-9.]+)?"
    r"(@sha256:[0-9a-f]{64})?"
)


def image_problems(image: str) -> list[str]:
    """Why `image` is not pinned exactly (registry named, full major.minor.patch tag)."""
    if _PINNED.fullmatch(image):
        return []
    return [
        f"{image!r}: pin an exact version with its registry, e.g. "
        "docker.io/valkey/valkey:8.2.2-bookworm (never latest or a floating minor)"
    ]
