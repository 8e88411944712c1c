"""`LocalDataStores`: in-cluster stand-ins for Aurora, ElastiCache and MSK on a laptop
cluster (kind, minikube), and per service the connection ConfigMap with the key names
`ApplicationAccess` writes on AWS plus a Secret with its passwords.

What differs from AWS, by design (docs/local.md): one pod per store, no TLS (the ConfigMap
says so: `DB_SSLMODE=disable`, `CACHE_TLS=false`, `KAFKA_SECURITY_PROTOCOL=PLAINTEXT`),
passwords where AWS uses IAM (`DB_AUTH=password`; the passwords are in Secrets, never in the
ConfigMap), no Kafka ACLs (the NetworkPolicies admit the application namespaces only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

import components.local_stores.manifests as m
from components.kubernetes_objects import register
from components.kubernetes_rules import label_problems, pod_security_labels, subdomain_problems
from components.topics import TopicSpec

__all__ = [
    "STORAGE_GIB",
    "LocalDataStores",
    "LocalDataStoresArgs",
    "context_problems",
    "storage_problems",
    "validate",
]

STORAGE_GIB = (1, 1024)  # a laptop's disk
# A kubeconfig context name: any text without whitespace (kubectl's own rule is looser, but a
# name with spaces is a pasted command, not a context).
_CONTEXT = re.compile(r"\S{1,253}")


def context_problems(value: object) -> list[str]:
    """Why `value` is not a kubeconfig context name."""
    if isinstance(value, str) and _CONTEXT.fullmatch(value):
        return []
    return [
        f"{value!r}: a kubeconfig context name (`kubectl config get-contexts`), e.g. "
        "kind-platform or minikube"
    ]


def storage_problems(value: object) -> list[str]:
    low, high = STORAGE_GIB
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return []
    return [f"{value!r}: GiB as a whole number {low}..{high}"]


@dataclass(frozen=True, kw_only=True)
class LocalDataStoresArgs:
    """Inputs of `LocalDataStores`.

    Attributes:
        k8s_provider: the laptop cluster's Kubernetes provider (its kubeconfig context).
        client_namespaces: namespaces whose pods may connect (the services' namespaces).
        logins: one PostgreSQL login (and schema) per service, as on Aurora.
        topics: the services' Kafka topics (replication 1: there is one broker).
        database_name: the database PostgreSQL creates (Aurora's name, so DB_NAME matches).
        storage_class: StorageClass of the PostgreSQL and Kafka volumes (kind/minikube:
            "standard").
        database_storage_gib: PostgreSQL's volume in GiB.
        kafka_storage_gib: Kafka's log volume in GiB.
        namespace: where the stand-ins run (enforces Pod Security `restricted`).
    """

    k8s_provider: pulumi.ProviderResource
    client_namespaces: Sequence[str]
    logins: Sequence[str] = ()
    topics: Sequence[TopicSpec] = ()
    database_name: str = "app"
    storage_class: str = "standard"
    database_storage_gib: int = 2
    kafka_storage_gib: int = 2
    namespace: str = "data"


def validate(args: LocalDataStoresArgs) -> list[str]:
    problems = [f"namespace {p}" for p in label_problems(args.namespace)]
    problems += [f"storage_class {p}" for p in subdomain_problems(args.storage_class)]
    for key in ("database_storage_gib", "kafka_storage_gib"):
        problems += [f"{key} {p}" for p in storage_problems(getattr(args, key))]
    if args.namespace in args.client_namespaces:
        problems.append(
            f"namespace {args.namespace!r}: the stand-ins need their own namespace, not a client's"
        )
    return problems


class LocalDataStores(pulumi.ComponentResource):
    """PostgreSQL, Valkey and Kafka as single in-cluster pods, with each service's login and
    topics. Outputs: `database_host`, `cache_host`, `bootstrap_brokers`, `ready` (what a
    service's pods wait for), `login_password(login)`, `cache_password`."""

    def __init__(
        self, name: str, args: LocalDataStoresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        problems = validate(args)
        if problems:
            raise ValueError(f"LocalDataStores {name}: " + "; ".join(problems))
        super().__init__("platform:local:LocalDataStores", name, None, opts)
        self._name, self._args = name, args
        ns = args.namespace
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels=pod_security_labels("restricted")),
            opts=self._opts(),
        )
        admin = self._password("postgres-admin")
        self._passwords = {login: self._password(f"login-{login}") for login in args.logins}
        self.cache_password = self._password("valkey")
        secrets = [
            self._secret("postgres-admin", m.POSTGRES_ADMIN_SECRET, {"POSTGRES_PASSWORD": admin}),
            self._secret("database-logins", m.LOGINS_SECRET, dict(self._passwords)),
            self._secret(
                "valkey-config",
                m.VALKEY_CONFIG_SECRET,
                {"valkey.conf": self.cache_password.apply(m.valkey_conf)},
            ),
        ]
        objects = m.manifests(
            ns,
            args.client_namespaces,
            args.database_name,
            args.storage_class,
            {"database": args.database_storage_gib, "kafka": args.kafka_storage_gib},
        )
        made = {
            key: register(f"{name}-{key}", manifest, self._opts([self.namespace, *secrets]))
            for key, manifest in objects.items()
        }
        jobs = []
        if args.logins:
            job = m.logins_job(ns, args.database_name, args.logins)
            jobs.append(register(f"{name}-logins", job, self._opts([made["postgres"]])))
        if args.topics:
            job = m.topics_job(ns, args.topics)
            jobs.append(register(f"{name}-topics", job, self._opts([made["kafka"]])))
        self.ready: list[pulumi.Resource] = [made["valkey"], made["postgres"], *jobs]
        self.database_host = m.host("postgres", ns)
        self.cache_host = m.host("valkey", ns)
        self.bootstrap_brokers = f"{m.host('kafka', ns)}:{m.KAFKA_PORT}"
        self.register_outputs(
            {
                "databaseHost": self.database_host,
                "cacheHost": self.cache_host,
                "bootstrapBrokers": self.bootstrap_brokers,
            }
        )

    def login_password(self, login: str) -> pulumi.Output[str]:
        return self._passwords[login]

    def _opts(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self,
            provider=self._args.k8s_provider,
            depends_on=list(depends_on),
        )

    def _password(self, key: str) -> pulumi.Output[str]:
        password = random.RandomPassword(
            f"{self._name}-{key}",
            length=32,
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return password.result

    def _secret(self, key: str, secret_name: str, data: dict) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            f"{self._name}-{key}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=secret_name, namespace=self._args.namespace),
            string_data=data,
            opts=self._opts([self.namespace]),
        )
