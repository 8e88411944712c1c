"""The names the program gives its components, from which physical names derive.

The wiring (`infra/wiring/`) registers the components under these names and the config
(`infra/config/model.py`) checks the physical names they produce (`platform-<stack>-<name>`)
against each component's own rules, so a stack name too long for an AWS limit fails when the
config is read.
"""

from __future__ import annotations

NAMESPACE = "platform"
DATABASE = "database"
CACHE = "cache"
STREAMING = "streaming"
BUCKETS = "buckets"
NETWORK = "network"
CLUSTER = "cluster"


def name_prefix(stack: str) -> str:
    """Prefix of every physical name: unique per stack so two stacks can share an account."""
    return f"{NAMESPACE}-{stack}"
