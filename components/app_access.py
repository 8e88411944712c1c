"""Wiring from the data stores to the application: a ConfigMap and an IRSA role.

The ConfigMap holds only non-secret connection details (hosts, ports, secret ARNs, bootstrap
brokers, region) for `envFrom`. Secrets stay in Secrets Manager; the application reads them
with its own IAM role, assumed through the cluster's OIDC provider by exactly one service
account. The role's policy names each resource it may touch: the connection secrets and
their keys, one database user, and one MSK cluster's topics and groups — no `*` resources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import irsa_trust_policy

KAFKA_CLUSTER_ACTIONS = ("kafka-cluster:Connect", "kafka-cluster:DescribeCluster")
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
        endpoint: writer endpoint host.
        reader_endpoint: reader endpoint host.
        port: PostgreSQL port.
        database_name: database to connect to.
        cluster_resource_id: cluster resource id (`cluster-...`) for the `rds-db:connect` ARN.
        user: database user the application logs in as with IAM authentication (created in
            PostgreSQL with `GRANT rds_iam`).
        secret_arn: master-user secret to grant read access to; None grants none (IAM
            authentication needs no password).
        kms_key_arn: key encrypting `secret_arn`; required with it.
    """

    endpoint: pulumi.Input[str]
    reader_endpoint: pulumi.Input[str]
    port: pulumi.Input[int]
    database_name: str
    cluster_resource_id: pulumi.Input[str]
    user: str
    secret_arn: pulumi.Input[str] | None = None
    kms_key_arn: pulumi.Input[str] | None = None


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
    """

    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    cluster_uuid: pulumi.Input[str]
    bootstrap_brokers: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class ApplicationAccessArgs:
    """Inputs of `ApplicationAccess`.

    Attributes:
        k8s_provider: Kubernetes provider of the EKS cluster.
        namespace: application namespace (ConfigMap and service account).
        service_account: name of the application's service account; it is the only subject
            that may assume the role (annotate it with `role_arn`).
        oidc_provider_arn: IAM OIDC provider of the EKS cluster.
        oidc_issuer: the cluster's OIDC issuer, with or without `https://`.
        config_map_name: name of the connections ConfigMap.
        database: Aurora connection, or None.
        cache: cache connection, or None.
        streaming: MSK connection, or None.
    """

    k8s_provider: pulumi.ProviderResource
    namespace: pulumi.Input[str]
    service_account: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    config_map_name: str = "platform-connections"
    database: DatabaseConnection | None = None
    cache: CacheConnection | None = None
    streaming: StreamingConnection | None = None


def trust_policy(provider_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    """IRSA trust: only `system:serviceaccount:<namespace>:<service_account>` via STS."""
    return json.dumps(irsa_trust_policy(provider_arn, issuer, namespace, service_account))


class ApplicationAccess(pulumi.ComponentResource):
    """Connections ConfigMap plus the application's IRSA role and least-privilege policy.

    Outputs: `role_arn`, `role_name`, `config_map_name`.
    """

    def __init__(
        self, name: str, args: ApplicationAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        db = args.database
        if db is not None and (db.secret_arn is None) != (db.kms_key_arn is None):
            raise ValueError("database.secret_arn and database.kms_key_arn go together")
        super().__init__("platform:app_access:ApplicationAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        partition = aws.get_partition_output(opts=invoke).partition

        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"IRSA role of service account {args.service_account}",
            assume_role_policy=pulumi.Output.all(
                args.oidc_provider_arn, args.oidc_issuer, args.namespace
            ).apply(lambda v: trust_policy(v[0], v[1], v[2], args.service_account)),
            opts=child,
        )
        if args.database or args.cache or args.streaming:
            aws.iam.RolePolicy(
                f"{name}-data-access",
                role=self.role.id,
                policy=pulumi.Output.all(
                    partition, region, account, pulumi.Output.from_input(_policy_inputs(args))
                ).apply(lambda v: json.dumps(access_policy(*v))),
                opts=child,
            )

        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-connections",
            metadata={"name": args.config_map_name, "namespace": args.namespace},
            data=connection_data(args, region),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
        )

        self.role_arn = self.role.arn
        self.role_name = self.role.name
        self.config_map_name = self.config_map.metadata.apply(lambda m: m.name)
        self.register_outputs({"roleArn": self.role_arn, "configMapName": self.config_map_name})


def _policy_inputs(args: ApplicationAccessArgs) -> dict:
    """The resource identifiers the policy needs, as one structure of (future) values."""
    inputs: dict = {}
    if args.database:
        inputs["database"] = {
            "resource_id": args.database.cluster_resource_id,
            "user": args.database.user,
            "secret_arn": args.database.secret_arn,
            "kms_key_arn": args.database.kms_key_arn,
        }
    if args.cache:
        inputs["cache"] = {
            "secret_arn": args.cache.auth_secret_arn,
            "kms_key_arn": args.cache.kms_key_arn,
        }
    if args.streaming:
        inputs["streaming"] = {
            "cluster_arn": args.streaming.cluster_arn,
            "cluster_name": args.streaming.cluster_name,
            "cluster_uuid": args.streaming.cluster_uuid,
        }
    return inputs


def access_policy(partition: str, region: str, account: str, stores: dict) -> dict:
    """Exactly the actions the application needs, each on the resources it needs them on."""
    secrets = [s["secret_arn"] for s in stores.values() if s.get("secret_arn")]
    keys = [s["kms_key_arn"] for s in stores.values() if s.get("kms_key_arn")]
    statements: list[dict] = []
    if secrets:
        statements.append(
            {
                "Sid": "ReadConnectionSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secrets,
            }
        )
        statements.append(
            {
                "Sid": "DecryptConnectionSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": keys,
                # Only for Secrets Manager reads, not to decrypt arbitrary data with the keys.
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                },
            }
        )
    if db := stores.get("database"):
        statements.append(
            {
                "Sid": "ConnectAsDatabaseUser",
                "Effect": "Allow",
                "Action": "rds-db:connect",
                "Resource": (
                    f"arn:{partition}:rds-db:{region}:{account}:dbuser:"
                    f"{db['resource_id']}/{db['user']}"
                ),
            }
        )
    if msk := stores.get("streaming"):
        scope = f"{msk['cluster_name']}/{msk['cluster_uuid']}"
        prefix = f"arn:{partition}:kafka:{region}:{account}"
        for sid, actions, resource in (
            ("KafkaCluster", KAFKA_CLUSTER_ACTIONS, msk["cluster_arn"]),
            ("KafkaTopics", KAFKA_TOPIC_ACTIONS, f"{prefix}:topic/{scope}/*"),
            ("KafkaGroups", KAFKA_GROUP_ACTIONS, f"{prefix}:group/{scope}/*"),
        ):
            statements.append(
                {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}
            )
    return {"Version": "2012-10-17", "Statement": statements}


def connection_data(
    args: ApplicationAccessArgs, region: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    """Env-style ConfigMap entries: where things are and how to authenticate — no secrets."""
    data: dict[str, pulumi.Input[str]] = {"AWS_REGION": region}
    if db := args.database:
        data |= {
            "DB_HOST": db.endpoint,
            "DB_READER_HOST": db.reader_endpoint,
            "DB_PORT": pulumi.Output.from_input(db.port).apply(str),
            "DB_NAME": db.database_name,
            "DB_USER": db.user,
            "DB_AUTH": "iam",
            "DB_SSLMODE": "verify-full",
        }
        if db.secret_arn is not None:
            data["DB_MASTER_SECRET_ARN"] = db.secret_arn
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
        }
    return data
