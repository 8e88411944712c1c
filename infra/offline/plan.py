"""Offline plan: run the real program under the mock engine and show what `pulumi up` would create.

    python -m infra.offline.plan dev            resources grouped by component, sizing table
    python -m infra.offline.plan prod --json    every resource (type, name, parent, inputs, protect)
    python -m infra.offline.plan prod --manifests out/   also write each Kubernetes object as a file
                                                 (for scanners such as checkov)
    python -m infra.offline.plan prod --from 1.34  also the upgrade from the running Kubernetes
                                                 1.34 to the configured minor, step by step

No cloud account and no Pulumi CLI are needed. Invalid config prints the validation errors and
exits 2; a violated mandatory guardrail (infra/guardrails/rules.py, the rules of the CrossGuard pack
in policy/) exits 1 after printing the plan. Values AWS assigns at creation (ids, ARNs,
endpoints) are mock placeholders.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from infra.config import (
    PROFILE_NAMES,
    PROJECT_ROOT,
    LocalSettings,
    Settings,
    SettingsError,
    read_stack_config,
)
from infra.guardrails import RULES, Violation, evaluate, from_recording
from infra.offline import critical_path, local_plan
from infra.offline.cost import estimate
from infra.offline.mockengine import RecordedResource, Recording, kubernetes_manifest
from infra.offline.run import plan
from infra.offline.sizing import render_table, sizing_rows
from infra.offline.upgrade import UpgradeRefused, section, to_json


def component_of(recording: Recording, resource: RecordedResource) -> str:
    """Name of the top-level platform component a resource belongs to ('(stack)' if none)."""
    chain = [resource] if resource.type.startswith("platform:") else []
    chain += [a for a in recording.ancestors(resource) if a.type.startswith("platform:")]
    if not chain:
        return "(stack)"
    top = chain[-1]
    return f"{top.type.split(':')[-1]} {top.name!r}"


def render_policies(results: dict[str, list[Violation]]) -> list[str]:
    """The guardrails section: every rule, and each violation under its rule."""
    mandatory = {rule.name for rule in RULES if rule.mandatory}
    lines = ["Policies (the CrossGuard pack's rules, evaluated offline)"]
    for name, violations in results.items():
        level = "mandatory" if name in mandatory else "advisory"
        status = "ok" if not violations else f"{len(violations)} violation(s)"
        lines.append(f"    {status:>16}  {name} ({level})")
        lines += [f"                      - {v.message}" for v in violations]
    failed = sum(len(v) for n, v in results.items() if n in mandatory)
    lines.append(f"    {failed} mandatory violation(s)")
    return lines


def mandatory_violations(results: dict[str, list[Violation]]) -> int:
    mandatory = {rule.name for rule in RULES if rule.mandatory}
    return sum(len(v) for name, v in results.items() if name in mandatory)


def render_text(
    settings: Settings | LocalSettings,
    recording: Recording,
    results: dict[str, list[Violation]],
) -> str:
    groups: dict[str, Counter] = defaultdict(Counter)
    for resource in recording.resources:
        if resource.type.startswith("platform:") and not resource.parent_type.startswith(
            "platform:"
        ):
            continue  # the component itself heads its group
        groups[component_of(recording, resource)][resource.type] += 1

    protected = sum(1 for r in recording.resources if r.protect)
    lines = [
        f"Plan for stack {settings.stack!r} (environment {settings.environment}, "
        f"region {settings.region}) — offline, mock engine",
        f"{len(recording.resources)} resources, {protected} protected",
        "",
    ]
    for group in sorted(groups):
        counts = groups[group]
        lines.append(f"{group}: {sum(counts.values())}")
        for type_, count in sorted(counts.items()):
            lines.append(f"    {count:3d}  {type_}")
    if isinstance(settings, LocalSettings):
        lines += ["", *local_plan.render(settings, recording)]  # a laptop: no AWS, no cost
    else:
        lines += _sizing_and_cost(settings, recording)
        lines += ["", *critical_path.render(recording)]
    lines += ["", *render_policies(results)]
    warnings = settings.warnings()
    if warnings:
        lines += ["", "Warnings", *(f"    {w}" for w in warnings)]
    return "\n".join(lines)


def _sizing_and_cost(settings: Settings, recording: Recording) -> list[str]:
    cost = estimate(recording)
    lines = ["", "Sizing", render_table({settings.environment: sizing_rows(settings, cost)})]
    lines += ["", "Estimated fixed monthly cost (on-demand list prices, eu-west-1; usage extra)"]
    lines += [f"    ${line.monthly_usd:>9,.2f}  {line.item}" for line in cost.lines]
    lines.append(f"    ${cost.total:>9,.2f}  total")
    if cost.unpriced:
        lines.append(f"    not priced (add to infra/offline/cost.py): {', '.join(cost.unpriced)}")
    if cost.ceilings:
        lines += ["", "Node pools: nothing fixed; at most, at their limits (on-demand prices)"]
        lines += [f"    ${line.monthly_usd:>9,.2f}  {line.item}" for line in cost.ceilings]
    return lines


def write_manifests(recording: Recording, directory: Path) -> list[Path]:
    """Each Kubernetes object (not Helm releases) as `<directory>/<kind>-<name>.json`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in recording.resources:
        manifest = kubernetes_manifest(resource)
        if manifest is None:
            continue
        kind = manifest["kind"]
        for key in resource.secret_inputs:
            manifest[key] = "[secret]"
        path = directory / f"{kind.lower()}-{resource.name}.json"
        path.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make plan", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help=f"stack name (profiles: {', '.join(PROFILE_NAMES)})")
    parser.add_argument("--json", action="store_true", help="print every resource as JSON")
    parser.add_argument(
        "--manifests", type=Path, help="write every Kubernetes object the stack creates here"
    )
    parser.add_argument(
        "--project-dir", type=Path, default=PROJECT_ROOT, help="where Pulumi.<stack>.yaml lives"
    )
    parser.add_argument(
        "--from",
        dest="current",
        metavar="MINOR",
        help="the Kubernetes minor the cluster runs "
        "now: show the upgrade to the configured one, step by step (docs/upgrade.md)",
    )
    args = parser.parse_args(argv)
    try:
        settings, recording = plan(args.stack, read_stack_config(args.stack, args.project_dir))
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    upgrade = None
    if args.current is not None:
        try:
            upgrade = section(settings.stack, args.current, recording)
        except UpgradeRefused as error:
            print(f"upgrade refused for stack {settings.stack!r}: {error}", file=sys.stderr)
            return 2
    results = evaluate(from_recording(recording))
    if args.manifests is not None:
        write_manifests(recording, args.manifests)
    if args.json:
        document = {
            "stack": settings.stack,
            "environment": settings.environment,
            "resources": [r.to_json() for r in recording.resources],
            "outputs": {
                k: ("[secret]" if k in recording.secret_outputs else v)
                for k, v in recording.outputs.items()
            },
            "criticalPath": critical_path.to_json(recording),
            "policyViolations": {
                name: [{"urn": v.urn, "message": v.message} for v in violations]
                for name, violations in results.items()
            },
        }
        if upgrade is not None:
            document["upgrade"] = to_json(upgrade[0])
        print(json.dumps(document, indent=2, sort_keys=True, default=str))
    else:
        print(render_text(settings, recording, results))
        if upgrade is not None:
            print("\n" + "\n".join(upgrade[1]))
    return 1 if mandatory_violations(results) else 0


if __name__ == "__main__":
    sys.exit(main())
