"""Run the real program offline: validated settings, then every resource it would register.

Shared by `make plan` (plan.py), the sizing table (sizing.py) and the tests.
"""

from __future__ import annotations

from typing import Any

from infra.config import Settings, load_settings
from infra.offline.mockengine import Recording, run_program
from infra.stack import build


def plan(
    stack: str, config: dict[str, Any], secret_keys: frozenset[str] = frozenset()
) -> tuple[Settings, Recording]:
    """Validate settings, then run the program; raises SettingsError before any resource.

    `secret_keys`: config keys to treat as set with `--secret` (values given in plain text).
    """
    settings = load_settings(stack, config, secret_keys)
    recording = run_program(
        lambda: build(settings), stack=stack, config=config, secret_keys=secret_keys
    )
    return settings, recording
