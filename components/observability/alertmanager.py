"""Alertmanager's routing: critical and warning to their own Slack channels, nothing else.

The webhook URL never appears here: Alertmanager reads it from a file of the Kubernetes
Secret `SLACK_SECRET` (mounted by the operator at /etc/alertmanager/secrets/<secret>/),
which the component creates from the Pulumi secret. Without alerting configured every
alert goes to the `null` receiver (dev without a webhook).
"""

from __future__ import annotations

from components.observability.args import SlackAlerting

__all__ = [
    "NULL",
    "SLACK_SECRET",
    "SLACK_URL_FILE",
    "SLACK_URL_KEY",
    "config",
]


SLACK_SECRET = "alertmanager-slack"
SLACK_URL_KEY = "webhook-url"
SLACK_URL_FILE = f"/etc/alertmanager/secrets/{SLACK_SECRET}/{SLACK_URL_KEY}"
NULL = "null"
# Labels an alert and its inhibited twin must share (absent labels count as equal, so every
# label that tells two subjects apart must be listed: nodes, volumes, data-store dimensions).
_SAME_TARGET = [
    "alertname",
    "namespace",
    "service",
    "instance",
    "persistentvolumeclaim",
    "dimension_DBInstanceIdentifier",
    "dimension_CacheClusterId",
    "dimension_Cluster_Name",
    "dimension_Broker_ID",
]
_SAME_SUBJECT = [label for label in _SAME_TARGET if label != "alertname"]


def _slack(name: str, channel: str) -> dict:
    return {
        "name": name,
        "slack_configs": [
            {
                "api_url_file": SLACK_URL_FILE,
                "channel": channel,
                "send_resolved": True,
                "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
                "text": (
                    "{{ range .Alerts }}*{{ .Annotations.summary }}*\n"
                    "{{ .Annotations.description }}\n{{ end }}"
                ),
            }
        ],
    }


def config(alerting: SlackAlerting | None) -> dict:
    """The whole `alertmanager.yaml` (the chart's `alertmanager.config`)."""
    receivers: list[dict] = [{"name": NULL}]
    routes: list[dict] = [{"receiver": NULL, "matchers": ['alertname = "Watchdog"']}]
    if alerting is not None:
        receivers += [
            _slack("slack-critical", alerting.critical_channel),
            _slack("slack-warning", alerting.warning_channel),
        ]
        routes += [
            {"receiver": "slack-critical", "matchers": ['severity = "critical"']},
            {"receiver": "slack-warning", "matchers": ['severity = "warning"']},
        ]
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": NULL,
            "group_by": ["alertname", "namespace", "service"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "inhibit_rules": [
            # A critical alert silences the warning of the same thing (the 70 % / 90 % pairs).
            {
                "source_matchers": ['severity = "critical"'],
                "target_matchers": ['severity = "warning"'],
                "equal": _SAME_TARGET,
            },
            # A failing service makes its failing colour redundant.
            {
                "source_matchers": ['alertname = "ServiceHighErrorRate"'],
                "target_matchers": ['alertname = "ServiceColorHighErrorRate"'],
                "equal": _SAME_SUBJECT,
            },
            # Down services also have no error rate worth reporting.
            {
                "source_matchers": ['alertname = "ServiceDown"'],
                "target_matchers": ['alertname =~ "Service.*"', 'alertname != "ServiceDown"'],
                "equal": _SAME_SUBJECT,
            },
        ],
        "receivers": receivers,
        "templates": ["/etc/alertmanager/config/*.tmpl"],
    }
