"""Config of the data stores: `platform:database`, `platform:cache` and `platform:streaming`
(wired by `infra/wiring/data_stores.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, model_validator

from components import cache as cache_rules
from components import streaming as streaming_rules
from components.database import args as database_rules
from infra.config.fields import ConfigModel, RetentionDays, component_default, rule


class DatabaseSettings(ConfigModel):
    """`platform:database` (Aurora PostgreSQL)."""

    engine_version: Annotated[str, rule(database_rules.engine_version_problems)]
    mode: Literal[database_rules.MODES]  # type: ignore[valid-type]
    # Serverless v2 capacity (ACU) and provisioned class: the profile names whichever it uses.
    min_capacity: float | None = None
    max_capacity: float | None = None
    seconds_until_auto_pause: int | None = None
    instance_class: Annotated[str, rule(database_rules.instance_class_problems)] | None = None
    reader_count: int = Field(default=0, ge=0, le=database_rules.MAX_READERS)
    backup_retention_days: Annotated[int, rule(database_rules.backup_retention_problems)]
    skip_final_snapshot: bool = component_default(
        database_rules.DatabaseArgs, "skip_final_snapshot"
    )
    monitoring_interval: Literal[database_rules.MONITORING_INTERVALS]  # type: ignore[valid-type]
    performance_insights_retention_days: Annotated[
        int, rule(database_rules.performance_insights_problems)
    ] = component_default(database_rules.DatabaseArgs, "performance_insights_retention_days")
    log_retention_days: RetentionDays
    cross_region_backup: bool = False
    # RDS Proxy (pooling, IAM auth end to end) in front of the writer.
    proxy: bool = component_default(database_rules.DatabaseArgs, "proxy")

    @model_validator(mode="after")
    def _mode(self) -> DatabaseSettings:
        problems = []
        if self.mode == "serverless":
            if self.min_capacity is None or self.max_capacity is None:
                problems.append("serverless mode needs minCapacity and maxCapacity (ACU)")
            else:
                problems += database_rules.capacity_problems(
                    self.min_capacity, self.max_capacity, self.seconds_until_auto_pause
                )
                if self.min_capacity == 0 and self.seconds_until_auto_pause is None:
                    problems.append("secondsUntilAutoPause: required when minCapacity is 0")
        elif self.instance_class is None:
            problems.append("instanceClass: provisioned mode needs one, e.g. db.r7g.large")
        else:
            problems += [
                f"instanceClass and engineVersion: {p}"
                for p in database_rules.class_version_problems(
                    self.instance_class, self.engine_version
                )
            ]
        problems += database_rules.proxy_problems(
            self.proxy, self.mode == "serverless", self.min_capacity or 0
        )
        if problems:
            raise ValueError("\n".join(problems))
        return self


class CacheSettings(ConfigModel):
    """`platform:cache` (ElastiCache replication group)."""

    engine: Literal[tuple(cache_rules.ENGINE_VERSIONS)] = cache_rules.DEFAULT_ENGINE  # type: ignore[valid-type]
    engine_version: str
    node_type: Annotated[str, rule(cache_rules.node_type_problems)]
    num_cache_clusters: int
    multi_az: bool
    snapshot_retention_days: Annotated[int, rule(cache_rules.snapshot_retention_problems)]
    log_retention_days: RetentionDays
    # Snapshot on deletion: every environment but the disposable one.
    final_snapshot: bool
    # Values tiered to SSD (r6gd nodes only, and they need it).
    data_tiering: bool = component_default(cache_rules.CacheArgs, "data_tiering")

    @model_validator(mode="after")
    def _checks(self) -> CacheSettings:
        problems = cache_rules.engine_problems(self.engine, self.engine_version)
        problems += cache_rules.data_tiering_problems(
            self.node_type,
            self.data_tiering,
            component_default(cache_rules.CacheArgs, "maxmemory_policy"),
        )
        problems += cache_rules.replica_problems(self.num_cache_clusters, self.multi_az)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class StreamingSettings(ConfigModel):
    """`platform:streaming` (MSK provisioned)."""

    kafka_version: Annotated[str, rule(streaming_rules.kafka_version_problems)]
    # Fixed per stack, not derived from network.azCount: MSK client subnets are force-new, so
    # adding an AZ to the VPC must not move (replace) the brokers.
    zone_count: Literal[streaming_rules.ZONES]  # type: ignore[valid-type]
    broker_count: PositiveInt
    broker_instance_type: Annotated[str, rule(streaming_rules.broker_type_problems)]
    volume_size_gib: int
    max_volume_size_gib: int
    storage_target_utilization: int = component_default(
        streaming_rules.StreamingArgs, "storage_target_utilization"
    )
    log_retention_days: RetentionDays
    enhanced_monitoring: Literal[streaming_rules.MONITORING_LEVELS]  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _checks(self) -> StreamingSettings:
        problems = streaming_rules.broker_count_problems(self.broker_count, self.zone_count)
        problems += streaming_rules.storage_problems(
            self.volume_size_gib, self.max_volume_size_gib, self.storage_target_utilization
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self
