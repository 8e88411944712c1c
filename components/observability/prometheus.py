"""Values of kube-prometheus-stack: Prometheus, Alertmanager, Grafana and their exporters.

Every key below exists in the chart (or its grafana / kube-state-metrics / node-exporter
subcharts) at the pinned version; tests/components/test_observability_values.py checks
them against the chart's own values.yaml.

Choices that are not the chart's defaults, and why:
* Prometheus selects every ServiceMonitor, PodMonitor and PrometheusRule in the cluster
  (`*SelectorNilUsesHelmValues: false`), not only the release's, so the services' PodMonitors
  and the platform's rules need no Helm label.
* EKS runs etcd, the scheduler and the controller manager out of reach (no endpoints) and
  kube-proxy's metrics bind to localhost: their scrapers are off, and with them their
  for-ever-firing "down" alerts.
* node-exporter needs the host (hostNetwork, hostPID, hostPath), which `restricted` and
  `baseline` forbid: it runs in the privileged agents namespace, everything else stays
  `restricted`.
* Grafana is stateless (dashboards and data sources are provisioned, the admin password comes
  from a Secret): no volume, no root init container, and replicas are interchangeable.
"""

from __future__ import annotations

import components.observability.alertmanager as alertmanager
from components.hardening import (
    WRITABLE_TMP,
    container_security_context,
    pod_security_context,
)
from components.observability.args import ObservabilityArgs
from components.observability.pods import TOLERATE_EVERYTHING, ZONE_KEY, scheduling, zone_spread
from components.observability.versions import KUBE_PROMETHEUS_STACK

__all__ = [
    "ALERTMANAGER_SERVICE",
    "ALERTMANAGER_STORAGE_GIB",
    "DASHBOARD_FOLDER_ANNOTATION",
    "DASHBOARD_LABEL",
    "DATASOURCE_UID",
    "GRAFANA_ADMIN_SECRET",
    "GRAFANA_PORT",
    "GRAFANA_SERVICE",
    "PROMETHEUS_PORT",
    "PROMETHEUS_SERVICE",
    "RELEASE",
    "SCRAPE_INTERVAL",
    "alertmanager_values",
    "grafana_values",
    "prometheus_url",
    "prometheus_values",
    "values",
]


RELEASE = KUBE_PROMETHEUS_STACK.name  # also the chart's fullname prefix
PROMETHEUS_SERVICE = f"{RELEASE}-prometheus"
PROMETHEUS_PORT = 9090
ALERTMANAGER_SERVICE = f"{RELEASE}-alertmanager"
GRAFANA_SERVICE = f"{RELEASE}-grafana"
GRAFANA_PORT = 80
GRAFANA_ADMIN_SECRET = "grafana-admin"
# The Grafana sidecar loads every ConfigMap with this label, in any namespace (KPS defaults).
DASHBOARD_LABEL = ("grafana_dashboard", "1")
DASHBOARD_FOLDER_ANNOTATION = "grafana_folder"
DATASOURCE_UID = "prometheus"  # the uid KPS gives the Prometheus data source
ALERTMANAGER_STORAGE_GIB = 1  # silences and the notification log survive restarts
SCRAPE_INTERVAL = "30s"
_SELECTORS = ("serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig")


def prometheus_url(namespace: str) -> str:
    """The in-cluster address of Prometheus (the release tool's default)."""
    return f"http://{PROMETHEUS_SERVICE}.{namespace}.svc:{PROMETHEUS_PORT}"


def _volume(storage_class: str, gib: int) -> dict:
    return {
        "volumeClaimTemplate": {
            "spec": {
                "storageClassName": storage_class,
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": f"{gib}Gi"}},
            }
        }
    }


def _anti_affinity(args: ObservabilityArgs) -> dict:
    """Replicas in different zones (full), else the chart's soft spread over nodes."""
    if args.shape.zone_anti_affinity:
        return {"podAntiAffinity": "hard", "podAntiAffinityTopologyKey": ZONE_KEY}
    return {"podAntiAffinity": "soft"}


def _pdb(replicas: int) -> dict:
    return {"enabled": replicas > 1, "minAvailable": 1}


def prometheus_values(args: ObservabilityArgs) -> dict:
    shape = args.shape
    spec = {
        "replicas": shape.prometheus_replicas,
        "retention": args.prometheus_retention,
        "retentionSize": args.prometheus_retention_size(),
        "storageSpec": _volume(args.storage_class, args.prometheus_storage_gib),
        "resources": shape.prometheus.values(),
        "externalLabels": {"cluster": args.cluster_name},
        "scrapeInterval": SCRAPE_INTERVAL,
        "evaluationInterval": SCRAPE_INTERVAL,
        **{f"{kind}SelectorNilUsesHelmValues": False for kind in _SELECTORS},
        **_anti_affinity(args),
        **scheduling(args.placement),
    }
    return {"prometheusSpec": spec, "podDisruptionBudget": _pdb(shape.prometheus_replicas)}


def alertmanager_values(args: ObservabilityArgs) -> dict:
    replicas = args.shape.alertmanager_replicas
    spec = {
        "replicas": replicas,
        "storage": _volume(args.storage_class, ALERTMANAGER_STORAGE_GIB),
        "secrets": [alertmanager.SLACK_SECRET] if args.alerting else [],
        "resources": {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        **_anti_affinity(args),
        **scheduling(args.placement),
    }
    return {
        "alertmanagerSpec": spec,
        "config": alertmanager.config(args.alerting),
        "podDisruptionBudget": _pdb(replicas),
    }


def grafana_values(args: ObservabilityArgs) -> dict:
    replicas = args.shape.grafana_replicas
    labels = {"app.kubernetes.io/name": "grafana"}
    ini: dict = {
        "analytics": {"check_for_updates": False, "reporting_enabled": False},
        "users": {"allow_sign_up": False},
        "auth.anonymous": {"enabled": False},
    }
    if args.ui is not None:
        ini["server"] = {"root_url": f"https://grafana.{args.ui.domain}"}
        ini["security"] = {"cookie_secure": True}
    return {
        "replicas": replicas,
        "admin": {
            "existingSecret": GRAFANA_ADMIN_SECRET,
            "userKey": "admin-user",
            "passwordKey": "admin-password",
        },
        "persistence": {"enabled": False},
        "initChownData": {"enabled": False},
        "testFramework": {"enabled": False},
        "grafana.ini": ini,
        "securityContext": pod_security_context(uid=472),  # the image's grafana user
        "containerSecurityContext": container_security_context(),
        # Read-only root: Grafana still writes temporary files.
        "extraEmptyDirMounts": [{"name": "tmp", "mountPath": WRITABLE_TMP}],
        "resources": {"requests": {"cpu": "50m", "memory": "192Mi"}, "limits": {"memory": "512Mi"}},
        "sidecar": {
            "resources": {
                "requests": {"cpu": "10m", "memory": "64Mi"},
                "limits": {"memory": "128Mi"},
            },
            "dashboards": {
                "folderAnnotation": DASHBOARD_FOLDER_ANNOTATION,
                "provider": {"foldersFromFilesStructure": True},
            },
        },
        "podDisruptionBudget": {"maxUnavailable": 1} if replicas > 1 else {},
        "topologySpreadConstraints": zone_spread(labels, strict=False) if replicas > 1 else [],
        **scheduling(args.placement),
    }


def values(args: ObservabilityArgs) -> dict:
    """The whole release's values."""
    small = {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
    return {
        "crds": {"enabled": True},
        "defaultRules": {"create": True, "rules": {"windows": False}},
        "kubeEtcd": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "prometheus": prometheus_values(args),
        "alertmanager": alertmanager_values(args),
        "grafana": grafana_values(args),
        "prometheusOperator": {
            "resources": {
                "requests": {"cpu": "50m", "memory": "128Mi"},
                "limits": {"memory": "512Mi"},
            },
            "admissionWebhooks": {"patch": scheduling(args.placement)},
            **scheduling(args.placement),
        },
        "kube-state-metrics": {
            "resources": {
                "requests": {"cpu": "20m", "memory": "96Mi"},
                "limits": {"memory": "384Mi"},
            },
            **scheduling(args.placement),
        },
        "prometheus-node-exporter": {
            "namespaceOverride": args.namespaces.agents,
            "tolerations": TOLERATE_EVERYTHING,
            "resources": small,
            "securityContext": pod_security_context(),
            "containerSecurityContext": container_security_context(),
        },
    }
