"""Config of the observability stack: `platform:observability` (wired by
`infra/wiring/observability.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import model_validator
from pydantic.alias_generators import to_camel

from components.alb import RESERVED_ORDER, GroupMember
from components.bluegreen.args import certificate_arn_problems, hostname_problems
from components.observability import args as observability_rules
from infra.config.cluster import ClusterSettings
from infra.config.fields import ConfigModel, SecretSetting, component_default, rule


class ObservabilitySettings(ConfigModel):
    """`platform:observability` — the brief's basic / enhanced / full observability."""

    level: Literal[observability_rules.LEVELS]  # type: ignore[valid-type]
    prometheus_retention: Annotated[str, rule(observability_rules.duration_problems)]
    prometheus_storage_gib: Annotated[int, rule(observability_rules.storage_problems)]
    # Only levels with logs (enhanced, full) use these; the profiles set them there.
    elasticsearch_storage_gib: Annotated[
        int | None, rule(lambda v: [] if v is None else observability_rules.storage_problems(v))
    ] = None
    log_retention_days: Annotated[
        int | None,
        rule(lambda v: [] if v is None else observability_rules.retention_days_problems(v)),
    ] = None
    trace_retention_days: Annotated[
        int | None,
        rule(lambda v: [] if v is None else observability_rules.retention_days_problems(v)),
    ] = None
    slack_critical_channel: Annotated[str, rule(observability_rules.slack_channel_problems)] = (
        component_default(observability_rules.SlackAlerting, "critical_channel")
    )
    slack_warning_channel: Annotated[str, rule(observability_rules.slack_channel_problems)] = (
        component_default(observability_rules.SlackAlerting, "warning_channel")
    )
    # A node group (cluster.nodeGroups) reserved for the monitoring pods: they select its
    # labels and tolerate its taints. None: they share the other nodes.
    node_group: str | None = None
    # The UIs on the internal ALB as grafana.<uiDomain> etc.; needs uiCertificateArn.
    ui_domain: Annotated[str | None, rule(lambda v: [] if v is None else hostname_problems(v))] = (
        None
    )
    ui_certificate_arn: str | None = None

    @model_validator(mode="after")
    def _level_needs(self) -> ObservabilitySettings:
        problems = []
        if observability_rules.SHAPES[self.level].elasticsearch_nodes:
            for key in ("elasticsearch_storage_gib", "log_retention_days", "trace_retention_days"):
                if getattr(self, key) is None:
                    problems.append(
                        f"{to_camel(key)}: required at level {self.level!r} (logs on; "
                        "platform:observability.level)"
                    )
        if (self.ui_domain is None) != (self.ui_certificate_arn is None):
            given, missing = (
                ("uiDomain", "uiCertificateArn")
                if self.ui_domain is not None
                else ("uiCertificateArn", "uiDomain")
            )
            problems.append(
                f"{given}: needs platform:observability.{missing} too (the UIs are served with "
                "TLS only); set both or neither"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def ui_members(config: ObservabilitySettings) -> list[GroupMember]:
    """The monitoring UIs, which join the internal ALB when `uiDomain` is set."""
    domain = config.ui_domain
    if domain is None:
        return []
    shape = observability_rules.SHAPES[config.level]
    uis = [ui for ui in observability_rules.UIS if ui != "kibana" or shape.elasticsearch_nodes]
    # Platform-owned hosts, all from one key: no service may take their requests.
    return [
        GroupMember(
            f"{ui} UI",
            [f"{ui}.{domain}"],
            tls=True,
            order=RESERVED_ORDER,
            where="observability.uiDomain",
            fields=False,
            reserved=True,
        )
        for ui in uis
    ]


def observability_problems(
    config: ObservabilitySettings,
    cluster: ClusterSettings,
    region: str,
    slack_webhook_url: SecretSetting | None,
) -> list[str]:
    """What the observability section must agree on with the cluster, region and secrets."""
    problems = []
    group = config.node_group
    if group is not None:
        if group not in cluster.node_groups:
            problems.append(
                f"observability.nodeGroup: {group!r} is not one of platform:cluster.nodeGroups "
                f"{sorted(cluster.node_groups)}"
            )
        elif not cluster.node_groups[group].labels:
            problems.append(
                f"observability.nodeGroup: platform:cluster.nodeGroups.{group} has no labels to "
                "select it by; give it e.g. labels: {role: monitoring}"
            )
    if config.ui_certificate_arn is not None:
        problems += [
            f"observability.uiCertificateArn: {p}"
            for p in certificate_arn_problems(config.ui_certificate_arn, region)
        ]
    url = slack_webhook_url.value if slack_webhook_url else None
    if url is not None:
        problems += [
            f"slackWebhookUrl: {p}"
            for p in observability_rules.slack_webhook_problems(url.get_secret_value())
        ]
    return problems
