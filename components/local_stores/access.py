"""A service's connection details on the laptop cluster: the ConfigMap with the same keys
`ApplicationAccess` writes on AWS (`components.app_access.connection_data`), with local
values, and a Secret with the passwords that stand in for IAM.

What each key means locally (the values AWS gives are in docs/data-access.md):

    AWS_REGION                 "" (no AWS)
    DB_HOST, DB_READER_HOST    the PostgreSQL pod's Service (one server: no replicas, no proxy)
    DB_PORT, DB_NAME           5432, Aurora's database name
    DB_USER, DB_SCHEMA         the service's own login and schema, as on Aurora
    DB_AUTH                    "password" (AWS: "iam"): DB_PASSWORD in the Secret
    DB_SSLMODE                 "disable" (AWS: "verify-full"); the CA bundle URLs are ""
    CACHE_HOST, *_READER_HOST  the Valkey pod's Service; CACHE_PORT 6379
    CACHE_TLS                  "false" (AWS: "true")
    CACHE_AUTH_SECRET_ARN      "" (AWS: the token's Secrets Manager ARN): CACHE_PASSWORD
    KAFKA_BOOTSTRAP_SERVERS    the Kafka pod's Service, port 9092
    KAFKA_SECURITY_PROTOCOL    "PLAINTEXT" (AWS: "SASL_SSL"); KAFKA_SASL_MECHANISM ""
    KAFKA_TOPICS, KAFKA_CONSUMER_GROUP_PREFIX, OTEL_*   the same as on AWS
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.local_stores.manifests import POSTGRES_PORT, VALKEY_PORT

__all__ = [
    "PASSWORD_KEYS",
    "connection_data",
    "credentials_name",
]

# The Secret beside the ConfigMap (`<service>-platform-credentials`), loaded with envFrom.
PASSWORD_KEYS = ("DB_PASSWORD", "CACHE_PASSWORD")


def connection_data(
    *,
    service: str,
    login: str,
    database_host: str,
    database_name: str,
    cache_host: str,
    bootstrap_brokers: str,
    topics: Sequence[str],
    traces_endpoint: str | None,
) -> dict[str, pulumi.Input[str]]:
    """The ConfigMap's entries: the AWS keys, local values, no secrets."""
    data: dict[str, pulumi.Input[str]] = {
        "AWS_REGION": "",
        "DB_CA_BUNDLE_URL": "",
        "DB_READER_CA_BUNDLE_URL": "",
        "DB_HOST": database_host,
        "DB_READER_HOST": database_host,
        "DB_PORT": str(POSTGRES_PORT),
        "DB_NAME": database_name,
        "DB_USER": login,
        "DB_SCHEMA": login,
        "DB_AUTH": "password",
        "DB_SSLMODE": "disable",
        "CACHE_HOST": cache_host,
        "CACHE_READER_HOST": cache_host,
        "CACHE_PORT": str(VALKEY_PORT),
        "CACHE_TLS": "false",
        "CACHE_AUTH_SECRET_ARN": "",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_brokers,
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "",
        "KAFKA_TOPICS": ",".join(topics),
        "KAFKA_CONSUMER_GROUP_PREFIX": service,
    }
    if traces_endpoint is not None:
        data |= {
            "OTEL_EXPORTER_OTLP_ENDPOINT": traces_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": service,
        }
    return data


def credentials_name(config_map: str) -> str:
    return f"{config_map}-credentials"
