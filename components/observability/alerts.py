"""The platform's alert rules (the product brief's list plus the data stores), as plain data.

`rule_groups` is what goes into the PrometheusRule object and, unchanged, into the file that
`promtool check rules` / `promtool test rules` read in the tests, so what is tested is what
runs. Every alert carries `severity` (critical pages, warning waits for working hours;
`alertmanager.py` routes them to different Slack channels) and a summary/description.

Metric names:
* applications: `http_requests_total{code}` and the `http_request_duration_seconds` histogram
  (docs/release.md), with the `service`/`color` labels the PodMonitor keeps;
* nodes: node-exporter; deployments: kube-state-metrics;
* AWS data stores: yet-another-cloudwatch-exporter (`aws_<namespace>_<metric>_<statistic>`,
  with `dimension_<Name>` labels).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.bluegreen.args import METRIC_COLOR_LABEL, METRIC_SERVICE_LABEL

__all__ = [
    "AURORA_CONNECTIONS_WARNING_SHARE",
    "ERROR_RATE",
    "P95_SECONDS",
    "USAGE_THRESHOLDS",
    "DataStoreThresholds",
    "alert_names",
    "data_store_rules",
    "resource_rules",
    "rule_groups",
    "service_rules",
]


WARNING, CRITICAL = "warning", "critical"
# The brief: usage above 70 % warns, above 90 % is critical.
USAGE_THRESHOLDS = ((WARNING, 70), (CRITICAL, 90))
ERROR_RATE = 0.10  # the brief: more than 10 % of requests failing is critical
P95_SECONDS = 2  # the brief: p95 latency above 2 s warns
_SVC = METRIC_SERVICE_LABEL
_COLOR = METRIC_COLOR_LABEL


# Warn while a fifth of the writer's connections is still free: time to find the leak or
# route through the proxy before new connections are refused.
AURORA_CONNECTIONS_WARNING_SHARE = 0.8


@dataclass(frozen=True)
class DataStoreThresholds:
    """Limits that depend on how the stack sized its data stores.

    Attributes:
        aurora_connections: warn above this many connections per instance (about 80 % of the
            instance's max_connections).
        aurora_replica_lag_ms: warn when a reader lags the writer by more than this.
    """

    aurora_connections: int
    aurora_replica_lag_ms: int = 1000

    @classmethod
    def for_aurora(cls, max_connections: int) -> DataStoreThresholds:
        """Thresholds for a writer allowing `max_connections`: warn at 80 % of it."""
        return cls(aurora_connections=int(AURORA_CONNECTIONS_WARNING_SHARE * max_connections))


def _alert(name, expr, severity, for_, summary, description) -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": description},
    }


def _error_ratio(by: str) -> str:
    return (
        f'sum by ({by}) (rate(http_requests_total{{{_SVC}!="",code=~"5.."}}[5m]))'
        f' / sum by ({by}) (rate(http_requests_total{{{_SVC}!=""}}[5m]))'
    )


def service_rules() -> list[dict]:
    return [
        _alert(
            "ServiceDown",
            f'sum by (namespace, {_SVC}) (up{{{_SVC}!=""}}) == 0',
            CRITICAL,
            "2m",
            "{{ $labels.service }} is down",
            "No pod of {{ $labels.namespace }}/{{ $labels.service }} has answered a scrape "
            "for 2 minutes.",
        ),
        _alert(
            "ServiceHighErrorRate",
            f"{_error_ratio(f'namespace, {_SVC}')} > {ERROR_RATE}",
            CRITICAL,
            "5m",
            "{{ $labels.service }}: {{ $value | humanizePercentage }} of requests fail",
            f"More than {ERROR_RATE:.0%} of requests to {{{{ $labels.service }}}} returned "
            "5xx over the last 5 minutes.",
        ),
        _alert(
            "ServiceColorHighErrorRate",
            f"{_error_ratio(f'namespace, {_SVC}, {_COLOR}')} > {ERROR_RATE}",
            CRITICAL,
            "5m",
            "{{ $labels.service }} {{ $labels.color }}: {{ $value | humanizePercentage }} fail",
            "One colour of a blue-green service fails (a canary or a just-promoted release); "
            "roll back with `python -m infra.release rollback`.",
        ),
        _alert(
            "ServiceHighLatencyP95",
            f"histogram_quantile(0.95, sum by (namespace, {_SVC}, le) "
            f'(rate(http_request_duration_seconds_bucket{{{_SVC}!=""}}[5m]))) > {P95_SECONDS}',
            WARNING,
            "10m",
            "{{ $labels.service }}: p95 latency {{ $value | humanizeDuration }}",
            f"95th percentile latency of {{{{ $labels.service }}}} is above {P95_SECONDS}s.",
        ),
        _alert(
            "DeploymentUnavailable",
            "kube_deployment_spec_replicas > 0 and kube_deployment_status_replicas_available == 0",
            CRITICAL,
            "5m",
            "{{ $labels.namespace }}/{{ $labels.deployment }} has no available pod",
            "The Deployment wants pods but none is ready: everything it serves is down (also "
            "when no pod exists to be scraped).",
        ),
        _alert(
            "DeploymentFailed",
            'kube_deployment_status_condition{condition="Progressing",status="false"} == 1',
            CRITICAL,
            "1m",
            "{{ $labels.namespace }}/{{ $labels.deployment }} failed to roll out",
            "The Deployment exceeded its progress deadline (ProgressDeadlineExceeded): new "
            "pods never became ready.",
        ),
    ]


def _usage(name: str, expr: str, what: str, for_: str) -> list[dict]:
    return [
        _alert(
            name,
            f"{expr} > {limit}",
            severity,
            for_,
            f"{what} above {limit}%",
            f"{what} is {{{{ $value | humanize }}}}% (threshold {limit}%).",
        )
        for severity, limit in USAGE_THRESHOLDS
    ]


def resource_rules() -> list[dict]:
    root = 'fstype=~"ext4|xfs",mountpoint="/"'
    return [
        *_usage(
            "NodeHighCpu",
            '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))',
            "CPU of {{ $labels.instance }}",
            "10m",
        ),
        *_usage(
            "NodeHighMemory",
            "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)",
            "Memory of {{ $labels.instance }}",
            "10m",
        ),
        *_usage(
            "NodeHighDisk",
            f"100 * (1 - node_filesystem_avail_bytes{{{root}}} / "
            f"node_filesystem_size_bytes{{{root}}})",
            "Root disk of {{ $labels.instance }}",
            "10m",
        ),
        *_usage(
            "VolumeHighUsage",
            "100 * kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes",
            "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}",
            "10m",
        ),
    ]


def data_store_rules(limits: DataStoreThresholds) -> list[dict]:
    instance = 'dimension_DBInstanceIdentifier!=""'
    return [
        *_usage(
            "AuroraHighCpu",
            "max by (dimension_DBInstanceIdentifier) "
            f"(aws_rds_cpuutilization_average{{{instance}}})",
            "CPU of Aurora instance {{ $labels.dimension_DBInstanceIdentifier }}",
            "15m",
        ),
        _alert(
            "AuroraHighConnections",
            "max by (dimension_DBInstanceIdentifier) "
            f"(aws_rds_database_connections_average{{{instance}}}) > {limits.aurora_connections}",
            WARNING,
            "15m",
            "Aurora {{ $labels.dimension_DBInstanceIdentifier }}: {{ $value }} connections",
            f"Connections are above {limits.aurora_connections} (about 80 % of "
            "max_connections); new connections will soon be refused.",
        ),
        _alert(
            "AuroraReplicaLag",
            f"max by (dimension_DBInstanceIdentifier) (aws_rds_aurora_replica_lag_maximum"
            f"{{{instance}}}) > {limits.aurora_replica_lag_ms}",
            WARNING,
            "10m",
            "Aurora reader {{ $labels.dimension_DBInstanceIdentifier }} lags {{ $value }} ms",
            "Reads from this replica return stale data.",
        ),
        *_usage(
            "CacheHighMemory",
            "max by (dimension_CacheClusterId) "
            "(aws_elasticache_database_memory_usage_percentage_average)",
            "Memory of cache node {{ $labels.dimension_CacheClusterId }}",
            "15m",
        ),
        _alert(
            "CacheEvictions",
            "sum by (dimension_CacheClusterId) (aws_elasticache_evictions_sum) > 0",
            WARNING,
            "15m",
            "Cache {{ $labels.dimension_CacheClusterId }} is evicting keys",
            "The cache is full and evicts keys to make room; size it up or set TTLs.",
        ),
        *_usage(
            "KafkaHighDiskUsage",
            "max by (dimension_Cluster_Name, dimension_Broker_ID) "
            "(aws_kafka_data_logs_disk_used_average)",
            "Data disk of Kafka broker {{ $labels.dimension_Broker_ID }}",
            "15m",
        ),
        _alert(
            "LoadBalancer5xx",
            "sum by (dimension_LoadBalancer) (aws_applicationelb_httpcode_elb_5_xx_count_sum) > 10",
            WARNING,
            "10m",
            "ALB {{ $labels.dimension_LoadBalancer }} returns 5xx itself",
            "The load balancer answers 5xx (no healthy target, or targets time out).",
        ),
    ]


def rule_groups(limits: DataStoreThresholds) -> list[dict]:
    """The PrometheusRule `spec.groups` (also a valid `promtool` rule file's `groups`)."""
    return [
        {"name": "platform.services", "rules": service_rules()},
        {"name": "platform.resources", "rules": resource_rules()},
        {"name": "platform.data-stores", "rules": data_store_rules(limits)},
    ]


def alert_names(limits: DataStoreThresholds) -> set[str]:
    return {rule["alert"] for group in rule_groups(limits) for rule in group["rules"]}
