"""Per-environment defaults ("profiles"). Stack YAML overrides any of these keys.

Keys are spelled exactly as in `Pulumi.<stack>.yaml` (camelCase, under `platform:`), so a
profile reads like the config it stands in for. dev is cheap and disposable; uat mirrors
prod's shape at smaller size; prod is multi-AZ, protected and replicated.
"""

from __future__ import annotations

from typing import Any

ENVIRONMENTS = ("dev", "uat", "prod")

# Fewest availability zones each environment may run in.
MIN_AZS = {"dev": 2, "uat": 2, "prod": 3}

_COMMON: dict[str, Any] = {
    "owner": "platform-team",
    "costCenter": "platform",
}

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {
        **_COMMON,
        "protect": False,
        "network": {
            "cidr": "10.10.0.0/16",
            "azCount": 2,
            "natGateways": "single",
            # Interface endpoints cost ~$7/month per AZ each; dev pulls images via NAT.
            "interfaceEndpoints": False,
            "flowLogRetentionDays": 14,
        },
        "keys": {"deletionWindowDays": 7},
        "storage": {
            "replication": False,
            "noncurrentVersionExpiryDays": 7,
            "infrequentAccessAfterDays": 30,
            "accessLogExpiryDays": 30,
            "forceDestroy": True,
        },
        "app": {
            "replicas": 2,
            "autoscaling": False,
            "monitoring": "basic",
            "deployBranches": ["*"],
        },
    },
    "uat": {
        **_COMMON,
        "protect": False,
        "network": {
            "cidr": "10.20.0.0/16",
            "azCount": 2,
            "natGateways": "single",
            "interfaceEndpoints": True,
            "flowLogRetentionDays": 30,
        },
        "keys": {"deletionWindowDays": 30},
        "storage": {
            "replication": False,
            "noncurrentVersionExpiryDays": 30,
            "infrequentAccessAfterDays": 30,
            "accessLogExpiryDays": 90,
        },
        "app": {
            "replicas": 2,
            "autoscaling": True,
            "monitoring": "enhanced",
            "deployBranches": ["*"],
        },
    },
    "prod": {
        **_COMMON,
        "protect": True,
        "network": {
            "cidr": "10.30.0.0/16",
            "azCount": 3,
            "natGateways": "perAz",
            "interfaceEndpoints": True,
            "flowLogRetentionDays": 365,
        },
        "keys": {"deletionWindowDays": 30},
        "storage": {
            "replication": True,
            "replicaRegion": "eu-central-1",
            "noncurrentVersionExpiryDays": 90,
            "infrequentAccessAfterDays": 30,
            "accessLogExpiryDays": 365,
        },
        "app": {
            "replicas": 3,
            "autoscaling": True,
            "monitoring": "full",
            "deployBranches": ["main"],
        },
    },
}
