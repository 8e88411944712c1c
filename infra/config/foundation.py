"""Config of the foundation: `platform:network`, `platform:keys`, `platform:storage` and
`platform:alb` (wired by `infra/wiring/foundation.py`)."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from components import storage as storage_rules
from components.cidr import MAX_AZS, parse_vpc_cidr
from components.encryption import DELETION_WINDOW_DAYS
from components.network import CLUSTER_NAT_MODES, MIN_AZS
from infra.config.fields import ConfigModel, RetentionDays, component_default


class NetworkSettings(ConfigModel):
    """`platform:network`."""

    cidr: str
    az_count: int = Field(ge=MIN_AZS, le=MAX_AZS)
    nat_gateways: Literal[CLUSTER_NAT_MODES]  # type: ignore[valid-type]
    interface_endpoints: bool
    flow_log_retention_days: RetentionDays
    # The replica region's recovery site (where the DR drill restores backup copies): its VPC
    # range, required with database.crossRegionBackup; apart from `cidr`, so the two could be
    # peered one day.
    recovery_cidr: str | None = None

    @field_validator("cidr", "recovery_cidr")
    @classmethod
    def _cidr(cls, value: str | None) -> str | None:
        if value is not None:
            parse_vpc_cidr(value)
        return value

    @model_validator(mode="after")
    def _ranges_apart(self) -> NetworkSettings:
        if self.recovery_cidr is not None and ip_network(self.recovery_cidr).overlaps(
            ip_network(self.cidr)
        ):
            raise ValueError(
                f"recoveryCidr: {self.recovery_cidr} overlaps cidr {self.cidr}; choose a range "
                "apart from the stack's VPC"
            )
        return self


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
