"""The lock files pin exactly what pyproject.toml allows, with hashes, for every install path.

Re-resolving needs the package index (`make lock`); these checks need nothing: a dependency
added to pyproject.toml without `make lock`, a hand-edited pin outside its range, or a pin
without hashes fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
_PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {canonicalize_name(n.split("[")[0]): v for n, v in _PIN.findall(text)}


@pytest.mark.parametrize(
    "lock, requirements",
    [
        ("requirements.lock", PYPROJECT["dependencies"]),
        (
            "requirements-dev.lock",
            PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["dev"],
        ),
    ],
)
def test_every_dependency_is_pinned_inside_its_range(lock, requirements):
    pinned = pins(lock)
    problems = []
    for line in requirements:
        requirement = Requirement(line)
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in {lock} (run make lock)")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}")
    assert problems == []


@pytest.mark.parametrize(
    "lock", ["requirements.lock", "requirements-dev.lock", "requirements-uv.lock"]
)
def test_every_pin_carries_hashes(lock):
    text = (ROOT / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    entries = [b for b in blocks if _PIN.match(b)]
    assert entries
    assert [b.split()[0] for b in entries if "--hash=sha256:" not in b] == []


def test_the_uv_bootstrap_installs_the_uv_the_dev_lock_pins():
    assert pins("requirements-uv.lock") == {"uv": pins("requirements-dev.lock")["uv"]}


def test_make_installs_from_the_locks_only():
    makefile = (ROOT / "Makefile").read_text()
    install = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes -r $(LOCK)" in install
    assert "--no-deps" in install and "-e ." in install
    assert "pip install --quiet -e '.[dev]'" not in makefile
