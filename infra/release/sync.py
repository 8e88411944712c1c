"""The live stack is the release state: its colours, tags and splits win over the stack file.

The release tool changes `activeColor`, `tags.*`, `trafficSplit` and `idleReplicas` of a
service, applies them with `pulumi up`, and sends the edited stack file back as a pull
request. Until that merges, git's copy is older than what runs: a deploy of main (or a second
release from a fresh checkout) would revert the release. So before either applies anything,
`reconcile` lists where the checked-out file differs from the stack's last applied values
(its `services` output) and the caller writes the live values into the working copy: the
release survives any unrelated merge, and the pull request only brings git up to date.

A service the stack has not deployed yet (no live entry) keeps the file's values: its first
tags come from the file. Changing a deployed service's tag or colour is the release tool's
job; a pull request that edits those fields is overridden here, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# The fields the release tool owns, as `platform:services[i].<field>` paths.
RELEASE_FIELDS = ("activeColor", "tags.blue", "tags.green", "trafficSplit", "idleReplicas")


@dataclass(frozen=True)
class Drift:
    """One release-managed field whose stack-file value differs from the live one.

    Attributes:
        service: the service's name.
        index: its position in `platform:services`.
        field: the field's path below the entry (`tags.green`).
        file_value: what the checked-out stack file says (None: absent).
        live_value: what the stack last applied (None: absent, i.e. remove it).
    """

    service: str
    index: int
    field: str
    file_value: object
    live_value: object

    def describe(self) -> str:
        return (
            f"platform:services[{self.index}].{self.field} ({self.service}): the file says "
            f"{self.file_value!r}, the stack runs {self.live_value!r}; keeping the live value "
            "(the release's pull request brings the file up to date)"
        )


def _get(entry: Mapping, field: str) -> object:
    node: object = entry
    for part in field.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def reconcile(file_services: Sequence[Mapping], live: Mapping[str, Mapping]) -> list[Drift]:
    """Where the file differs from `live` (service name -> the fields as applied)."""
    drifts = []
    for index, entry in enumerate(file_services):
        name = entry.get("name")
        if not isinstance(name, str) or name not in live:
            continue
        for field in RELEASE_FIELDS:
            want, have = _get(live[name], field), _get(entry, field)
            # A tag YAML read as a number (2, not "2") differs too: writing the live text
            # back fixes the file's type as well.
            if want != have:
                drifts.append(Drift(name, index, field, have, want))
    return drifts


def live_fields(services_output: Mapping[str, Mapping]) -> dict[str, dict]:
    """The stack's `services` output as field trees keyed by service name."""
    return {
        name: {
            "activeColor": entry.get("activeColor"),
            "tags": dict(entry.get("tags") or {}),
            "trafficSplit": entry.get("trafficSplit"),
            "idleReplicas": entry.get("idleReplicas"),
        }
        for name, entry in services_output.items()
    }
