"""`make bench`: the figures users wait for, each as a ratio measured in this one run.

    python -m infra.offline.bench            every figure, the test suite included (~1 min)
    python -m infra.offline.bench --no-tests  without the test suite

Absolute seconds depend on the machine and on what else runs on it; a ratio of two figures
measured here, minutes apart, does much less, so the goals are ratios (docs/verification.md,
"Reading make bench"). CPU seconds (user + system of the child process) are printed beside
wall seconds: on a shared machine they are the steadier of the two. Nothing here is a test:
the structural promises (the critical-path bound, linear growth) are tests, times are not.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import resource
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config import PROJECT_ROOT, read_stack_config
from infra.offline import critical_path
from infra.offline.mockengine import Recording

OWN_PACKAGES = ("components", "infra", "policy", "tests", "__main__")
SERVICE_COUNTS = (1, 10, 40)
# The goals (issue 18): plan <= 2 x the SDK import floor, first `up` <= 1.05 x the
# longest chain through MSK, the suite <= 40 s wall on 2 cores.
PLAN_FLOOR_GOAL = 2.0
CRITICAL_PATH_GOAL = 1.05
TEST_WALL_GOAL_S = 40.0


def services_config(stack: str, count: int) -> dict[str, Any]:
    """The committed stack config with `count` services: its first service as committed, then
    copies with their own names, hostnames (the shared ALB routes by host) and topics."""
    config = copy.deepcopy(read_stack_config(stack))
    first = config["platform:services"][0]
    services = [first]
    for i in range(1, count):
        clone = copy.deepcopy(first)
        clone["name"] = f"{first['name']}{i:02d}"
        clone["hostnames"] = [f"{clone['name']}.example.com"]
        clone["topics"] = [{**t, "name": f"{clone['name']}.{t['name']}"} for t in first["topics"]]
        services.append(clone)
    config["platform:services"] = services
    return config


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float  # user + system of the child

    def __str__(self) -> str:
        return f"{self.wall:6.2f} s wall {self.cpu:6.2f} s CPU"


def _run(args: list[str], **kwargs) -> tuple[Timed, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, text=True, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(wall, cpu), done


_MODULES = f"""
import contextlib, io, json, sys
from infra.offline.plan import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(["prod"])
own = {OWN_PACKAGES!r}
print(json.dumps([m for m in list(sys.modules) if m.split(".")[0] not in own]))
"""
# The floor: a fresh interpreter importing, in the plan's own order, every module the plan
# imports except the project's (SDKs, pydantic, yaml, botocore, the standard library).
_FLOOR = """
import importlib, json, sys
for name in json.loads(sys.stdin.read()):
    try:
        importlib.import_module(name)
    except Exception:  # a module some import made conditional elsewhere
        pass
"""


def import_floor() -> tuple[Timed, int]:
    _, done = _run([sys.executable, "-c", _MODULES])
    done.check_returncode()
    modules = done.stdout.strip().splitlines()[-1]
    timed, floor = _run([sys.executable, "-c", _FLOOR], input=modules)
    floor.check_returncode()
    return timed, len(json.loads(modules))


def plan_time() -> Timed:
    timed, done = _run([sys.executable, "-m", "infra.offline.plan", "prod"])
    if done.returncode not in (0, 1):  # 1: a mandatory guardrail (still a full plan)
        raise RuntimeError(done.stderr)
    return timed


def growth() -> list[tuple[int, int, int, float, Recording]]:
    """(services, resources, dependency edges, CPU seconds, recording) per service count,
    in this process after one warm-up run (so lazy SDK imports are not counted)."""
    from infra.offline.run import plan

    quiet = contextlib.redirect_stderr(io.StringIO())  # the stack's warnings, once per run
    with quiet:
        plan("prod", services_config("prod", 1))
    rows = []
    for count in SERVICE_COUNTS:
        config = services_config("prod", count)
        start = time.process_time()
        with quiet:
            _, recording = plan("prod", config)
        cpu = time.process_time() - start
        edges = sum(len(r.dependencies) for r in recording.resources)
        rows.append((count, len(recording.resources), edges, cpu, recording))
    return rows


def bytecode_status() -> str:
    purelib = Path(sysconfig.get_paths()["purelib"])
    compiled = any((purelib / "pulumi_aws" / "__pycache__").glob("*.pyc"))
    prefix = sys.pycache_prefix
    where = "in site-packages" if compiled else (f"under {prefix}" if prefix else "none")
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE")
    return f"SDK bytecode: {where}; PYTHONDONTWRITEBYTECODE={'set' if flag else 'unset'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="skip the test-suite timing")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(f"make bench — {os.cpu_count()} CPU(s), load {load:.1f}, {bytecode_status()}")

    floor, modules = import_floor()
    planned = plan_time()
    print(f"\n1. plan vs import floor (goal: plan <= {PLAN_FLOOR_GOAL:g} x floor)")
    print(f"    import floor ({modules} modules)  {floor}")
    print(f"    make plan STACK=prod           {planned}")
    print(f"    ratio  {planned.wall / floor.wall:.2f} wall  {planned.cpu / floor.cpu:.2f} CPU")

    rows = growth()
    print("\n2. growth with services (resources and edges must grow linearly; time should)")
    print("    services  resources  dependency edges  program CPU s")
    for count, resources, edges, cpu, _ in rows:
        print(f"    {count:8d}  {resources:9d}  {edges:16d}  {cpu:13.2f}")
    (n1, r1, e1, t1, _), _, (n40, r40, e40, t40, _) = rows
    per = (r40 - r1) / (n40 - n1)
    print(
        f"    per added service: {per:.1f} resources, {(e40 - e1) / (n40 - n1):.1f} edges, "
        f"{(t40 - t1) / (n40 - n1) * 1000:.0f} ms; time ratio 40/1 {t40 / t1:.2f} "
        f"vs resource ratio {r40 / r1:.2f}"
    )

    recording = rows[0][4]
    chain = critical_path.longest_chain(recording)
    msk = critical_path.longest_chain(recording, through=critical_path.is_msk)
    eks = critical_path.longest_chain(recording, through=lambda r: r.type == "eks:index:Cluster")
    print(f"\n3. first `up` of prod (goal: critical path <= {CRITICAL_PATH_GOAL:g} x MSK chain)")
    ratio = chain.minutes / msk.minutes
    print(
        f"    critical path {chain.minutes:.1f} min, through MSK {msk.minutes:.1f} min, "
        f"through EKS {eks.minutes:.1f} min; ratio {ratio:.2f}"
    )

    if not args.no_tests:
        # pyproject's addopts already say -q (a second -q would drop the summary line).
        timed, done = _run([sys.executable, "-m", "pytest", "-p", "no:randomly"])
        lines = done.stdout.splitlines()
        summary = [line for line in lines if " passed" in line or " failed" in line]
        print(f"\n4. make test (goal: <= {TEST_WALL_GOAL_S:g} s wall on 2 cores)")
        print(f"    {timed}; {summary[-1].strip('= ') if summary else 'no summary'}")
        cores = os.cpu_count() or 1
        idle = timed.cpu / cores  # what the wall would be with the cores to itself
        print(
            f"    ratio to the goal {timed.wall / TEST_WALL_GOAL_S:.2f} wall, "
            f"{idle / TEST_WALL_GOAL_S:.2f} as CPU / {cores} cores ({idle:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
