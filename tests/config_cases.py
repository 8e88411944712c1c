"""Shared machinery of the config tables: a case is refused through both entry points —
`make plan` (exit 2, every involved key named on stderr) and the real program under the mock
engine (SettingsError before a single resource is registered)."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.offline.plan import main
from tests.helpers import minimum, rejected

# (key the error must name, text the line must contain)
Expect = tuple[str, str]


def write_stack(tmp_path: Path, stack: str, config: dict) -> Path:
    document = {"config": {**minimum(stack), **config}}
    if stack.startswith("prod"):
        document["config"].setdefault("platform:storage", {"replicaRegion": "eu-central-1"})
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    return tmp_path


def assert_refused(tmp_path: Path, capsys, stack: str, config: dict, expected: list[Expect]):
    """Exit 2 with a line naming each key (with its text), and nothing registered."""
    assert main([stack, "--project-dir", str(write_stack(tmp_path, stack, config))]) == 2
    err = capsys.readouterr().err
    for key, text in expected:
        line = next((line for line in err.splitlines() if key in line and text in line), None)
        assert line, f"expected a line naming {key!r} with {text!r}:\n{err}"
    message = rejected(stack, config)
    for key, text in expected:
        assert key in message and text in message, message


def assert_accepted(tmp_path: Path, capsys, stack: str, config: dict) -> None:
    assert main([stack, "--project-dir", str(write_stack(tmp_path, stack, config))]) == 0, (
        capsys.readouterr().err
    )
