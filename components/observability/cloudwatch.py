"""AWS data-store metrics in Prometheus: yet-another-cloudwatch-exporter (YACE) with IRSA.

YACE discovers resources through the Resource Groups Tagging API, so it sees only resources
that carry every tag in `ObservabilityArgs.aws_resource_tags` (the stack's default tags):
another stack's database in the same account never shows up here. Its role can read
CloudWatch and tags, nothing else (the four actions YACE's README lists as the minimum for
discovery jobs; these four namespaces need no extra ones).

Metrics are named `aws_<namespace>_<metric>_<statistic>` (alerts.py uses them); every
job reads 5-minute windows of 1-minute datapoints, which CloudWatch keeps at that resolution.
"""

from __future__ import annotations

import re

import yaml

from components.hardening import container_security_context, pod_security_context
from components.observability.args import ObservabilityArgs
from components.observability.pods import scheduling

__all__ = [
    "DIMENSIONS",
    "JOBS",
    "READ_ONLY_ACTIONS",
    "RELEASE",
    "SCRAPE_SECONDS",
    "SERVICE_ACCOUNT",
    "exporter_config",
    "iam_policy",
    "values",
]


RELEASE = "cloudwatch-exporter"
SERVICE_ACCOUNT = RELEASE
SCRAPE_SECONDS = 300  # one CloudWatch query round per 5 minutes (GetMetricData is billed)
READ_ONLY_ACTIONS = (
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "cloudwatch:ListMetrics",
    "tag:GetResources",
)
# CloudWatch namespace -> (metric, statistics, zero when missing): what alerts.py and the
# data-store dashboard read.
JOBS: dict[str, list[tuple[str, list[str], bool]]] = {
    "AWS/RDS": [
        ("CPUUtilization", ["Average"], False),
        ("DatabaseConnections", ["Average", "Maximum"], False),
        ("AuroraReplicaLag", ["Maximum"], False),
        ("FreeableMemory", ["Minimum"], False),
    ],
    "AWS/ElastiCache": [
        ("DatabaseMemoryUsagePercentage", ["Average"], False),
        ("EngineCPUUtilization", ["Average"], False),
        ("Evictions", ["Sum"], True),
        ("CurrConnections", ["Average"], False),
    ],
    "AWS/Kafka": [
        ("KafkaDataLogsDiskUsed", ["Average"], False),
        ("UnderReplicatedPartitions", ["Maximum"], True),
    ],
    "AWS/ApplicationELB": [
        ("RequestCount", ["Sum"], True),
        ("HTTPCode_ELB_5XX_Count", ["Sum"], True),
        ("HTTPCode_Target_5XX_Count", ["Sum"], True),
        ("TargetResponseTime", ["p95"], False),
    ],
}


# CloudWatch publishes ALB metrics per load balancer and again per zone (and target group):
# keep the per-load-balancer series only, so sums do not count every request twice.
DIMENSIONS = {"AWS/ApplicationELB": ["LoadBalancer"]}


def iam_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadMetricsAndDiscoverByTag",
                "Effect": "Allow",
                "Action": list(READ_ONLY_ACTIONS),
                # None of these actions supports resource-level permissions.
                "Resource": "*",
            }
        ],
    }


def exporter_config(args: ObservabilityArgs) -> dict:
    search_tags = [
        {"key": key, "value": f"^{re.escape(value)}$"}
        for key, value in sorted(args.aws_resource_tags.items())
    ]
    jobs = [
        {
            "type": namespace,
            "regions": [args.region],
            "searchTags": search_tags,
            "period": 60,
            "length": 300,
            "metrics": [
                {"name": name, "statistics": statistics, **({"nilToZero": True} if zero else {})}
                for name, statistics, zero in metrics
            ],
            **(
                {"dimensionNameRequirements": DIMENSIONS[namespace]}
                if namespace in DIMENSIONS
                else {}
            ),
        }
        for namespace, metrics in JOBS.items()
    ]
    return {
        "apiVersion": "v1alpha1",
        "sts-region": args.region,
        "discovery": {"exportedTagsOnMetrics": {ns: ["Name"] for ns in JOBS}, "jobs": jobs},
    }


def values(args: ObservabilityArgs) -> dict:
    return {
        # The chart renders `config` through `tpl`: it must be a string.
        "config": yaml.safe_dump(exporter_config(args), sort_keys=False),
        # No role annotation: a Pod Identity association binds the role to this name.
        "serviceAccount": {"name": SERVICE_ACCOUNT},
        "extraArgs": {"scraping-interval": SCRAPE_SECONDS},
        "testConnection": False,
        # The exporter serves its cache; scraping it often costs no CloudWatch call and keeps
        # a sample inside every 5-minute lookback even when one scrape is missed.
        "serviceMonitor": {"enabled": True, "interval": "60s"},
        "podSecurityContext": pod_security_context(),
        "securityContext": container_security_context(),
        "resources": {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        **scheduling(args.placement),
    }
