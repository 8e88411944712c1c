"""`make mutate`'s summary: the kill rate per mutated module, from `mutmut results --all true`.

mutmut names each mutant `<module>.x_<function>__mutmut_<n>` (a method:
`<module>.xǁ<Class>ǁ<method>__mutmut_<n>`). A mutant counts as killed when a test failed (or
timed out: the mutant made the code loop); everything else survived, and is listed by name so
`mutmut show <name>` prints its diff. "no tests" means no targeted test reaches that function.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

_LINE = re.compile(r"^\s+(?P<name>\S+): (?P<status>.+)$")
KILLED = {"killed", "timeout", "caught by type check"}


def module_of(mutant: str) -> str:
    """`infra.config.floors.x_floor_problems__mutmut_3` -> `infra.config.floors`."""
    return re.split(r"\.x(?:_|ǁ)", mutant, maxsplit=1)[0]


def summarise(lines: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """module -> status -> mutant names."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line in lines:
        match = _LINE.match(line)
        if match:
            found[module_of(match["name"])][match["status"]].append(match["name"])
    return found


def report(found: dict[str, dict[str, list[str]]]) -> str:
    rows = ["module                                   killed / total   rate"]
    survivors = []
    for module in sorted(found):
        statuses = found[module]
        total = sum(len(names) for names in statuses.values())
        killed = sum(len(statuses[s]) for s in KILLED if s in statuses)
        rows.append(f"{module:40} {killed:6} / {total:<6} {100 * killed / total:5.1f} %")
        survivors += [
            f"  {name}: {status}"
            for status, names in sorted(statuses.items())
            if status not in KILLED
            for name in names
        ]
    return "\n".join([*rows, "", "survivors (mutmut show <name>):", *survivors])


def main(argv: list[str] | None = None) -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    result = subprocess.run(
        [str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=False
    )
    if result.returncode:
        print(result.stdout + result.stderr, file=sys.stderr)
        return result.returncode
    print(report(summarise(result.stdout.splitlines())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
