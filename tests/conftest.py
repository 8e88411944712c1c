"""Shared fixtures: whole-stack recordings, run once per environment per test session."""

from __future__ import annotations

from functools import cache

import pytest

from infra.config import ENVIRONMENTS, Settings, read_stack_config
from infra.offline.mockengine import Recording
from infra.offline.run import plan
from tests import validators


@cache
def _planned(stack: str) -> tuple[Settings, Recording]:
    return plan(stack, read_stack_config(stack))


@pytest.fixture(params=ENVIRONMENTS)
def env(request) -> str:
    return request.param


@pytest.fixture
def settings(env) -> Settings:
    return _planned(env)[0]


@pytest.fixture
def recording(env) -> Recording:
    """Every resource `pulumi up` would register for the committed Pulumi.<env>.yaml."""
    return _planned(env)[1]


def planned(stack: str) -> tuple[Settings, Recording]:
    return _planned(stack)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """End loudly when validators were missing: their tests were skipped, not passed."""
    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reasons.append(longrepr[2] if isinstance(longrepr, tuple) else str(longrepr))
    lines = validators.summary(reasons)
    if lines:
        terminalreporter.section("VALIDATORS MISSING: these tests did not run", sep="!", red=True)
        for line in lines:
            terminalreporter.write_line(line, red=True, bold=True)
