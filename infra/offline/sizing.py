"""The environment sizing table, computed from settings so docs and `make plan` cannot drift.

The brief's cost targets are shown next to an honest estimate: the EKS control plane alone is
about $73/month, so no environment with EKS fits the brief's $30-80/month.
"""

from __future__ import annotations

from components.observability import SHAPES
from infra.config import Settings
from infra.offline.cost import CostEstimate

# The product brief's monthly cost targets, kept visible on purpose.
BRIEF_COST_TARGET = {"dev": "~$30", "uat": "~$50", "prod": "~$80"}


def _node_groups(settings: Settings) -> str:
    parts = []
    for name, group in settings.cluster.node_groups.items():
        spot = " spot" if group.capacity_type == "SPOT" else ""
        parts.append(
            f"{name}: {group.desired_size} x {'/'.join(group.instance_types)}{spot} "
            f"({group.min_size}..{group.max_size})"
        )
    return "; ".join(parts)


def _database(settings: Settings) -> str:
    db = settings.database
    proxy = ", RDS Proxy" if db.proxy else ""
    if db.mode == "serverless":
        pause = ", pauses when idle" if db.min_capacity == 0 else ""
        return f"Aurora Serverless v2 {db.min_capacity:g}..{db.max_capacity:g} ACU{pause}{proxy}"
    return f"Aurora {db.instance_class}: writer + {db.reader_count} reader(s){proxy}"


def _observability(settings: Settings) -> str:
    """The level and what it runs (components.observability.SHAPES), with the sizes."""
    config = settings.observability
    shape = SHAPES[config.level]
    parts = [
        f"{config.level}: Prometheus {shape.prometheus_replicas} x {config.prometheus_storage_gib}"
        f" GiB ({config.prometheus_retention})",
        f"Alertmanager {shape.alertmanager_replicas}",
        f"Grafana {shape.grafana_replicas}",
    ]
    if shape.elasticsearch_nodes:
        parts.append(
            f"Elasticsearch {shape.elasticsearch_nodes} x {config.elasticsearch_storage_gib} GiB"
            f" (logs {config.log_retention_days} d)"
        )
    else:
        parts.append("no logs")
    parts.append(f"Jaeger {shape.jaeger_replicas} on {shape.trace_store}")
    if config.node_group:
        parts.append(f"on node group {config.node_group}")
    return ", ".join(parts)


def sizing_rows(settings: Settings, cost: CostEstimate | None = None) -> list[tuple[str, str]]:
    """(row label, value) pairs for one environment; with `cost`, the monthly estimate too."""
    app = settings.app
    network = settings.network
    cache, streaming = settings.cache, settings.streaming
    rows = [
        ("app replicas", str(app.replicas)),
        (
            "autoscaling (HPA 2..10, CPU 70 %, memory 80 %, 5 min scale-down)",
            "on" if app.autoscaling else "off",
        ),
        ("observability", _observability(settings)),
        (
            "deploys allowed from",
            "any branch" if app.deploy_branches == ["*"] else ", ".join(app.deploy_branches),
        ),
        ("availability zones", str(network.az_count)),
        ("NAT gateways", "one per AZ" if network.nat_gateways == "perAz" else "one (shared)"),
        ("interface endpoints", "on" if network.interface_endpoints else "off"),
        ("flow-log retention (days)", str(network.flow_log_retention_days)),
        ("S3 replication", settings.replica_region or "off"),
        ("protected stateful resources", "yes" if settings.protect else "no"),
        (f"EKS {settings.cluster.version} node groups", _node_groups(settings)),
        ("node autoscaling", _node_autoscaling(settings)),
        ("database", _database(settings)),
        ("database backups (days)", str(settings.database.backup_retention_days)),
        (
            "cache",
            f"{cache.engine} {cache.engine_version}, {cache.num_cache_clusters} x "
            f"{cache.node_type}{', multi-AZ' if cache.multi_az else ''}",
        ),
        (
            "Kafka (MSK)",
            f"{streaming.broker_count} x {streaming.broker_instance_type}, "
            f"{streaming.volume_size_gib}..{streaming.max_volume_size_gib} GiB",
        ),
        ("cost target in the brief", f"{BRIEF_COST_TARGET[settings.environment]}/month"),
    ]
    if cost is not None:
        rows.append(("estimated fixed cost (make plan)", f"~${cost.total:,.0f}/month"))
        ceiling = f"up to ~${cost.ceiling_total:,.0f}/month" if cost.ceilings else "none"
        rows.append(("Karpenter pools at their limits (on top, when used)", ceiling))
    return rows


def _node_autoscaling(settings: Settings) -> str:
    cluster = settings.cluster
    if cluster.node_autoscaler != "karpenter":
        return {"none": "none (fixed node groups)"}.get(
            cluster.node_autoscaler, cluster.node_autoscaler
        )
    pools = [
        f"{name}: {'/'.join(pool.capacity_types)} {', '.join(pool.instance_families)} "
        f"({', '.join(pool.instance_sizes)}), <= {pool.cpu_limit} vCPU / "
        f"{pool.memory_limit_gib} GiB"
        for name, pool in cluster.node_pools.items()
    ]
    return "Karpenter: " + "; ".join(pools)


def render_table(columns: dict[str, list[tuple[str, str]]]) -> str:
    """Markdown table with one column per environment."""
    names = list(columns)
    labels = [label for label, _ in columns[names[0]]]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for row, label in enumerate(labels):
        lines.append(f"| {label} | " + " | ".join(columns[n][row][1] for n in names) + " |")
    return "\n".join(lines)


MARK_BEGIN, MARK_END = "<!-- sizing:begin -->", "<!-- sizing:end -->"


def committed_table() -> str:
    """The table for the committed Pulumi.<env>.yaml of every environment."""
    from infra.config import ENVIRONMENTS, read_stack_config
    from infra.offline.cost import estimate
    from infra.offline.run import plan

    columns = {}
    for env in ENVIRONMENTS:
        settings, recording = plan(env, read_stack_config(env))
        columns[env] = sizing_rows(settings, estimate(recording))
    return render_table(columns)


def update_doc(path) -> None:
    """Rewrite the generated block of docs/sizing.md in place."""
    text = path.read_text()
    head, rest = text.split(MARK_BEGIN)
    _, tail = rest.split(MARK_END)
    path.write_text(f"{head}{MARK_BEGIN}\n{committed_table()}\n{MARK_END}{tail}")


if __name__ == "__main__":
    from pathlib import Path

    update_doc(Path(__file__).resolve().parents[2] / "docs" / "sizing.md")
