"""Helpers shared by the settings tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.config import SettingsError, from_pulumi
from infra.offline.mockengine import last_run, run_program
from infra.stack import build

# The least a dev/uat stack must say: its region and who may reach the public API endpoint.
REGION = {
    "aws:region": "eu-west-1",
    "platform:cluster": {
        "publicAccessCidrs": ["203.0.113.0/24"],
        "adminRoleArns": ["arn:aws:iam::123456789012:role/admin"],
    },
}
# prod has no public endpoint, so it names no public CIDRs (they would be refused).
PROD_MINIMUM = {
    "aws:region": "eu-west-1",
    "platform:cluster": {"adminRoleArns": ["arn:aws:iam::123456789012:role/admin"]},
}


def minimum(stack: str) -> dict:
    """The least config the stack's profile needs."""
    return PROD_MINIMUM if stack.startswith("prod") else REGION


def rejected(stack: str, config: dict) -> str:
    """Run the program with `config`; return the error text after checking nothing registered."""
    with pytest.raises(SettingsError) as caught:
        run_program(lambda: build(from_pulumi()), stack=stack, config={**minimum(stack), **config})
    assert last_run.monitor is not None
    assert last_run.monitor.recorded == [], "validation must fail before any resource exists"
    return str(caught.value)


def strings_in(value: Any) -> Iterator[str]:
    """Every string anywhere inside nested dicts and lists (e.g. recorded inputs)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
