"""Stack config and `pulumi up` through the Pulumi Automation API (needs the `pulumi` CLI).

Values are written with their type (`pulumi config set --type string|int`): an image tag
such as `1.10` stays text in the stack file instead of becoming the number 1.1.
"""

import json
import logging
from pathlib import Path

from pulumi import automation as auto

from infra.release.model import SERVICES_KEY
from infra.release.record import RECORD_NAMESPACE, Record
from infra.release.sync import live_fields

LOG = logging.getLogger("infra.release.pulumi")


class AutomationStack:
    """`StackConfig` and `ReleaseLog` on one stack of the local Pulumi project."""

    def __init__(self, stack: auto.Stack) -> None:
        self._stack = stack

    @classmethod
    def select(cls, stack_name: str, work_dir: Path) -> "AutomationStack":
        """Select `stack_name` of the project in `work_dir` (the directory of Pulumi.yaml)."""
        return cls(auto.select_stack(stack_name=stack_name, work_dir=str(work_dir)))

    def read_services(self) -> object:
        """`platform:services`, decoded from the JSON the CLI returns for object values."""
        return json.loads(self._stack.get_config(SERVICES_KEY).value)

    def set_field(self, index: int, field: str, value: str | int) -> None:
        """`pulumi config set --path --type <int|string> 'platform:services[i].<field>' v`."""
        self._run(typed_set_args(_key(index, field), value, self._stack.name))

    def clear_field(self, index: int, field: str) -> None:
        """`pulumi config rm --path ...`, only when the field is present."""
        services = self.read_services()
        node = services[index] if isinstance(services, list) and index < len(services) else None
        for part in field.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            self._stack.remove_config(_key(index, field), path=True)

    def live_services(self) -> dict[str, dict]:
        """The `services` output of the last `pulumi up` (empty before the first one)."""
        output = self._stack.outputs().get("services")
        return live_fields(output.value) if output is not None else {}

    def _run(self, args: list[str]) -> None:
        workspace = self._stack.workspace
        workspace.pulumi_command.run(args, workspace.work_dir, dict(workspace.env_vars))

    def apply(self) -> None:
        """`pulumi up`; the Automation API raises on failure."""
        self._stack.up(on_output=LOG.debug)

    def load(self, service: str) -> Record | None:
        """The record stored under `release:<service>`, if any."""
        value = self._stack.get_all_config().get(f"{RECORD_NAMESPACE}:{service}")
        return Record.from_json(value.value) if value is not None else None

    def save(self, service: str, record: Record) -> None:
        """Write the record as a JSON string under `release:<service>`."""
        self._stack.set_config(f"{RECORD_NAMESPACE}:{service}", auto.ConfigValue(record.to_json()))


def _key(index: int, field: str) -> str:
    return f"{SERVICES_KEY}[{index}].{field}"


def typed_set_args(key: str, value: str | int, stack: str) -> list[str]:
    """`pulumi config set` arguments that store `value` with its own type at `key`."""
    kind = "int" if isinstance(value, int) and not isinstance(value, bool) else "string"
    return [
        "config", "set", "--path", "--type", kind, "--plaintext", "--stack", stack,
        "--", key, str(value),
    ]  # fmt: skip
