"""Config of the local stack (profile `local`): the in-cluster layer on a laptop cluster.

A local stack has no AWS: its settings have no network, keys, storage, alb, database, cache
or streaming section (a key for one is refused, naming the stand-in that replaces it), and no
prod floor applies to it. What it has: `platform:local` (which cluster and how its nodes are
reached), `platform:stores` (the in-cluster stand-ins), and the same `app`, `observability`
and `services` sections as the cloud stacks, checked by the same rules.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from components.cidr import source_range_problems
from components.cluster import rules as cluster_rules
from components.cluster.args import ClusterArgs
from components.database.logins import login_problems
from components.kubernetes_rules import subdomain_problems
from components.local_stores.component import (
    LocalDataStoresArgs,
    context_problems,
    storage_problems,
)
from infra import naming
from infra.config.fields import ConfigModel, SecretSetting, TagValue, component_default, rule
from infra.config.observability import ObservabilitySettings
from infra.config.profiles import LOCAL_ENVIRONMENT, PROFILES
from infra.config.services import (
    AppSettings,
    ServiceSettings,
    data_access_problems,
    service_problems,
)

# Where the data stand-ins run (the component's own default).
STORES_NAMESPACE = component_default(LocalDataStoresArgs, "namespace")
# The sections only the cloud stacks have, and what stands in for each locally.
CLOUD_ONLY = {
    "network": "there is no VPC: the laptop cluster's own network (platform:local.nodeCidrs)",
    "keys": "there are no KMS keys: Secrets hold the stand-ins' passwords",
    "storage": "there are no S3 buckets",
    "alb": "there is no ALB: reach services with kubectl port-forward (docs/local.md)",
    "cluster": "there is no EKS cluster: platform:local names the kubeconfig context",
    "database": "PostgreSQL runs in the cluster: set it under platform:stores",
    "cache": "Valkey runs in the cluster: set it under platform:stores",
    "streaming": "Kafka runs in the cluster: set it under platform:stores",
    "protect": "nothing in a local stack is protected (it is disposable)",
}
# Topics are checked as dev's MSK would take them: a local stack runs what dev will run.
_TOPIC_BROKERS = PROFILES["dev"]["streaming"]["brokerCount"]


class LocalClusterSettings(ConfigModel):
    """`platform:local`: the laptop cluster the stack deploys to."""

    # The kubeconfig context the Kubernetes provider uses (never the current context: the
    # wrong cluster is one `kubectl config use-context` away).
    context: Annotated[str, rule(context_problems)]
    # The cluster's Kubernetes minor: the objects are checked against its schema.
    kubernetes_version: Annotated[str, rule(cluster_rules.kubernetes_version_problems)]
    namespaces: list[str] = Field(min_length=1)
    storage_class: Annotated[str, rule(subdomain_problems)]
    # Where the API server and the nodes sit: the service pods admit them (the release tool's
    # smoke test goes through the API server's service proxy).
    node_cidrs: Annotated[list[str], Field(min_length=1), rule(source_range_problems)]

    @model_validator(mode="after")
    def _namespaces(self) -> LocalClusterSettings:
        system = component_default(ClusterArgs, "system_namespace")
        problems = [
            p for ns in self.namespaces for p in cluster_rules.namespace_problems(ns, system)
        ]
        if len(set(self.namespaces)) != len(self.namespaces):
            problems.append(f"namespaces {self.namespaces}: each namespace once")
        if STORES_NAMESPACE in self.namespaces:
            problems.append(
                f"namespaces: {STORES_NAMESPACE!r} is where the data stand-ins run; name the "
                "services' namespaces otherwise"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def version(self) -> str:
        """The same attribute name as the cloud's `cluster.version` (the checks read it)."""
        return self.kubernetes_version


class LocalStoresSettings(ConfigModel):
    """`platform:stores`: the in-cluster stand-ins for Aurora, ElastiCache and MSK."""

    database_name: Annotated[str, rule(login_problems)]
    database_storage_gib: Annotated[int, rule(storage_problems)]
    kafka_storage_gib: Annotated[int, rule(storage_problems)]


class LocalSettings(ConfigModel):
    """Everything the program needs for a local stack."""

    stack: str
    environment: Literal[LOCAL_ENVIRONMENT]  # type: ignore[valid-type]
    owner: TagValue
    cost_center: TagValue
    local: LocalClusterSettings
    stores: LocalStoresSettings
    app: AppSettings
    observability: ObservabilitySettings
    services: list[ServiceSettings] = Field(default_factory=list)
    slack_webhook_url: SecretSetting | None = None
    grafana_admin_password: SecretSetting | None = None

    @model_validator(mode="after")
    def _cross_section_rules(self) -> LocalSettings:
        problems = []
        if self.observability.ui_domain is not None or self.observability.node_group:
            problems.append(
                "observability: uiDomain/uiCertificateArn (the internal ALB) and nodeGroup (an "
                "EKS node group) do not exist locally; open the UIs with kubectl port-forward"
            )
        # The same service rules as the cloud stacks (namespaces, names, ALB members, ...).
        problems += service_problems(self.services, self.local, self.observability, "")
        problems += data_access_problems(self.services, _TOPIC_BROKERS)
        for index, service in enumerate(self.services):
            if service.public or service.certificate_arn is not None:
                problems.append(
                    f"services[{index}]: public and certificateArn need an ALB, which a local "
                    "stack does not have; remove them (the Service is reached with "
                    "port-forward)"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def name_prefix(self) -> str:
        return naming.name_prefix(self.stack)

    @property
    def region(self) -> str:
        """No AWS region: the plan's header says where the stack runs instead."""
        return f"none (kubeconfig context {self.local.context})"

    def warnings(self) -> list[str]:
        if self.slack_webhook_url is None:
            return ["alerts go nowhere (no platform:slackWebhookUrl): expected on a laptop"]
        return []
