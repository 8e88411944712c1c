"""Wiring from the data stores to the application: a ConfigMap and an IRSA role.

The ConfigMap holds only non-secret connection details (hosts, ports, the cache's token
secret ARN, bootstrap brokers, topic names, region) for `envFrom`. The application
authenticates with its own IAM role, assumed through the cluster's OIDC provider by exactly one
service account: to PostgreSQL with IAM database authentication as its own login (never with
the master password, which belongs to administrators and the login bootstrap alone), to the
cache with the AUTH token it reads from Secrets Manager, and to Kafka with SASL/IAM. The
role's policy names each resource it may touch: its database login on the cluster and the
proxy, the cache token secret and its key, and its own topics and consumer groups on one MSK
cluster — no `*` resources.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.arguments import require_valid
from components.database.logins import login_problems
from components.database.tls import ca_bundle_url, rds_bundle_url
from components.iam import PodIdentityCluster, pod_identity_role
from components.kubernetes_rules import label_problems, subdomain_problems

__all__ = [
    "KAFKA_CLUSTER_ACTIONS",
    "KAFKA_GROUP_ACTIONS",
    "KAFKA_TOPIC_ACTIONS",
    "ApplicationAccess",
    "ApplicationAccessArgs",
    "CacheConnection",
    "DatabaseConnection",
    "StreamingConnection",
    "access_policy",
    "connection_data",
    "validate",
]


# Current Kafka clients (Java 3.0+, librdkafka 2.x with `enable.idempotence` defaulting to
# true) produce idempotently, which MSK authorises on the cluster resource: without
# WriteDataIdempotently every producer fails with ClusterAuthorizationException.
KAFKA_CLUSTER_ACTIONS = (
    "kafka-cluster:Connect",
    "kafka-cluster:DescribeCluster",
    "kafka-cluster:WriteDataIdempotently",
)
KAFKA_TOPIC_ACTIONS = (
    "kafka-cluster:DescribeTopic",
    "kafka-cluster:ReadData",
    "kafka-cluster:WriteData",
)
KAFKA_GROUP_ACTIONS = ("kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup")


@dataclass(frozen=True, kw_only=True)
class DatabaseConnection:
    """How the application reaches Aurora.

    Attributes:
        endpoint: writer endpoint host of the cluster.
        reader_endpoint: reader endpoint host (reads go straight to the replicas).
        port: PostgreSQL port.
        database_name: database to connect to.
        cluster_resource_id: cluster resource id (`cluster-...`) for the `rds-db:connect` ARN.
        user: PostgreSQL login the application uses with IAM authentication (created with
            `rds_iam` by `DatabaseLogins`); its schema has the same name.
        proxy_endpoint: RDS Proxy endpoint for writes (connection pooling), or None to write
            to `endpoint` directly.
        proxy_resource_id: the proxy's resource id (`prx-...`) for its `rds-db:connect` ARN;
            required with `proxy_endpoint`.
    """

    endpoint: pulumi.Input[str]
    reader_endpoint: pulumi.Input[str]
    port: pulumi.Input[int]
    database_name: str
    cluster_resource_id: pulumi.Input[str]
    user: str
    proxy_endpoint: pulumi.Input[str] | None = None
    proxy_resource_id: pulumi.Input[str] | None = None


@dataclass(frozen=True, kw_only=True)
class CacheConnection:
    """How the application reaches the cache.

    Attributes:
        endpoint: primary endpoint host.
        reader_endpoint: reader endpoint host.
        port: client port (TLS).
        auth_secret_arn: secret holding the AUTH token (JSON key `authToken`).
        kms_key_arn: key encrypting that secret.
    """

    endpoint: pulumi.Input[str]
    reader_endpoint: pulumi.Input[str]
    port: pulumi.Input[int]
    auth_secret_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class StreamingConnection:
    """How the application reaches MSK.

    Attributes:
        cluster_arn: MSK cluster ARN.
        cluster_name: MSK cluster name (part of topic and group ARNs).
        cluster_uuid: MSK cluster UUID (part of topic and group ARNs).
        bootstrap_brokers: SASL/IAM bootstrap brokers (`host:9098,...`).
        topics: the topics this application owns; it may read and write exactly these.
        consumer_group_prefix: consumer group ids the application may use start with this
            (its service name), so two services never share or reset each other's offsets.
    """

    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    cluster_uuid: pulumi.Input[str]
    bootstrap_brokers: pulumi.Input[str]
    topics: Sequence[str] = ()
    consumer_group_prefix: str


@dataclass(frozen=True, kw_only=True)
class ApplicationAccessArgs:
    """Inputs of `ApplicationAccess`.

    Attributes:
        k8s_provider: Kubernetes provider of the EKS cluster.
        namespace: application namespace (ConfigMap and service account).
        service_account: name of the application's service account; it is the only subject
            that may assume the role (a Pod Identity association binds them; no annotation).
        identity: the cluster the role is confined to (`Cluster.pod_identity`).
        config_map_name: name of the connections ConfigMap.
        database: Aurora connection, or None.
        cache: cache connection, or None.
        streaming: MSK connection, or None.
        traces_endpoint: OTLP/HTTP endpoint of the cluster's OpenTelemetry collector (becomes
            OTEL_EXPORTER_OTLP_ENDPOINT, which the OpenTelemetry SDKs read), or None.
    """

    k8s_provider: pulumi.ProviderResource
    namespace: str
    service_account: str
    identity: PodIdentityCluster
    config_map_name: str = "platform-connections"
    database: DatabaseConnection | None = None
    cache: CacheConnection | None = None
    streaming: StreamingConnection | None = None
    traces_endpoint: str | None = None


def validate(args: ApplicationAccessArgs) -> list[str]:
    """Every problem with `args` (empty when valid)."""
    problems = [f"namespace: {p}" for p in label_problems(args.namespace)]
    problems += [f"service_account: {p}" for p in subdomain_problems(args.service_account)]
    problems += [f"config_map_name: {p}" for p in subdomain_problems(args.config_map_name)]
    db = args.database
    if db is not None:
        if (db.proxy_endpoint is None) != (db.proxy_resource_id is None):
            problems.append("database.proxy_endpoint and database.proxy_resource_id go together")
        problems += [f"database.user: {p}" for p in login_problems(db.user)]
    if args.streaming is not None:
        problems += [
            f"streaming.consumer_group_prefix: {p}"
            for p in label_problems(args.streaming.consumer_group_prefix)
        ]
    return problems


class ApplicationAccess(pulumi.ComponentResource):
    """Connections ConfigMap plus the application's Pod Identity role (and association) and
    least-privilege policy.

    Outputs: `role_arn`, `role_name`, `config_map_name`, `ready` (what the service's pods
    wait for: the role's policies and the association).
    """

    def __init__(
        self, name: str, args: ApplicationAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid(
            "ApplicationAccess", name, args, lambda: validate(args)
        )  # before registering anything
        super().__init__("platform:app_access:ApplicationAccess", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        partition = aws.get_partition_output(opts=invoke).partition

        policies = {}
        if args.database or args.cache or args.streaming:
            policies["data-access"] = pulumi.Output.all(
                partition, region, account, pulumi.Output.from_input(_policy_inputs(args))
            ).apply(lambda v: json.dumps(access_policy(*v)))
        self.role = pod_identity_role(
            f"{name}-role",
            cluster=args.identity,
            namespace=args.namespace,
            service_account=args.service_account,
            inline_policies=policies,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-connections",
            metadata={"name": args.config_map_name, "namespace": args.namespace},
            data=connection_data(args, region),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
        )

        self.role_arn = self.role.arn
        self.ready = self.role.ready
        self.role_name = self.role.role.name
        self.config_map_name = self.config_map.metadata.apply(lambda m: m.name)
        self.register_outputs({"roleArn": self.role_arn, "configMapName": self.config_map_name})


def _policy_inputs(args: ApplicationAccessArgs) -> dict:
    """The resource identifiers the policy needs, as one structure of (future) values."""
    inputs: dict = {}
    if db := args.database:
        inputs["database"] = {
            "resource_ids": [db.cluster_resource_id]
            + ([db.proxy_resource_id] if db.proxy_resource_id is not None else []),
            "user": db.user,
        }
    if args.cache:
        inputs["cache"] = {
            "secret_arn": args.cache.auth_secret_arn,
            "kms_key_arn": args.cache.kms_key_arn,
        }
    if msk := args.streaming:
        inputs["streaming"] = {
            "cluster_arn": msk.cluster_arn,
            "cluster_name": msk.cluster_name,
            "cluster_uuid": msk.cluster_uuid,
            "topics": list(msk.topics),
            "group_prefix": msk.consumer_group_prefix,
        }
    return inputs


def access_policy(partition: str, region: str, account: str, stores: dict) -> dict:
    """Exactly the actions the application needs, each on the resources it needs them on."""
    statements: list[dict] = []
    if cache := stores.get("cache"):
        statements.append(
            {
                "Sid": "ReadCacheAuthToken",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [cache["secret_arn"]],
            }
        )
        statements.append(
            {
                "Sid": "DecryptCacheAuthToken",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": [cache["kms_key_arn"]],
                # Only for Secrets Manager reads, not to decrypt arbitrary data with the key.
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                },
            }
        )
    if db := stores.get("database"):
        # Its own login, on the cluster (reader endpoint) and on the proxy (writes).
        statements.append(
            {
                "Sid": "ConnectAsDatabaseUser",
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": [
                    f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{db['user']}"
                    for resource_id in db["resource_ids"]
                ],
            }
        )
    if msk := stores.get("streaming"):
        scope = f"{msk['cluster_name']}/{msk['cluster_uuid']}"
        prefix = f"arn:{partition}:kafka:{region}:{account}"
        group = msk["group_prefix"]
        statements.append(
            {
                "Sid": "KafkaCluster",
                "Effect": "Allow",
                "Action": list(KAFKA_CLUSTER_ACTIONS),
                "Resource": msk["cluster_arn"],
            }
        )
        if msk["topics"]:
            statements.append(
                {
                    "Sid": "KafkaOwnTopics",
                    "Effect": "Allow",
                    "Action": list(KAFKA_TOPIC_ACTIONS),
                    "Resource": [f"{prefix}:topic/{scope}/{topic}" for topic in msk["topics"]],
                }
            )
        statements.append(
            {
                "Sid": "KafkaOwnConsumerGroups",
                "Effect": "Allow",
                "Action": list(KAFKA_GROUP_ACTIONS),
                "Resource": [
                    f"{prefix}:group/{scope}/{group}",
                    f"{prefix}:group/{scope}/{group}-*",
                ],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def connection_data(
    args: ApplicationAccessArgs, region: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    """Env-style ConfigMap entries: where things are and how to authenticate — no secrets."""
    data: dict[str, pulumi.Input[str]] = {"AWS_REGION": region}
    if db := args.database:
        through_proxy = db.proxy_endpoint is not None
        data |= {
            # Which CA verifies which endpoint: an RDS Proxy serves an ACM certificate
            # (Amazon's public roots), the cluster endpoints RDS's own CA.
            "DB_CA_BUNDLE_URL": pulumi.Output.from_input(region).apply(
                lambda r: ca_bundle_url(r, proxy=through_proxy)
            ),
            "DB_READER_CA_BUNDLE_URL": pulumi.Output.from_input(region).apply(rds_bundle_url),
            # Writes through the proxy when there is one (pooling); reads to the replicas.
            "DB_HOST": db.proxy_endpoint if db.proxy_endpoint is not None else db.endpoint,
            "DB_READER_HOST": db.reader_endpoint,
            "DB_PORT": pulumi.Output.from_input(db.port).apply(str),
            "DB_NAME": db.database_name,
            "DB_USER": db.user,
            "DB_SCHEMA": db.user,
            "DB_AUTH": "iam",
            "DB_SSLMODE": "verify-full",
        }
    if cache := args.cache:
        data |= {
            "CACHE_HOST": cache.endpoint,
            "CACHE_READER_HOST": cache.reader_endpoint,
            "CACHE_PORT": pulumi.Output.from_input(cache.port).apply(str),
            "CACHE_TLS": "true",
            "CACHE_AUTH_SECRET_ARN": cache.auth_secret_arn,
        }
    if msk := args.streaming:
        data |= {
            "KAFKA_BOOTSTRAP_SERVERS": msk.bootstrap_brokers,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "AWS_MSK_IAM",
            "KAFKA_TOPICS": ",".join(msk.topics),
            "KAFKA_CONSUMER_GROUP_PREFIX": msk.consumer_group_prefix,
        }
    if args.traces_endpoint is not None:
        data |= {
            "OTEL_EXPORTER_OTLP_ENDPOINT": args.traces_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": args.service_account,
        }
    return data
