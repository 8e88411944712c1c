"""`Settings`: every section of one stack's config, and the rules that span sections.

Each section's own rules live in its module (`foundation`, `cluster`, `data_stores`,
`observability`, `services`); a rule that needs two sections is a function in the module of
the section it is about, called from `_cross_section_rules` here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from components import cache as cache_rules
from components import storage as storage_rules
from components import streaming as streaming_rules
from components.alb import waf_acl_problems
from components.aws_catalog import region_problems, replica_region_problems, zone_count_problems
from components.cidr import is_documentation, reach_problems
from components.cluster import rules as cluster_rules
from components.database import args as database_rules
from components.database.proxy import proxy_name, proxy_name_problems
from infra import naming
from infra.config.capacity import (
    node_agent_problems,
    observability_capacity_problems,
    partition_load,
    service_fit_problems,
)
from infra.config.cluster import ClusterSettings
from infra.config.data_stores import CacheSettings, DatabaseSettings, StreamingSettings
from infra.config.fields import ConfigModel, SecretSetting, TagValue, component_default, rule
from infra.config.floors import floor_problems
from infra.config.foundation import AlbSettings, KeySettings, NetworkSettings, StorageSettings
from infra.config.observability import ObservabilitySettings, observability_problems
from infra.config.profiles import ENVIRONMENTS
from infra.config.services import (
    AppSettings,
    ServiceSettings,
    data_access_problems,
    service_problems,
)


class Settings(ConfigModel):
    """Everything the program needs for one stack."""

    stack: str
    environment: Literal[ENVIRONMENTS]  # type: ignore[valid-type]
    region: Annotated[str, rule(region_problems)]
    owner: TagValue
    cost_center: TagValue
    protect: bool
    network: NetworkSettings
    keys: KeySettings
    storage: StorageSettings
    app: AppSettings
    alb: AlbSettings = Field(default_factory=AlbSettings)
    cluster: ClusterSettings
    database: DatabaseSettings
    cache: CacheSettings
    streaming: StreamingSettings
    observability: ObservabilitySettings
    services: list[ServiceSettings] = Field(default_factory=list)
    # Secrets (`pulumi config set --secret platform:<key> ...`), never plain text in config.
    slack_webhook_url: SecretSetting | None = None
    grafana_admin_password: SecretSetting | None = None

    @model_validator(mode="after")
    def _cross_section_rules(self) -> Settings:
        problems = floor_problems(self.environment, self.model_dump(by_alias=True))
        problems += self._name_problems()
        problems += [
            f"network.azCount: {p}" for p in zone_count_problems(self.region, self.network.az_count)
        ]
        for key, cidrs, public in (
            ("cluster.publicAccessCidrs", self.cluster.public_access_cidrs, True),
            ("cluster.privateAccessCidrs", self.cluster.private_access_cidrs, False),
        ):
            problems += [
                f"{key}: {p} (platform:network.cidr)"
                for p in reach_problems(cidrs, public=public, vpc_cidr=self.network.cidr)
            ]
        problems += service_problems(self.services, self.cluster, self.observability, self.region)
        if self.alb.waf_acl_arn is not None:
            problems += [
                f"alb.wafAclArn: {p}" for p in waf_acl_problems(self.alb.waf_acl_arn, self.region)
            ]
        problems += data_access_problems(self.services, self.streaming.broker_count)
        problems += observability_capacity_problems(self.observability, self.network, self.cluster)
        problems += service_fit_problems(self.services, self.cluster)
        problems += partition_load(self.services, self.streaming)[0]
        problems += node_agent_problems(self.cluster, self.observability)
        problems += observability_problems(
            self.observability, self.cluster, self.region, self.slack_webhook_url
        )
        if self.streaming.zone_count > self.network.az_count:
            problems.append(
                f"streaming.zoneCount: {self.streaming.zone_count} is more than "
                f"platform:network.azCount {self.network.az_count}"
            )
        if self.storage.force_destroy and self.protect:
            problems.append("storage.forceDestroy: true cannot go with platform:protect: true")
        if self.database.cross_region_backup and not self.replica_region:
            problems.append(
                "database.crossRegionBackup: true needs platform:storage.replication with a "
                "platform:storage.replicaRegion"
            )
        if self.database.cross_region_backup and self.network.recovery_cidr is None:
            problems.append(
                "network.recoveryCidr: required with database.crossRegionBackup: true (the "
                "replica region's recovery site, where backup copies are restored), e.g. "
                "10.130.0.0/16"
            )
        if self.storage.replica_region:
            replica_problems = region_problems(self.storage.replica_region) or (
                replica_region_problems(self.region, self.storage.replica_region)
            )
            problems += [f"storage.replicaRegion: {p}" for p in replica_problems]
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _name_problems(self) -> list[str]:
        """Physical names derived from the stack name, by each component's own rules."""
        prefix = self.name_prefix
        found = {
            "cluster": cluster_rules.cluster_name_problems(prefix),
            "database": database_rules.identifier_problems(f"{prefix}-{naming.DATABASE}"),
            "cache": cache_rules.group_id_problems(f"{prefix}-{naming.CACHE}"),
            "streaming": streaming_rules.cluster_name_problems(f"{prefix}-{naming.STREAMING}"),
            "buckets": storage_rules.bucket_name_problems(
                prefix,
                component_default(storage_rules.BucketsArgs, "purposes"),
                self.storage.replication,
            ),
            "database proxy": proxy_name_problems(proxy_name(f"{prefix}-{naming.DATABASE}")),
        }
        return [
            f"the stack name: {self.stack!r} makes the {what} name invalid: {problem}; use a "
            "shorter stack name of lowercase letters, digits and '-'"
            for what, problems in found.items()
            for problem in problems
        ]

    def warnings(self) -> list[str]:
        """What is allowed but probably not meant (`make plan` and `pulumi up` print them)."""
        found = []
        examples = [
            c
            for c in [*self.cluster.public_access_cidrs, *self.cluster.private_access_cidrs]
            if is_documentation(c)
        ]
        if examples:
            found.append(
                f"platform:cluster access CIDRs {examples} are documentation ranges (RFC 5737): "
                "replace them with your office/VPN egress ranges before `pulumi up`"
            )
        found += partition_load(self.services, self.streaming)[1]
        if self.database.proxy and not self.services:
            found.append(
                "platform:database.proxy: no platform:services yet, so no database logins: the "
                "RDS Proxy is created with the first service"
            )
        if self.slack_webhook_url is None:
            found.append(
                "alerts go nowhere: no platform:slackWebhookUrl (set it with `pulumi config set "
                "--secret platform:slackWebhookUrl https://hooks.slack.com/services/...`)"
            )
        return found

    @property
    def name_prefix(self) -> str:
        """Prefix for physical names: unique per stack so two stacks can share an account."""
        return naming.name_prefix(self.stack)

    @property
    def replica_region(self) -> str | None:
        return self.storage.replica_region if self.storage.replication else None

    def default_tags(self) -> dict[str, str]:
        return {
            "project": naming.NAMESPACE,
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
            "stack": self.stack,
        }
