"""Grafana dashboards: JSON files next to this module, provisioned through Grafana's sidecar.

Add a dashboard by dropping `<name>.json` into dashboards/ (exported from Grafana with
"Export for sharing externally" off, data source uid `prometheus`); it becomes a ConfigMap
with the sidecar's label, in the Platform folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from components.observability.prometheus import DASHBOARD_FOLDER_ANNOTATION, DASHBOARD_LABEL

__all__ = [
    "DIRECTORY",
    "FOLDER",
    "config_maps",
    "dashboards",
]


DIRECTORY = Path(__file__).parent / "dashboards"
FOLDER = "Platform"


def dashboards() -> dict[str, dict]:
    """name -> dashboard JSON, for every file in dashboards/."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(DIRECTORY.glob("*.json"))}


def config_maps(namespace: str) -> dict[str, dict]:
    """One ConfigMap manifest per dashboard (name -> manifest)."""
    key, value = DASHBOARD_LABEL
    return {
        name: {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"dashboard-{name}",
                "namespace": namespace,
                "labels": {key: value},
                "annotations": {DASHBOARD_FOLDER_ANNOTATION: FOLDER},
            },
            "data": {f"{name}.json": json.dumps(board, indent=1)},
        }
        for name, board in dashboards().items()
    }
