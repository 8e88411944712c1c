"""Per-environment defaults ("profiles"). Stack YAML overrides any of these keys.

Keys are spelled exactly as in `Pulumi.<stack>.yaml` (camelCase, under `platform:`), so a
profile reads like the config it stands in for. Versions are the components' pinned
constants, never retyped here: an upgrade edits the versions module alone. dev is cheap and
disposable; uat mirrors prod's shape at smaller size; prod is multi-AZ, protected and
replicated. prod's safety values are also floors its config cannot go below (`floors.py`
reads them from here).
"""

from __future__ import annotations

from typing import Any

from components import cache as cache_rules
from components import streaming as streaming_rules
from components.cluster.versions import KUBERNETES_VERSION
from components.database import args as database_rules
from components.local_stores import versions as local_versions
from infra.config.fields import component_default

# The cloud environments (each an AWS account's stack with its sizing and safety).
ENVIRONMENTS = ("dev", "uat", "prod")
# The laptop cluster (kind, minikube, k3d, Docker Desktop): the in-cluster layer only, with
# in-cluster stand-ins for the data stores and no AWS at all (infra/config/local.py).
LOCAL_ENVIRONMENT = "local"
PROFILE_NAMES = (*ENVIRONMENTS, LOCAL_ENVIRONMENT)

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
        "cluster": {
            "version": KUBERNETES_VERSION,
            # On in dev/uat for developers' kubectl; the stack YAML must name the CIDRs.
            "endpointPublicAccess": True,
            "logRetentionDays": 14,
            "namespaces": ["apps"],
            # One shared spot group: controllers, the basic monitoring stack and the services
            # fit on two 4 GiB nodes (docs/sizing.md has the arithmetic and the trade-off).
            "controllerReplicas": 1,
            # dev keeps two fixed spot nodes: its load is a developer's, a node autoscaler
            # (Karpenter's controller alone wants ~0.5 GiB) would cost more than it saves.
            "nodeAutoscaler": "none",
            "nodePools": {},
            "nodeGroups": {
                "general": {
                    # Same size (2 vCPU, 4 GiB), several families, so spot capacity is found.
                    "instanceTypes": ["t3a.medium", "t3.medium", "c5a.large", "c6a.large"],
                    "capacityType": "SPOT",
                    "minSize": 2,
                    "maxSize": 4,
                    "desiredSize": 2,
                    "diskSizeGib": 20,
                    "labels": {"role": "general"},
                },
            },
        },
        "database": {
            "engineVersion": database_rules.DEFAULT_ENGINE_VERSION,
            "mode": "serverless",
            "minCapacity": 0,  # scales to zero and pauses when idle
            "maxCapacity": 2,
            "secondsUntilAutoPause": 600,
            "backupRetentionDays": 1,
            "skipFinalSnapshot": True,
            "monitoringInterval": 60,
            "logRetentionDays": 14,
        },
        "cache": {
            "engineVersion": cache_rules.DEFAULT_ENGINE_VERSION,
            "nodeType": "cache.t4g.micro",
            "numCacheClusters": 1,
            "multiAz": False,
            "snapshotRetentionDays": 1,
            "logRetentionDays": 14,
            "finalSnapshot": False,  # disposable
        },
        "streaming": {
            "kafkaVersion": streaming_rules.DEFAULT_KAFKA_VERSION,
            "zoneCount": 2,
            "brokerCount": 2,
            "brokerInstanceType": "kafka.t3.small",
            "volumeSizeGib": 10,
            "maxVolumeSizeGib": 100,
            "logRetentionDays": 14,
            "enhancedMonitoring": "DEFAULT",
        },
        "app": {
            "replicas": 2,
            "autoscaling": False,
            "deployBranches": ["*"],
            # A single-AZ spot group must still schedule: spread, but never refuse to.
            "zoneSpreadStrict": False,
        },
        "observability": {
            "level": "basic",
            # ~10k series (two nodes, a few services) is ~100 MB/day: 3 days in 10 GiB.
            "prometheusRetention": "3d",
            "prometheusStorageGib": 10,
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
        "cluster": {
            "version": KUBERNETES_VERSION,
            "endpointPublicAccess": True,
            "logRetentionDays": 30,
            "namespaces": ["apps"],
            "controllerReplicas": 2,
            "nodeGroups": {
                "system": {
                    "instanceTypes": ["t3.medium"],
                    "capacityType": "ON_DEMAND",
                    "minSize": 2,
                    "maxSize": 3,
                    "desiredSize": 2,
                    "labels": {"role": "system"},
                },
            },
            # Karpenter replaces the former workload node group (2..6 x 2 vCPU / 8 GiB spot):
            # the same families, spot first with on-demand fallback, at most 12 vCPUs.
            "nodeAutoscaler": "karpenter",
            "karpenterNodeGroup": "system",
            "nodePools": {
                "workload": {
                    "instanceFamilies": ["t3", "t3a", "m5", "m6i"],
                    "instanceSizes": ["large"],
                    "capacityTypes": ["spot", "on-demand"],
                    "cpuLimit": 12,
                    "memoryLimitGib": 48,
                    "consolidateAfter": "5m",
                    "disruptionBudget": "1",
                    "expireAfter": "720h",
                    "labels": {"role": "workload"},
                },
            },
        },
        "database": {
            "engineVersion": database_rules.DEFAULT_ENGINE_VERSION,
            "mode": "serverless",
            "minCapacity": 0.5,
            "maxCapacity": 4,
            "backupRetentionDays": 7,
            "monitoringInterval": 60,
            "logRetentionDays": 30,
        },
        "cache": {
            "engineVersion": cache_rules.DEFAULT_ENGINE_VERSION,
            "nodeType": "cache.t4g.small",
            "numCacheClusters": 2,
            "multiAz": True,
            "snapshotRetentionDays": 3,
            "logRetentionDays": 30,
            "finalSnapshot": True,
        },
        "streaming": {
            "kafkaVersion": streaming_rules.DEFAULT_KAFKA_VERSION,
            "zoneCount": 2,
            "brokerCount": 2,
            "brokerInstanceType": "kafka.t3.small",
            "volumeSizeGib": 20,
            "maxVolumeSizeGib": 200,
            "logRetentionDays": 30,
            "enhancedMonitoring": "DEFAULT",
        },
        "app": {
            "replicas": 2,
            "autoscaling": True,
            "deployBranches": ["*"],
            "zoneSpreadStrict": False,
        },
        "observability": {
            "level": "enhanced",
            "prometheusRetention": "15d",
            "prometheusStorageGib": 20,
            "elasticsearchStorageGib": 30,
            "logRetentionDays": 7,
            "traceRetentionDays": 3,
        },
    },
    "prod": {
        **_COMMON,
        "protect": True,
        "network": {
            "cidr": "10.30.0.0/16",
            # The replica region's recovery site (backup copies are restored there).
            "recoveryCidr": "10.130.0.0/16",
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
        "cluster": {
            "version": KUBERNETES_VERSION,
            "endpointPublicAccess": False,
            "logRetentionDays": 90,
            "namespaces": ["apps"],
            "controllerReplicas": 2,
            "nodeGroups": {
                "system": {
                    "instanceTypes": ["m6i.large"],
                    "capacityType": "ON_DEMAND",
                    "minSize": 3,
                    "maxSize": 4,
                    "desiredSize": 3,
                    "labels": {"role": "system"},
                },
                # The full observability stack on its own tainted nodes: two Prometheus
                # (3 GiB each), three Elasticsearch (4 GiB), Alertmanager, Grafana, Jaeger,
                # Kibana; one node per zone, so a zone loss keeps a replica of each.
                "monitoring": {
                    "instanceTypes": ["r6i.large"],
                    "capacityType": "ON_DEMAND",
                    "minSize": 3,
                    "maxSize": 3,
                    "desiredSize": 3,
                    "maxUnavailable": 1,
                    "labels": {"role": "monitoring"},
                    "taints": [
                        {"key": "dedicated", "value": "monitoring", "effect": "NO_SCHEDULE"}
                    ],
                },
            },
            # Karpenter replaces the former workload node group (3..9 x m6i.large): on-demand
            # only (a floor), 2-vCPU and 4-vCPU general-purpose types of three generations, at
            # most 36 vCPUs / 144 GiB; one node at a time, nodes renewed every 30 days.
            "nodeAutoscaler": "karpenter",
            "karpenterNodeGroup": "system",
            "nodePools": {
                "workload": {
                    "instanceFamilies": ["m6i", "m6a", "m7i"],
                    "instanceSizes": ["large", "xlarge"],
                    "capacityTypes": ["on-demand"],
                    "cpuLimit": 36,
                    "memoryLimitGib": 144,
                    "consolidateAfter": "10m",
                    "disruptionBudget": "1",
                    "expireAfter": "720h",
                    "labels": {"role": "workload"},
                },
            },
        },
        "database": {
            "engineVersion": database_rules.DEFAULT_ENGINE_VERSION,
            "mode": "provisioned",
            "instanceClass": "db.r7g.large",
            "readerCount": 1,
            "backupRetentionDays": 30,
            "monitoringInterval": 15,
            "logRetentionDays": 90,
            "crossRegionBackup": True,
            # Connection pooling for the HPA-scaled services (about $44/month for 4 vCPUs).
            "proxy": True,
        },
        "cache": {
            "engineVersion": cache_rules.DEFAULT_ENGINE_VERSION,
            # Small working set; move to cache.m7g.large if CPU credits run low.
            "nodeType": "cache.t4g.medium",
            "numCacheClusters": 2,
            "multiAz": True,
            "snapshotRetentionDays": 7,
            "logRetentionDays": 90,
            "finalSnapshot": True,
        },
        "streaming": {
            "kafkaVersion": streaming_rules.DEFAULT_KAFKA_VERSION,
            "zoneCount": 3,
            "brokerCount": 3,
            "brokerInstanceType": "kafka.m7g.large",
            "volumeSizeGib": 100,
            "maxVolumeSizeGib": 1000,
            "logRetentionDays": 90,
            "enhancedMonitoring": "PER_BROKER",
        },
        "app": {
            "replicas": 3,
            "autoscaling": True,
            "deployBranches": ["main"],
            # Losing a zone never takes every replica: pods refuse to pile into one zone.
            "zoneSpreadStrict": True,
        },
        "observability": {
            "level": "full",
            # ~150k series is ~0.7 GB/day: 30 days is ~20 GB; the TSDB stops at 80 % of 50.
            "prometheusRetention": "30d",
            "prometheusStorageGib": 50,
            # Logs ~2 GB/day with one replica: 30 days is ~120 GB across three nodes.
            "elasticsearchStorageGib": 100,
            "logRetentionDays": 30,
            "traceRetentionDays": 7,
            "nodeGroup": "monitoring",
        },
    },
}

# The in-cluster layer on a laptop cluster: dev's app and observability shape, and the data
# stores as single in-cluster pods (components/local_stores). No AWS section exists here: the
# local stack creates no VPC, EKS, Aurora, ElastiCache, MSK, S3, KMS or IAM (docs/local.md).
PROFILES[LOCAL_ENVIRONMENT] = {
    **_COMMON,
    "local": {
        # `kind create cluster --name platform` names its context kind-platform; minikube's
        # is `minikube` (docs/local.md).
        "context": "kind-platform",
        # The minor the objects are checked against (kind's node image is pinned to it).
        "kubernetesVersion": KUBERNETES_VERSION,
        "namespaces": ["apps"],
        # kind's and minikube's default StorageClass (a hostPath provisioner).
        "storageClass": "standard",
        # Where the API server and the nodes sit (kind's Docker network): the sources the
        # service pods admit besides their namespace (the API server's service proxy).
        "nodeCidrs": ["172.18.0.0/16"],
    },
    "stores": {
        # The same database name as Aurora's, so DB_NAME is the same key and value.
        "databaseName": component_default(database_rules.DatabaseArgs, "database_name"),
        "databaseStorageGib": local_versions.DEFAULT_STORAGE_GIB,
        "kafkaStorageGib": local_versions.DEFAULT_STORAGE_GIB,
    },
    "app": dict(PROFILES["dev"]["app"]),
    "observability": {
        "level": "basic",
        # A laptop's disk: a day of a few services' series is well under 1 GiB.
        "prometheusRetention": "1d",
        "prometheusStorageGib": 5,
    },
}
