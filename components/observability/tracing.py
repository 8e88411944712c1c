"""Traces: applications send OTLP to an OpenTelemetry collector, which forwards to Jaeger v2.

Applications only know the collector (`collector_endpoint`), so the backend can change
without touching them. Jaeger keeps traces in memory (basic: lost on restart, one replica)
or in the logging Elasticsearch under `jaeger-*` daily indices, deleted after
`trace_retention_days` by the chart's index-cleaner CronJob.

Jaeger's chart takes its whole configuration from `userconfig` (an OpenTelemetry collector
config, not merged with anything); the chart does not roll the pod when it changes, so a
hash of it goes into a pod label.
"""

from __future__ import annotations

import hashlib
import json

import components.observability.logging as logging
from components.hardening import container_security_context, pod_security_context
from components.observability.args import ObservabilityArgs
from components.observability.pods import scheduling, zone_spread
from components.observability.versions import (
    JAEGER,
    OTEL_COLLECTOR,
    OTEL_COLLECTOR_COMMAND,
    OTEL_COLLECTOR_IMAGE,
)

__all__ = [
    "ALL_INTERFACES",
    "COLLECTOR_RELEASE",
    "ES_CA_DIR",
    "JAEGER_RELEASE",
    "JAEGER_UID",
    "JAEGER_UI_PORT",
    "TRACE_INDEX_PREFIX",
    "collector_endpoint",
    "collector_values",
    "jaeger_config",
    "jaeger_values",
]


JAEGER_RELEASE = JAEGER.name  # the chart's fullname is the release name when it says jaeger
JAEGER_UI_PORT = 16686
COLLECTOR_RELEASE = OTEL_COLLECTOR.name
JAEGER_UID = 10001  # the image's user
ES_CA_DIR = "/etc/jaeger/es-ca"
TRACE_INDEX_PREFIX = "jaeger"
# Jaeger's receivers and health check must listen beyond localhost (the pod's own network
# namespace; the Service and NetworkPolicy decide who reaches it).
ALL_INTERFACES = "0.0.0.0"  # nosec B104


def collector_endpoint(args: ObservabilityArgs) -> str:
    """Where applications send OTLP over HTTP (OTEL_EXPORTER_OTLP_ENDPOINT)."""
    return f"http://{COLLECTOR_RELEASE}.{args.namespaces.monitoring}.svc:4318"


def _storage_backend(args: ObservabilityArgs) -> dict:
    if args.shape.trace_store == "memory":
        return {"memory": {"max_traces": 50000}}
    user, _ = logging.USERS["jaeger"]
    replicas = 1 if args.shape.elasticsearch_nodes > 1 else 0
    return {
        "elasticsearch": {
            "server_urls": [logging.es_url(args)],
            "auth": {"basic": {"username": user, "password": "${env:ES_PASSWORD}"}},
            "tls": {"ca_file": f"{ES_CA_DIR}/ca.crt"},
            "indices": {
                "index_prefix": TRACE_INDEX_PREFIX,
                "spans": {"shards": 1, "replicas": replicas},
                "services": {"shards": 1, "replicas": replicas},
            },
        }
    }


def jaeger_config(args: ObservabilityArgs) -> dict:
    """Jaeger v2's complete configuration: OTLP in, the chosen store, the query UI."""
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["batch"],
                    "exporters": ["jaeger_storage_exporter"],
                }
            },
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                "metrics": {
                    "level": "detailed",
                    # Inside the pod: Prometheus scrapes it through the pod IP.
                    "readers": [
                        {
                            "pull": {
                                "exporter": {"prometheus": {"host": ALL_INTERFACES, "port": 8888}}
                            }
                        }
                    ],
                },
            },
        },
        "extensions": {
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": f"{ALL_INTERFACES}:13133"}},
            "jaeger_query": {"storage": {"traces": "primary_store"}},
            "jaeger_storage": {"backends": {"primary_store": _storage_backend(args)}},
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"{ALL_INTERFACES}:4317"},
                    "http": {"endpoint": f"{ALL_INTERFACES}:4318"},
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "primary_store"}},
    }


def jaeger_values(args: ObservabilityArgs) -> dict:
    config = jaeger_config(args)
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    replicas = args.shape.jaeger_replicas
    labels = {"app.kubernetes.io/component": "all-in-one"}
    jaeger: dict = {
        "replicas": replicas,
        "podLabels": {"config-hash": digest},
        "podSecurityContext": pod_security_context(uid=JAEGER_UID),
        "securityContext": container_security_context(),
        "serviceAccount": {"automountServiceAccountToken": False},
        "resources": {"requests": {"cpu": "50m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
        "topologySpreadConstraints": zone_spread(labels, strict=False) if replicas > 1 else [],
        **scheduling(args.placement),
    }
    if replicas > 1:
        # The chart's default is Recreate: every config change would stop all replicas.
        jaeger["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}
    values: dict = {"userconfig": config, "jaeger": jaeger}
    if args.shape.trace_store == "elasticsearch":
        secret = "jaeger-elasticsearch"
        password = {
            "name": "ES_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}},
        }
        jaeger["extraEnv"] = [password]
        jaeger["extraVolumes"] = [
            {"name": "es-ca", "secret": {"secretName": logging.PUBLIC_CA_SECRET}}
        ]
        jaeger["extraVolumeMounts"] = [{"name": "es-ca", "mountPath": ES_CA_DIR, "readOnly": True}]
        user, _ = logging.USERS["jaeger"]
        values["storage"] = {
            "type": "elasticsearch",
            "elasticsearch": {"url": logging.es_url(args)},
        }
        values["esIndexCleaner"] = {
            "enabled": True,
            "numberOfDays": args.trace_retention_days,
            "cmdlineParams": {
                "index-prefix": TRACE_INDEX_PREFIX,
                "es.tls.enabled": "true",
                "es.tls.ca": "/es-ca/ca.crt",
            },
            "extraSecretMounts": [
                {
                    "name": "es-ca",
                    "secretName": logging.PUBLIC_CA_SECRET,
                    "mountPath": "/es-ca",
                    "subPath": "",
                    "readOnly": True,
                }
            ],
            "extraEnv": [{"name": "ES_USERNAME", "value": user}, password],
            "podSecurityContext": pod_security_context(),
            "securityContext": container_security_context(),
            "resources": {
                "requests": {"cpu": "10m", "memory": "64Mi"},
                "limits": {"memory": "256Mi"},
            },
            **scheduling(args.placement),
        }
    return values


def collector_values(args: ObservabilityArgs) -> dict:
    replicas = args.shape.collector_replicas
    pod_ip = "${env:MY_POD_IP}"
    return {
        "mode": "deployment",
        "replicaCount": replicas,
        "image": dict(OTEL_COLLECTOR_IMAGE),
        "command": {"name": OTEL_COLLECTOR_COMMAND},
        # A complete config, not merged with the chart's (which adds Jaeger/Zipkin receivers).
        "alternateConfig": {
            "extensions": {"health_check": {"endpoint": f"{pod_ip}:13133"}},
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"{pod_ip}:4317"},
                        "http": {"endpoint": f"{pod_ip}:4318"},
                    }
                }
            },
            "processors": {
                "memory_limiter": {
                    "check_interval": "5s",
                    "limit_percentage": 80,
                    "spike_limit_percentage": 25,
                },
                "batch": {},
            },
            "exporters": {
                # Inside the monitoring namespace, to Jaeger's OTLP receiver.
                "otlp_grpc/jaeger": {
                    "endpoint": f"{JAEGER_RELEASE}.{args.namespaces.monitoring}.svc:4317",
                    "tls": {"insecure": True},
                }
            },
            "service": {
                "extensions": ["health_check"],
                "telemetry": {
                    "metrics": {
                        "readers": [
                            {"pull": {"exporter": {"prometheus": {"host": pod_ip, "port": 8888}}}}
                        ]
                    }
                },
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "processors": ["memory_limiter", "batch"],
                        "exporters": ["otlp_grpc/jaeger"],
                    }
                },
            },
        },
        "presets": {"kubernetesAttributes": {"enabled": True}},
        "ports": {
            "jaeger-compact": {"enabled": False},
            "jaeger-thrift": {"enabled": False},
            "jaeger-grpc": {"enabled": False},
            "zipkin": {"enabled": False},
            "metrics": {"enabled": True},
        },
        "serviceMonitor": {"enabled": True},
        "podDisruptionBudget": {"enabled": replicas > 1, "maxUnavailable": 1},
        "podSecurityContext": pod_security_context(uid=JAEGER_UID),
        "securityContext": container_security_context(),
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        **scheduling(args.placement),
    }
