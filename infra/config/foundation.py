"""Config of the foundation: `platform:network`, `platform:keys`, `platform:storage` and
`platform:alb` (wired by `infra/wiring/foundation.py`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from components import storage as storage_rules
from components.cidr import MAX_AZS, parse_vpc_cidr
from components.encryption import DELETION_WINDOW_DAYS
from components.network import MIN_AZS, NAT_MODES
from infra.config.fields import ConfigModel, RetentionDays, component_default


class NetworkSettings(ConfigModel):
    """`platform:network`."""

    cidr: str
    az_count: int = Field(ge=MIN_AZS, le=MAX_AZS)
    nat_gateways: Literal[NAT_MODES]  # type: ignore[valid-type]
    interface_endpoints: bool
    flow_log_retention_days: RetentionDays

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        parse_vpc_cidr(value)
        return value


class KeySettings(ConfigModel):
    """`platform:keys`."""

    deletion_window_days: int = Field(ge=DELETION_WINDOW_DAYS[0], le=DELETION_WINDOW_DAYS[1])


class StorageSettings(ConfigModel):
    """`platform:storage`."""

    replication: bool
    replica_region: str | None = None
    noncurrent_version_expiry_days: PositiveInt
    infrequent_access_after_days: int = Field(ge=storage_rules.INFREQUENT_ACCESS_MIN_DAYS)
    access_log_expiry_days: PositiveInt
    force_destroy: bool = component_default(storage_rules.BucketsArgs, "force_destroy")

    @model_validator(mode="after")
    def _replica(self) -> StorageSettings:
        if self.replication and not self.replica_region:
            raise ValueError("replicaRegion is required when replication is true")
        return self


class AlbSettings(ConfigModel):
    """`platform:alb` — the shared load balancers (one per visibility)."""

    # Regional WAFv2 web ACL for the internet-facing ALB (all public services share it).
    waf_acl_arn: str | None = None
