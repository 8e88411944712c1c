"""The stand-ins' Kubernetes objects as plain manifests (schema- and Pod-Security-testable
without Pulumi): PostgreSQL, Valkey and Kafka as single-pod StatefulSets, the Jobs that give
each service its database login and create its topics, and the NetworkPolicies that admit
only the application namespaces.

Every pod meets Pod Security `restricted` with a read-only root filesystem (the house's
hardening, components/hardening.py): numeric non-root users, every capability dropped, the
runtime's seccomp profile, writable paths on emptyDirs or the data volume only.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from components.database.logins import content_hash, login_problems
from components.hardening import WRITABLE_TMP, container_security_context, pod_security_context
from components.local_stores.versions import KAFKA, POSTGRES, VALKEY, StandIn
from components.topics import TopicSpec

__all__ = [
    "DATA_DIR",
    "KAFKA_CLUSTER_ID",
    "KAFKA_CONFIG",
    "KAFKA_CONTROLLER_PORT",
    "KAFKA_PORT",
    "LOGINS_SECRET",
    "POSTGRES_ADMIN_SECRET",
    "POSTGRES_PORT",
    "VALKEY_CONFIG_SECRET",
    "VALKEY_PORT",
    "host",
    "kafka",
    "kafka_config_map",
    "kafka_properties",
    "logins_job",
    "logins_sql",
    "manifests",
    "network_policies",
    "postgres",
    "service",
    "topics_job",
    "valkey",
    "valkey_conf",
]

POSTGRES_PORT = 5432
VALKEY_PORT = 6379
KAFKA_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
# Secrets the component fills (names are what the pods reference).
POSTGRES_ADMIN_SECRET = "postgres-admin"  # key POSTGRES_PASSWORD: the master login
LOGINS_SECRET = "database-logins"  # one key per login: that login's password
VALKEY_CONFIG_SECRET = "valkey-config"  # valkey.conf (holds requirepass)
KAFKA_CONFIG = "kafka-config"
# A fixed KRaft cluster id (base64 of 16 bytes): one laptop broker, formatted once.
KAFKA_CLUSTER_ID = "cGxhdGZvcm0tbG9jYWwtMQ"
DATA_DIR = "/var/lib/data"


def host(name: str, namespace: str) -> str:
    """A stand-in's in-cluster DNS name (what the ConfigMap's *_HOST keys hold)."""
    return f"{name}.{namespace}.svc.cluster.local"


def _labels(app: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "platform-local"}


def _pod_spec(stand_in: StandIn, containers: list[dict], volumes: list[dict]) -> dict:
    return {
        # None of the stand-ins calls the Kubernetes API.
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(stand_in.uid)
        | {"runAsGroup": stand_in.gid, "fsGroup": stand_in.gid},
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}, *volumes],
    }


def _container(stand_in: StandIn, name: str, **spec: Any) -> dict:
    mounts = spec.pop("volumeMounts", [])
    return {
        "name": name,
        "image": stand_in.image,
        "imagePullPolicy": "IfNotPresent",
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": WRITABLE_TMP}, *mounts],
        **spec,
    }


def _stateful_set(
    name: str, namespace: str, pod_spec: dict, storage_class: str, storage_gib: int | None
) -> dict:
    spec: dict[str, Any] = {
        "serviceName": name,
        "replicas": 1,
        "selector": {"matchLabels": _labels(name)},
        "template": {"metadata": {"labels": _labels(name)}, "spec": pod_spec},
    }
    if storage_gib is not None:
        # A laptop stack is disposable: `pulumi destroy` takes the volumes with it (by
        # default a StatefulSet's claims outlive it and a re-created stack finds old data).
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": "Delete",
            "whenScaled": "Retain",
        }
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": storage_class,
                    "resources": {"requests": {"storage": f"{storage_gib}Gi"}},
                },
            }
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
        "spec": spec,
    }


def service(name: str, namespace: str, port: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
        "spec": {
            "selector": _labels(name),
            "ports": [{"name": name, "port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }


def _resources(cpu: str, memory: str, limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": limit}}


def postgres(namespace: str, database: str, storage_class: str, storage_gib: int) -> dict:
    probe = {
        "exec": {"command": ["pg_isready", "-U", "postgres", "-d", database]},
        "periodSeconds": 5,
    }
    container = _container(
        POSTGRES,
        "postgres",
        env=[
            {"name": "POSTGRES_DB", "value": database},
            {
                "name": "POSTGRES_PASSWORD",
                "valueFrom": {
                    "secretKeyRef": {"name": POSTGRES_ADMIN_SECRET, "key": "POSTGRES_PASSWORD"}
                },
            },
            # A subdirectory: initdb refuses a volume's root (lost+found) as its data dir.
            {"name": "PGDATA", "value": f"{DATA_DIR}/pgdata"},
        ],
        ports=[{"name": "postgres", "containerPort": POSTGRES_PORT, "protocol": "TCP"}],
        readinessProbe=probe,
        livenessProbe=probe | {"periodSeconds": 10, "failureThreshold": 6},
        resources=_resources("100m", "256Mi", "512Mi"),
        volumeMounts=[
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "run", "mountPath": "/var/run/postgresql"},  # the Unix socket
        ],
    )
    spec = _pod_spec(POSTGRES, [container], [{"name": "run", "emptyDir": {"sizeLimit": "1Mi"}}])
    return _stateful_set("postgres", namespace, spec, storage_class, storage_gib)


def valkey_conf(password: str) -> str:
    """valkey.conf: a password (ElastiCache's AUTH token), no persistence (a cache)."""
    return "\n".join(
        [f"port {VALKEY_PORT}", f"requirepass {password}", 'save ""', "appendonly no", ""]
    )


def valkey(namespace: str) -> dict:
    probe = {"tcpSocket": {"port": VALKEY_PORT}, "periodSeconds": 5}
    container = _container(
        VALKEY,
        "valkey",
        command=["valkey-server", "/etc/valkey/valkey.conf"],
        ports=[{"name": "valkey", "containerPort": VALKEY_PORT, "protocol": "TCP"}],
        readinessProbe=probe,
        livenessProbe=probe | {"periodSeconds": 10},
        resources=_resources("50m", "64Mi", "256Mi"),
        volumeMounts=[
            {"name": "config", "mountPath": "/etc/valkey", "readOnly": True},
            {"name": "data", "mountPath": "/data"},  # the image's working directory
        ],
    )
    spec = _pod_spec(
        VALKEY,
        [container],
        [
            {"name": "config", "secret": {"secretName": VALKEY_CONFIG_SECRET}},
            {"name": "data", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    )
    return _stateful_set("valkey", namespace, spec, "", None)


def kafka_properties(namespace: str) -> str:
    """One KRaft node, broker and controller; replication 1 for the internal topics."""
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@localhost:{KAFKA_CONTROLLER_PORT}",
            f"listeners=PLAINTEXT://:{KAFKA_PORT},CONTROLLER://:{KAFKA_CONTROLLER_PORT}",
            f"advertised.listeners=PLAINTEXT://{host('kafka', namespace)}:{KAFKA_PORT}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={DATA_DIR}/kafka",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            # Topics exist because the topics Job created them, as on MSK (no auto-create).
            "auto.create.topics.enable=false",
            "",
        ]
    )


def kafka(namespace: str, storage_class: str, storage_gib: int) -> dict:
    config = "/etc/kafka-platform/server.properties"
    start = (
        f"/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t {KAFKA_CLUSTER_ID} "
        f"-c {config} && exec /opt/kafka/bin/kafka-server-start.sh {config}"
    )
    probe = {"tcpSocket": {"port": KAFKA_PORT}, "periodSeconds": 10}
    container = _container(
        KAFKA,
        "kafka",
        # The image's own entrypoint writes its config under /opt/kafka (read-only here):
        # format and start with the mounted config instead.
        command=["/bin/sh", "-c", start],
        env=[
            {"name": "KAFKA_HEAP_OPTS", "value": "-Xms384m -Xmx384m"},
            {"name": "LOG_DIR", "value": f"{WRITABLE_TMP}/logs"},  # log4j's files
        ],
        ports=[{"name": "kafka", "containerPort": KAFKA_PORT, "protocol": "TCP"}],
        readinessProbe=probe,
        livenessProbe=probe | {"initialDelaySeconds": 30, "failureThreshold": 6},
        resources=_resources("200m", "768Mi", "1Gi"),
        volumeMounts=[
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "config", "mountPath": "/etc/kafka-platform", "readOnly": True},
        ],
    )
    spec = _pod_spec(KAFKA, [container], [{"name": "config", "configMap": {"name": KAFKA_CONFIG}}])
    return _stateful_set("kafka", namespace, spec, storage_class, storage_gib)


def kafka_config_map(namespace: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": KAFKA_CONFIG, "namespace": namespace, "labels": _labels("kafka")},
        "data": {"server.properties": kafka_properties(namespace)},
    }


def logins_sql(database: str, logins: Sequence[str]) -> str:
    """Idempotent: each login owning nothing but its tables in its schema of the same name,
    with the grants DatabaseLogins gives on Aurora (components/database/logins.py), and a
    password (from the Secret, as a psql variable) where Aurora has `rds_iam`."""
    for name in (database, *logins):
        if problems := login_problems(name):
            raise ValueError(problems[0])
    lines = ["\\set ON_ERROR_STOP on"]
    for login in sorted(set(logins)):
        ident = f'"{login}"'
        lines += [
            # `login` passed login_problems (lowercase identifier): nothing to inject.
            f"SELECT 'CREATE ROLE {ident} LOGIN' WHERE NOT EXISTS "  # nosec B608
            f"(SELECT FROM pg_catalog.pg_roles WHERE rolname = '{login}') \\gexec",
            f"ALTER ROLE {ident} PASSWORD :'pw_{login}';",
            f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {ident};',
            f"CREATE SCHEMA IF NOT EXISTS {ident};",
            f"GRANT USAGE, CREATE ON SCHEMA {ident} TO {ident};",
            f"ALTER ROLE {ident} SET search_path TO {ident};",
        ]
    return "\n".join(lines) + "\n"


def _job(name: str, namespace: str, stand_in: StandIn, container: dict) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
        "spec": {
            # Retries cover a stand-in that is still starting.
            "backoffLimit": 10,
            "activeDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": _labels(name)},
                "spec": _pod_spec(stand_in, [container], []) | {"restartPolicy": "Never"},
            },
        },
    }


def logins_job(namespace: str, database: str, logins: Sequence[str]) -> dict:
    """Creates each service's login; its name changes with the logins (a re-run)."""
    sql = logins_sql(database, logins)
    variables = " ".join(f'-v pw_{login}="$PW_{login.upper()}"' for login in logins)
    server = f"-h {host('postgres', namespace)} -U postgres -d {database}"
    script = f"exec psql {server} {variables} <<'SQL'\n{sql}SQL\n"
    secret_env = [
        {
            "name": f"PW_{login.upper()}",
            "valueFrom": {"secretKeyRef": {"name": LOGINS_SECRET, "key": login}},
        }
        for login in logins
    ]
    admin = {"secretKeyRef": {"name": POSTGRES_ADMIN_SECRET, "key": "POSTGRES_PASSWORD"}}
    container = _container(
        POSTGRES,
        "create-logins",
        command=["/bin/sh", "-c", script],
        env=[{"name": "PGPASSWORD", "valueFrom": admin}, *secret_env],
        resources=_resources("50m", "64Mi", "128Mi"),
    )
    return _job(f"database-logins-{content_hash(script)}", namespace, POSTGRES, container)


def topics_job(namespace: str, topics: Sequence[TopicSpec]) -> dict:
    """Creates the services' topics (partitions, retention) on the one broker."""
    bootstrap = f"{host('kafka', namespace)}:{KAFKA_PORT}"
    commands = [
        " ".join(
            [
                "/opt/kafka/bin/kafka-topics.sh --create --if-not-exists",
                f"--bootstrap-server {bootstrap} --topic {shlex.quote(topic.name)}",
                f"--partitions {topic.partitions} --replication-factor 1",
                f"--config retention.ms={topic.retention_hours * 3600 * 1000}",
            ]
        )
        for topic in topics
    ]
    script = " && ".join(commands) or "true"
    container = _container(
        KAFKA,
        "create-topics",
        command=["/bin/sh", "-c", script],
        env=[
            {"name": "KAFKA_HEAP_OPTS", "value": "-Xmx128m"},
            {"name": "LOG_DIR", "value": f"{WRITABLE_TMP}/logs"},
        ],
        resources=_resources("50m", "192Mi", "256Mi"),
    )
    return _job(f"kafka-topics-{content_hash(script)}", namespace, KAFKA, container)


def network_policies(namespace: str, clients: Sequence[str]) -> dict[str, dict]:
    """Ingress to the stand-ins only from the application namespaces (and the Jobs beside
    them); everything else in the namespace is denied."""
    apps = [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}} for n in clients
    ]
    here = [{"podSelector": {}}]

    def allow(app: str, port: int, sources: list[dict]) -> dict:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": f"{app}-clients", "namespace": namespace},
            "spec": {
                "podSelector": {"matchLabels": _labels(app)},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": sources, "ports": [{"protocol": "TCP", "port": port}]}],
            },
        }

    return {
        "netpol-default-deny": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny-ingress", "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
        "netpol-postgres": allow("postgres", POSTGRES_PORT, apps + here),
        "netpol-valkey": allow("valkey", VALKEY_PORT, apps),
        "netpol-kafka": allow("kafka", KAFKA_PORT, apps + here),
    }


def manifests(
    namespace: str,
    clients: Sequence[str],
    database: str,
    storage_class: str,
    storage_gib: Mapping[str, int],
) -> dict[str, dict]:
    """The stand-ins themselves (the Jobs and Secrets come with their inputs)."""
    return {
        "kafka-config": kafka_config_map(namespace),
        **network_policies(namespace, clients),
        "postgres": postgres(namespace, database, storage_class, storage_gib["database"]),
        "postgres-service": service("postgres", namespace, POSTGRES_PORT),
        "valkey": valkey(namespace),
        "valkey-service": service("valkey", namespace, VALKEY_PORT),
        "kafka": kafka(namespace, storage_class, storage_gib["kafka"]),
        "kafka-service": service("kafka", namespace, KAFKA_PORT),
    }
