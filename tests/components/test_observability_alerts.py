"""The platform's alert rules and Alertmanager routing, proven with the real tools.

What is proven:
* `promtool check rules` accepts `alerts.rule_groups` exactly as the PrometheusRule carries
  them (PromQL, durations and the annotation templates);
* `promtool test rules`: every alert (the guard test fails when a rule has no cases) fires on
  input series that should trigger it, with exactly the expected labels (severity and the
  grouping labels), and stays quiet on series that should not, including "not for long
  enough yet": for every `for:`, quiet one minute before it ends and firing when it ends
  (`DURATIONS`). Every 70 % / 90 % pair is checked at 80 % (warning
  only), 95 % (warning and critical) and 50 % (nothing). promtool also compares
  annotations, so the unit-test rule file has them stripped; expr, `for` and labels stay
  unchanged, and the templates are covered by the `check rules` step.
* `amtool check-config` accepts `alertmanager.config` with and without Slack, and
  `amtool config routes test` sends critical and warning alerts to their Slack receivers,
  Watchdog and anything else to `null`, and everything to `null` without Slack.

All promtool cases run in one invocation (one unit-test file per case, so a failure names
its alert and case); the module takes well under five seconds.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from components.observability import alertmanager, alerts
from components.observability.alerts import DataStoreThresholds
from components.observability.args import SlackAlerting
from tests import validators

PROMTOOL = "/usr/bin/promtool"
AMTOOL = "/usr/bin/amtool"
TIMEOUT = 60
THRESHOLDS = DataStoreThresholds(aurora_connections=400, aurora_replica_lag_ms=1000)
SLACK = SlackAlerting(webhook_url="https://hooks.slack.com/services/T/B/X")
WARN = {"severity": "warning"}
CRIT = {"severity": "critical"}


def require(binary: str, validator: str) -> str:
    """The tool's path; skipped locally when missing, a failure where it is required."""
    if not os.path.exists(binary):
        validators.missing(validator, f"{binary} not installed")
    return binary


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)


# -- input series (one sample per minute, promtool's expanding notation) -----------------------
def gauge(value: float, minutes: int = 60) -> str:
    return f"{value:g}x{minutes}"


def counter(per_minute: float, minutes: int = 60) -> str:
    return f"0+{per_minute:g}x{minutes}"


def requests(color: str, per_minute_by_code: dict[str, int]) -> dict[str, str]:
    labels = f'service="api",color="{color}",namespace="shop"'
    return {
        f'http_requests_total{{{labels},code="{code}"}}': counter(n)
        for code, n in per_minute_by_code.items()
    }


# Cumulative requests per minute by bucket: p95 (rank 95 of 100) lies in (2.5, 5]:
# 2.5 + 2.5 * 45/50 = 4.75 s; FAST puts everything under 0.5 s: p95 = 0.475 s.
SLOW = {"0.5": 10, "1": 20, "2.5": 50, "5": 100, "+Inf": 100}
FAST = {"0.5": 100, "1": 100, "2.5": 100, "5": 100, "+Inf": 100}


def latency(color: str, buckets: dict[str, int]) -> dict[str, str]:
    labels = f'service="api",color="{color}",namespace="shop"'
    return {
        f'http_request_duration_seconds_bucket{{{labels},le="{le}"}}': counter(n)
        for le, n in buckets.items()
    }


def deployment(condition: str, true: int, false: int) -> dict[str, str]:
    labels = f'namespace="shop",deployment="api",condition="{condition}"'
    return {
        f'kube_deployment_status_condition{{{labels},status="true"}}': gauge(true),
        f'kube_deployment_status_condition{{{labels},status="false"}}': gauge(false),
        f'kube_deployment_status_condition{{{labels},status="unknown"}}': gauge(0),
    }


def cpu(percent: float) -> dict[str, str]:
    """node-1's two CPUs busy `percent` % of the time (idle seconds grow by the rest)."""
    idle = 60 * (100 - percent) / 100
    return {
        f'node_cpu_seconds_total{{instance="node-1",cpu="{n}",mode="{mode}"}}': counter(rate)
        for n in (0, 1)
        for mode, rate in (("idle", idle), ("user", 60 - idle))
    }


def memory(percent: float) -> dict[str, str]:
    return {
        'node_memory_MemAvailable_bytes{instance="node-1"}': gauge(100 - percent),
        'node_memory_MemTotal_bytes{instance="node-1"}': gauge(100),
    }


def disk(percent: float, mountpoint: str = "/", fstype: str = "xfs") -> dict[str, str]:
    labels = f'instance="node-1",fstype="{fstype}",mountpoint="{mountpoint}"'
    return {
        f"node_filesystem_avail_bytes{{{labels}}}": gauge(100 - percent),
        f"node_filesystem_size_bytes{{{labels}}}": gauge(100),
    }


def volume(percent: float) -> dict[str, str]:
    labels = 'namespace="shop",persistentvolumeclaim="data-db-0"'
    return {
        f"kubelet_volume_stats_used_bytes{{{labels}}}": gauge(percent),
        f"kubelet_volume_stats_capacity_bytes{{{labels}}}": gauge(100),
    }


def aurora(metric: str, value: float, instance: str = "db-1") -> dict[str, str]:
    """A per-instance RDS series plus the cluster-level one (no instance dimension)."""
    return {
        f'aws_rds_{metric}{{dimension_DBInstanceIdentifier="{instance}"}}': gauge(value),
        f'aws_rds_{metric}{{dimension_DBClusterIdentifier="db"}}': gauge(value / 2),
    }


def cache(metric: str, value: float) -> dict[str, str]:
    """Two nodes of cluster cache-001: one at `value`, one idle."""
    return {
        f'aws_elasticache_{metric}{{dimension_CacheClusterId="cache-001",'
        f'dimension_CacheNodeId="{node}"}}': gauge(v)
        for node, v in (("0001", value), ("0002", 0))
    }


def kafka(percent: float) -> dict[str, str]:
    return {
        'aws_kafka_data_logs_disk_used_average{dimension_Cluster_Name="events",'
        f'dimension_Broker_ID="{broker}"}}': gauge(v)
        for broker, v in (("1", percent), ("2", 10))
    }


def alb(per_minute: float) -> dict[str, str]:
    return {
        "aws_applicationelb_httpcode_elb_5_xx_count_sum"
        '{dimension_LoadBalancer="app/platform/abc"}': gauge(per_minute)
    }


# -- the case table ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """Input series, when to look, and every alert of that name expected then (labels)."""

    name: str
    series: dict[str, str]
    at: str
    fires: list[dict[str, str]]


def usage(
    series: Callable[[float], dict[str, str]], labels: dict[str, str], for_minutes: int
) -> list[Case]:
    """A 70 % / 90 % pair: 80 % warns, 95 % also pages, 50 % is quiet, and `for:` holds."""
    at, early = f"{for_minutes + 5}m", f"{for_minutes - 1}m"
    warning, critical = {**labels, **WARN}, {**labels, **CRIT}
    return [
        Case("80%: warning only", series(80), at, [warning]),
        Case("95%: warning and critical", series(95), at, [warning, critical]),
        Case("50%: nothing", series(50), at, []),
        Case(f"95% for less than {for_minutes}m: nothing yet", series(95), early, []),
    ]


SHOP_API = {"namespace": "shop", "service": "api"}
NODE = {"instance": "node-1"}
ROOT = {**NODE, "fstype": "xfs", "mountpoint": "/"}
PVC = {"namespace": "shop", "persistentvolumeclaim": "data-db-0"}
DB = {"dimension_DBInstanceIdentifier": "db-1"}
CONNECTIONS = THRESHOLDS.aurora_connections
LAG_MS = THRESHOLDS.aurora_replica_lag_ms

CASES: dict[str, list[Case]] = {
    "ServiceDown": [
        Case(
            "every pod down",
            {
                'up{service="api",namespace="shop",pod="api-1"}': gauge(0),
                'up{service="api",namespace="shop",pod="api-2"}': gauge(0),
            },
            "5m",
            [{**SHOP_API, **CRIT}],
        ),
        Case(
            "one pod of two up",
            {
                'up{service="api",namespace="shop",pod="api-1"}': gauge(0),
                'up{service="api",namespace="shop",pod="api-2"}': gauge(1),
            },
            "5m",
            [],
        ),
        Case(
            "down for 1m only (for: 2m)",
            {'up{service="api",namespace="shop",pod="api-1"}': "1 1 1 1 0 0"},
            "5m",
            [],
        ),
    ],
    "ServiceHighErrorRate": [
        Case("20% 5xx", requests("blue", {"200": 80, "500": 20}), "10m", [{**SHOP_API, **CRIT}]),
        Case("5% 5xx", requests("blue", {"200": 95, "500": 5}), "10m", []),
        Case("30% 404: not errors", requests("blue", {"200": 70, "404": 30, "500": 0}), "10m", []),
        Case("20% 5xx for 4m only (for: 5m)", requests("blue", {"200": 80, "500": 20}), "5m", []),
    ],
    "ServiceColorHighErrorRate": [
        Case(
            "green 20% 5xx, blue 0%: green only",
            {
                **requests("green", {"200": 80, "500": 20}),
                **requests("blue", {"200": 100, "500": 0}),
            },
            "10m",
            [{**SHOP_API, "color": "green", **CRIT}],
        ),
        Case(
            "both colours 5% 5xx",
            {**requests("green", {"200": 95, "500": 5}), **requests("blue", {"200": 95, "500": 5})},
            "10m",
            [],
        ),
    ],
    "ServiceHighLatencyP95": [
        Case(
            "p95 4.75 s",
            {**latency("blue", SLOW), **latency("green", SLOW)},
            "15m",
            [{**SHOP_API, **WARN}],
        ),
        Case("p95 0.475 s", {**latency("blue", FAST), **latency("green", FAST)}, "15m", []),
        Case("p95 4.75 s for 7m only (for: 10m)", latency("blue", SLOW), "8m", []),
    ],
    "DeploymentFailed": [
        Case(
            "Progressing=false (progress deadline exceeded)",
            deployment("Progressing", true=0, false=1),
            "5m",
            [
                {
                    "namespace": "shop",
                    "deployment": "api",
                    "condition": "Progressing",
                    "status": "false",
                    **CRIT,
                }
            ],
        ),
        Case("progressing", deployment("Progressing", true=1, false=0), "5m", []),
        Case("Available=false is not a failed rollout", deployment("Available", 0, 1), "5m", []),
    ],
    "DeploymentUnavailable": [
        Case(
            "wants 2 pods, none available",
            {
                'kube_deployment_spec_replicas{namespace="shop",deployment="api"}': gauge(2),
                'kube_deployment_status_replicas_available{namespace="shop",deployment="api"}': (
                    gauge(0)
                ),
            },
            "10m",
            [{"namespace": "shop", "deployment": "api", **CRIT}],
        ),
        Case(
            "an idle colour scaled to zero",
            {
                'kube_deployment_spec_replicas{namespace="shop",deployment="api-green"}': gauge(0),
                'kube_deployment_status_replicas_available{namespace="shop",'
                'deployment="api-green"}': gauge(0),
            },
            "10m",
            [],
        ),
        Case(
            "one of two available",
            {
                'kube_deployment_spec_replicas{namespace="shop",deployment="api"}': gauge(2),
                'kube_deployment_status_replicas_available{namespace="shop",deployment="api"}': (
                    gauge(1)
                ),
            },
            "10m",
            [],
        ),
    ],
    "NodeHighCpu": usage(cpu, NODE, 10),
    "NodeHighMemory": usage(memory, NODE, 10),
    "NodeHighDisk": [
        *usage(disk, ROOT, 10),
        Case("another mount 95% full", disk(95, mountpoint="/data"), "15m", []),
        Case("tmpfs on / 95% full", disk(95, fstype="tmpfs"), "15m", []),
    ],
    "VolumeHighUsage": usage(volume, PVC, 10),
    "AuroraHighCpu": [
        *usage(lambda pct: aurora("cpuutilization_average", pct), DB, 15),
        Case(
            "only the cluster-level series at 95%",
            {'aws_rds_cpuutilization_average{dimension_DBClusterIdentifier="db"}': gauge(95)},
            "20m",
            [],
        ),
    ],
    "AuroraHighConnections": [
        Case(
            f"{CONNECTIONS + 50} connections",
            aurora("database_connections_average", CONNECTIONS + 50),
            "20m",
            [{**DB, **WARN}],
        ),
        Case(
            f"{CONNECTIONS} connections (the limit)",
            aurora("database_connections_average", CONNECTIONS),
            "20m",
            [],
        ),
    ],
    "AuroraReplicaLag": [
        Case(
            f"{LAG_MS * 5} ms",
            aurora("aurora_replica_lag_maximum", LAG_MS * 5),
            "15m",
            [{**DB, **WARN}],
        ),
        Case(f"{LAG_MS // 5} ms", aurora("aurora_replica_lag_maximum", LAG_MS // 5), "15m", []),
    ],
    "CacheHighMemory": usage(
        lambda pct: cache("database_memory_usage_percentage_average", pct),
        {"dimension_CacheClusterId": "cache-001"},
        15,
    ),
    "CacheEvictions": [
        Case(
            "12 evictions a minute",
            cache("evictions_sum", 12),
            "20m",
            [{"dimension_CacheClusterId": "cache-001", **WARN}],
        ),
        Case("no evictions", cache("evictions_sum", 0), "20m", []),
    ],
    "KafkaHighDiskUsage": usage(
        kafka, {"dimension_Cluster_Name": "events", "dimension_Broker_ID": "1"}, 15
    ),
    "LoadBalancer5xx": [
        Case(
            "50 ELB 5xx a minute",
            alb(50),
            "15m",
            [{"dimension_LoadBalancer": "app/platform/abc", **WARN}],
        ),
        Case("5 ELB 5xx a minute", alb(5), "15m", []),
    ],
}

# The quiet side of every `for:`. Per alert: its `for:` in minutes (written out, so a shortened
# or lengthened one fails), the minute its firing case's condition first holds (0: a gauge holds
# from the first sample; 1: a rate needs two samples), and that case (for a 70 % / 90 % pair,
# the one where both severities fire, so both rules' durations are held). Two cases follow:
# quiet one minute before `for:` ends, firing with exactly the case's labels when it ends.
PAIR = "95%: warning and critical"
DURATIONS: dict[str, tuple[int, int, str]] = {
    "ServiceDown": (2, 0, "every pod down"),
    "ServiceHighErrorRate": (5, 1, "20% 5xx"),
    "ServiceColorHighErrorRate": (5, 1, "green 20% 5xx, blue 0%: green only"),
    "ServiceHighLatencyP95": (10, 1, "p95 4.75 s"),
    "DeploymentFailed": (1, 0, "Progressing=false (progress deadline exceeded)"),
    "DeploymentUnavailable": (5, 0, "wants 2 pods, none available"),
    "NodeHighCpu": (10, 1, PAIR),
    "NodeHighMemory": (10, 0, PAIR),
    "NodeHighDisk": (10, 0, PAIR),
    "VolumeHighUsage": (10, 0, PAIR),
    "AuroraHighCpu": (15, 0, PAIR),
    "AuroraHighConnections": (15, 0, f"{CONNECTIONS + 50} connections"),
    "AuroraReplicaLag": (10, 0, f"{LAG_MS * 5} ms"),
    "CacheHighMemory": (15, 0, PAIR),
    "CacheEvictions": (15, 0, "12 evictions a minute"),
    "KafkaHighDiskUsage": (15, 0, PAIR),
    "LoadBalancer5xx": (10, 0, "50 ELB 5xx a minute"),
}


def duration_cases(alert: str) -> list[Case]:
    minutes, first, name = DURATIONS[alert]
    (case,) = [c for c in CASES[alert] if c.name == name]
    end = first + minutes
    return [
        Case(f"{name}: quiet at {end - 1}m, 1m before for: {minutes}m ends", case.series,
             f"{end - 1}m", []),
        Case(f"{name}: fires at {end}m, when for: {minutes}m ends", case.series, f"{end}m",
             case.fires),
    ]  # fmt: skip


ALL_CASES = [(alert, case) for alert, cases in CASES.items() for case in cases] + [
    (alert, case) for alert in DURATIONS for case in duration_cases(alert)
]


def case_file(index: int) -> str:
    return f"case-{index:03d}.yml"


def unit_test(alert: str, case: Case) -> dict:
    return {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in case.series.items()],
                "alert_rule_test": [
                    {
                        "eval_time": case.at,
                        "alertname": alert,
                        "exp_alerts": [{"exp_labels": labels} for labels in case.fires],
                    }
                ],
            }
        ],
    }


def without_annotations(groups: list[dict]) -> list[dict]:
    return [
        {
            **group,
            "rules": [{k: v for k, v in r.items() if k != "annotations"} for r in group["rules"]],
        }
        for group in groups
    ]


@pytest.fixture(scope="module")
def promtool() -> str:
    return require(PROMTOOL, "prometheus")


@pytest.fixture(scope="module")
def amtool() -> str:
    return require(AMTOOL, "alertmanager")


@pytest.fixture(scope="module")
def unit_results(promtool, tmp_path_factory) -> dict[str, str]:
    """promtool's report for each case file, from one `promtool test rules` run."""
    workdir = tmp_path_factory.mktemp("promtool")
    rules = {"groups": without_annotations(alerts.rule_groups(THRESHOLDS))}
    (workdir / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    files = []
    for index, (alert, case) in enumerate(ALL_CASES):
        files.append(case_file(index))
        (workdir / files[-1]).write_text(yaml.safe_dump(unit_test(alert, case), sort_keys=False))
    # Successes go to stdout and failures to stderr: one pipe keeps them in file order.
    result = subprocess.run(
        [promtool, "test", "rules", *files],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    reports = {}
    for block in result.stdout.split("Unit Testing:")[1:]:
        name, _, report = block.strip().partition("\n")
        reports[name.strip()] = report
    assert set(reports) == set(files), result.stdout
    return reports


# -- tests ----------------------------------------------------------------------------------------
def test_promtool_check_rules_accepts_the_rules_as_deployed(promtool, tmp_path: Path):
    groups = alerts.rule_groups(THRESHOLDS)
    rule_file = tmp_path / "rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    result = run(promtool, "check", "rules", str(rule_file))
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(group["rules"]) for group in groups)
    assert f"SUCCESS: {count} rules found" in result.stdout


def test_every_alert_has_cases():
    assert set(CASES) == alerts.alert_names(THRESHOLDS)


def test_every_for_duration_has_its_quiet_side():
    """Every rule with `for:` is in DURATIONS, with that exact duration (each severity's)."""
    rules = [r for g in alerts.rule_groups(THRESHOLDS) for r in g["rules"]]
    assert {r["alert"] for r in rules if "for" in r} == set(DURATIONS)
    for rule in rules:
        if "for" in rule:
            assert rule["for"] == f"{DURATIONS[rule['alert']][0]}m", rule["alert"]


def severities_of(case: Case) -> frozenset[str]:
    return frozenset(labels["severity"] for labels in case.fires)


@pytest.mark.parametrize("alert", sorted(CASES))
def test_every_alert_fires_and_stays_quiet(alert: str):
    rules = [r for g in alerts.rule_groups(THRESHOLDS) for r in g["rules"] if r["alert"] == alert]
    seen = {severities_of(case) for case in CASES[alert]}
    assert frozenset() in seen, f"{alert}: no case where it must stay quiet"
    if {r["labels"]["severity"] for r in rules} == {"warning", "critical"}:
        # A 70 % / 90 % pair: warning alone, both, nothing.
        assert {frozenset({"warning"}), frozenset({"warning", "critical"})} <= seen, alert
    else:
        assert frozenset({rules[0]["labels"]["severity"]}) in seen, f"{alert}: never fires"


@pytest.mark.parametrize(
    ("index", "alert", "case"),
    [(i, alert, case) for i, (alert, case) in enumerate(ALL_CASES)],
    ids=[f"{alert}: {case.name}" for alert, case in ALL_CASES],
)
def test_alert_case(index: int, alert: str, case: Case, unit_results: dict[str, str]):
    report = unit_results[case_file(index)]
    if report.strip() != "SUCCESS":
        pytest.fail(f"{alert} / {case.name} ({case_file(index)}):\n{report}", pytrace=False)


# -- Alertmanager -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def am_configs(amtool, tmp_path_factory) -> dict[str, Path]:
    """alertmanager.yaml with and without Slack, as files.

    The Slack receivers point `api_url_file` at the operator's secret mount; amtool 0.25's
    check-config and routes test do not open that file, so the config is written unchanged.
    """
    workdir = tmp_path_factory.mktemp("alertmanager")
    files = {}
    for name, alerting in (("slack", SLACK), ("none", None)):
        files[name] = workdir / f"{name}.yml"
        files[name].write_text(yaml.safe_dump(alertmanager.config(alerting), sort_keys=False))
    return files


@pytest.mark.parametrize("name", ["slack", "none"])
def test_amtool_check_config_accepts_the_config(amtool, am_configs, name: str):
    result = run(amtool, "check-config", str(am_configs[name]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# alert labels -> receiver with Slack (without Slack every alert goes to `null`)
ROUTES = [
    ({"alertname": "ServiceDown", "severity": "critical"}, "slack-critical"),
    ({"alertname": "NodeHighCpu", "severity": "warning"}, "slack-warning"),
    ({"alertname": "Watchdog", "severity": "none"}, alertmanager.NULL),
    ({"alertname": "Watchdog", "severity": "critical"}, alertmanager.NULL),
    ({"alertname": "InfoInhibitor", "severity": "info"}, alertmanager.NULL),
    ({"alertname": "SomethingElse"}, alertmanager.NULL),
]


def route(amtool: str, config: Path, labels: dict[str, str]) -> str:
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={config}",
        *(f"{key}={value}" for key, value in labels.items()),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=[str(r[0]) for r in ROUTES])
def test_routes_with_slack(amtool, am_configs, labels: dict, receiver: str):
    assert route(amtool, am_configs["slack"], labels) == receiver


@pytest.mark.parametrize(("labels", "_"), ROUTES, ids=[str(r[0]) for r in ROUTES])
def test_routes_without_slack_go_nowhere(amtool, am_configs, labels: dict, _: str):
    assert route(amtool, am_configs["none"], labels) == alertmanager.NULL


def test_every_platform_alert_reaches_the_slack_channel_of_its_severity(amtool, am_configs):
    for group in alerts.rule_groups(THRESHOLDS):
        for rule in group["rules"]:
            labels = {"alertname": rule["alert"], **rule["labels"]}
            expected = f"slack-{rule['labels']['severity']}"
            assert route(amtool, am_configs["slack"], labels) == expected, labels
