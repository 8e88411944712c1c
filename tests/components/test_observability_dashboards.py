"""The Grafana dashboards: valid JSON on the data source the chart provisions, valid PromQL.

Every panel query is parsed by the real Prometheus parser (`promtool check rules` on a file
of recording rules made from them), so a dashboard that would show "parse error" in Grafana
fails here. Grafana's `$variables` are replaced by a plain value first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from components.observability import dashboards
from components.observability.prometheus import DASHBOARD_LABEL, DATASOURCE_UID
from tests import validators

PROMTOOL = "/usr/bin/promtool"
BRIEF = {"platform-overview", "service-golden-signals", "data-stores"}


def _panels(board: dict) -> list[dict]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found += panel.get("panels", [])  # rows
    return found


def _queries() -> list[tuple[str, str]]:
    return [
        (f"{name}: {panel['title']} [{target['refId']}]", target["expr"])
        for name, board in dashboards.dashboards().items()
        for panel in _panels(board)
        for target in panel.get("targets", [])
    ]


def test_the_brief_dashboards_exist_each_valid_with_a_unique_uid():
    boards = dashboards.dashboards()
    assert set(boards) >= BRIEF
    uids = [board["uid"] for board in boards.values()]
    assert len(set(uids)) == len(uids)
    for path in dashboards.DIRECTORY.glob("*.json"):
        json.loads(path.read_text())  # valid JSON, not merely loadable by our reader


def test_every_panel_and_query_uses_the_prometheus_data_source_the_chart_provisions():
    for name, board in dashboards.dashboards().items():
        for panel in _panels(board):
            if "targets" not in panel:
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, name
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == DATASOURCE_UID, (name, panel["title"])
        for variable in board.get("templating", {}).get("list", []):
            if variable["type"] == "query":
                assert variable["datasource"]["uid"] == DATASOURCE_UID, (name, variable["name"])


def test_the_golden_signals_split_by_colour():
    board = dashboards.dashboards()["service-golden-signals"]
    exprs = [t["expr"] for p in _panels(board) for t in p.get("targets", [])]
    for signal in ("http_requests_total", "http_request_duration_seconds_bucket"):
        assert any(signal in e and "color" in e for e in exprs), signal


def test_every_query_is_valid_promql(tmp_path):
    if not os.path.exists(PROMTOOL) or not shutil.which(PROMTOOL):
        validators.missing("prometheus", f"{PROMTOOL} not installed")
    queries = _queries()
    assert len(queries) >= 20
    rules = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [
                    {"record": f"dashboard:query_{i}:check", "expr": re.sub(r"\$\w+", "x", expr)}
                    for i, (_, expr) in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=30
    )
    if result.returncode != 0:
        numbers = [int(n) for n in re.findall(r"dashboard:query_(\d+):check", result.stderr)]
        named = [queries[n][0] for n in numbers] or [result.stderr]
        pytest.fail(f"invalid PromQL in: {named}\n{result.stdout}{result.stderr}")


def test_dashboards_become_config_maps_the_grafana_sidecar_loads():
    maps = dashboards.config_maps("monitoring")
    assert set(maps) == set(dashboards.dashboards())
    key, value = DASHBOARD_LABEL
    for name, config_map in maps.items():
        assert config_map["metadata"]["labels"] == {key: value}
        (data,) = config_map["data"].values()
        assert json.loads(data)["uid"] == dashboards.dashboards()[name]["uid"]
        assert len(data.encode()) < 1_000_000  # a ConfigMap holds at most 1 MiB
