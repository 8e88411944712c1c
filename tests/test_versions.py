"""Versions are referenced, not retyped: every pinned version (Kubernetes minor, EKS add-ons,
charts, images, engines) has one home, and a copy of its text anywhere else fails here.

Tests whose subject is a version (an upgrade from an older minor, a table of bad versions)
are exempt by name: their function name says `version` or `upgrade`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from components import cache, streaming
from components.cluster import versions as cluster_versions
from components.database import args as database
from components.observability import versions as observability_versions

ROOT = Path(__file__).resolve().parent.parent
# Where each pin lives (the module that owns it).
HOMES = {
    ROOT / "components" / "cluster" / "versions.py",
    ROOT / "components" / "observability" / "versions.py",
    ROOT / "components" / "database" / "args.py",
    ROOT / "components" / "cache.py",
    ROOT / "components" / "streaming.py",
}
EXEMPT_WORDS = ("version", "upgrade")
# Files whose subject is a table of versions, checked against the pins both ways.
EXEMPT_FILES = {
    # The git tag each pinned chart (and subchart) is built from, per version; a test fails
    # on a pin without a source and on a source without a pin.
    ROOT / "tests" / "chart_cache.py",
    # The version table's own tests: rows per minor, and what each kind of gap reads like.
    ROOT / "tests" / "test_version_table.py",
}


def pinned_values() -> set[str]:
    values = {cluster_versions.KUBERNETES_VERSION, *cluster_versions.KUBERNETES_VERSIONS}
    values |= {v for table in cluster_versions.ADDON_VERSIONS.values() for v in table.values()}
    values |= {
        pin.version for row in cluster_versions.CONTROLLER_CHARTS.values() for pin in row.values()
    }
    for pin in cluster_versions.CLUSTER_AUTOSCALER_PINS.values():
        values |= {pin.chart, pin.image_tag}
    values |= {cluster_versions.KARPENTER_VERSION, cluster_versions.KARPENTER_IMAGE}
    values |= {chart.version for chart in observability_versions.CHARTS}
    values |= {
        observability_versions.ELASTIC_STACK_VERSION,
        observability_versions.OTEL_COLLECTOR_IMAGE["tag"],
        observability_versions.CURL_IMAGE,
    }
    values |= set(database.ENGINE_VERSIONS)
    values |= {v for versions in cache.ENGINE_VERSIONS.values() for v in versions}
    values |= set(streaming.KAFKA_VERSIONS)
    return values


def _copies(path: Path, pinned: set[str]) -> list[str]:
    """`file:line 'value'` for every string constant equal to a pin, outside exempt tests."""
    tree = ast.parse(path.read_text())
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            word in node.name for word in EXEMPT_WORDS
        ):
            exempt |= {id(child) for child in ast.walk(node)}
    return [
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{node.lineno} "
        f"{node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in pinned and id(node) not in exempt
    ]


def test_the_pinned_versions_are_found():
    pinned = pinned_values()
    assert {"1.35", "17.5", "8.2", "3.8.x", "88.5.3"} <= pinned


def test_no_version_is_retyped_outside_its_home():
    pinned = pinned_values()
    sources = [
        path
        for folder in ("components", "infra", "tests", "policy")
        for path in (ROOT / folder).rglob("*.py")
        if path not in HOMES | EXEMPT_FILES and "fixtures" not in path.parts
    ]
    copies = [line for path in sources for line in _copies(path, pinned)]
    assert copies == [], "reference the versions module's constant instead:\n" + "\n".join(copies)


def test_the_check_sees_a_retyped_version(tmp_path):
    """The scan itself: a profile that retypes the Kubernetes minor would be caught."""
    probe = tmp_path / "profile.py"
    probe.write_text(f'PROFILE = {{"version": "{cluster_versions.KUBERNETES_VERSION}"}}\n')

    assert _copies(probe, pinned_values()) == [
        f"profile.py:1 {cluster_versions.KUBERNETES_VERSION!r}"
    ]
