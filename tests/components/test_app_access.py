"""ApplicationAccess: non-secret ConfigMap, IRSA trust for one service account, exact policy."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.app_access import (
    KAFKA_CLUSTER_ACTIONS,
    KAFKA_GROUP_ACTIONS,
    KAFKA_TOPIC_ACTIONS,
    ApplicationAccess,
    ApplicationAccessArgs,
    CacheConnection,
    DatabaseConnection,
    StreamingConnection,
)
from components.cache import Cache, CacheArgs
from components.iam import PodIdentityCluster
from infra.offline.mockengine import ACCOUNT_ID, run_program
from tests.pod_identity import assert_pod_identity, trust

CONFIG = {"aws:region": "eu-west-1"}
CLUSTER_ARN = f"arn:aws:eks:eu-west-1:{ACCOUNT_ID}:cluster/test"
IDENTITY = PodIdentityCluster(cluster_name="test", cluster_arn=CLUSTER_ARN, account_id=ACCOUNT_ID)
PROXY_ID = "prx-0123456789abcdef0"
PROXY_HOST = "db-proxy.proxy-x.eu-west-1.rds.amazonaws.com"
CACHE_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/cache"
MSK_ARN = f"arn:aws:kafka:eu-west-1:{ACCOUNT_ID}:cluster/platform-test-kafka/uuid-1"
EXPECTED_ACTIONS = {
    "secretsmanager:GetSecretValue",
    "kms:Decrypt",
    "rds-db:connect",
    "kafka-cluster:Connect",
    "kafka-cluster:DescribeCluster",
    # Idempotent producers (the default of current clients) need it on the cluster.
    "kafka-cluster:WriteDataIdempotently",
    "kafka-cluster:DescribeTopic",
    "kafka-cluster:ReadData",
    "kafka-cluster:WriteData",
    "kafka-cluster:DescribeGroup",
    "kafka-cluster:AlterGroup",
}


def _access(name: str, **stores) -> ApplicationAccess:
    provider = k8s.Provider("k8s", kubeconfig="{}")
    return ApplicationAccess(
        name,
        ApplicationAccessArgs(
            k8s_provider=provider,
            namespace="shop",
            service_account="shop-api",
            identity=IDENTITY,
            **stores,
        ),
    )


def _all_stores_program() -> None:
    cache = Cache(
        "cache",
        CacheArgs(
            name_prefix="platform-test",
            vpc_id="vpc-0data",
            subnet_group_name="platform-test-cache",
            allowed_security_group_ids={"nodes": "sg-0nodes"},
            kms_key_arn=CACHE_KEY,
            logs_kms_key_arn=f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/logs",
        ),
    )
    access = _access(
        "app",
        database=DatabaseConnection(
            endpoint="db.cluster-x.eu-west-1.rds.amazonaws.com",
            reader_endpoint="db.cluster-ro-x.eu-west-1.rds.amazonaws.com",
            port=5432,
            database_name="shop",
            cluster_resource_id="cluster-ABCDEFG",
            user="shop_api",
            proxy_endpoint=PROXY_HOST,
            proxy_resource_id=PROXY_ID,
        ),
        cache=CacheConnection(
            endpoint=cache.primary_endpoint,
            reader_endpoint=cache.reader_endpoint,
            port=cache.port,
            auth_secret_arn=cache.auth_secret_arn,
            kms_key_arn=CACHE_KEY,
        ),
        streaming=StreamingConnection(
            cluster_arn=MSK_ARN,
            cluster_name="platform-test-kafka",
            cluster_uuid="uuid-1",
            bootstrap_brokers="b-1.x:9098,b-2.x:9098",
            topics=["shop.orders", "shop.payments"],
            consumer_group_prefix="shop-api",
        ),
    )
    pulumi.export("roleArn", access.role_arn)
    pulumi.export("configMapName", access.config_map_name)
    pulumi.export("cacheSecretArn", cache.auth_secret_arn)


@pytest.fixture(scope="module")
def rec():
    return run_program(_all_stores_program, stack="test", config=CONFIG)


def _policy(rec) -> dict:
    policy = rec.one("aws:iam/rolePolicy:RolePolicy", "app-role-data-access")
    return json.loads(policy.inputs["policy"])


def _by_action(policy: dict) -> dict[str, list]:
    found: dict[str, list] = {}
    for statement in policy["Statement"]:
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            found.setdefault(action, []).extend(
                [resources] if isinstance(resources, str) else resources
            )
    return found


def test_trust_is_limited_to_the_one_service_account_through_pod_identity(rec):
    role = rec.one("aws:iam/role:Role", "app-role")
    assert_pod_identity(
        rec, role, account=ACCOUNT_ID, cluster_arn=CLUSTER_ARN, cluster_name="test",
        namespace="shop", service_account="shop-api",
    )  # fmt: skip
    assert "Federated" not in json.dumps(trust(role))


def test_policy_allows_exactly_the_listed_actions(rec):
    policy = _policy(rec)
    assert set(_by_action(policy)) == EXPECTED_ACTIONS
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def test_policy_has_no_wildcard_resources(rec):
    for action, resources in _by_action(_policy(rec)).items():
        for resource in resources:
            assert resource != "*", action
            parts = resource.split(":")
            assert parts[0] == "arn" and len(parts) >= 6, resource
            assert parts[3] == "eu-west-1" and parts[4] == ACCOUNT_ID, resource


def test_each_action_is_scoped_to_its_own_resources(rec):
    found = _by_action(_policy(rec))
    # The only secret is the cache token: the database master secret is not the app's.
    assert found["secretsmanager:GetSecretValue"] == [rec.outputs["cacheSecretArn"]]
    assert found["kms:Decrypt"] == [CACHE_KEY]
    prefix = f"arn:aws:rds-db:eu-west-1:{ACCOUNT_ID}:dbuser"
    assert sorted(found["rds-db:connect"]) == [
        f"{prefix}:cluster-ABCDEFG/shop_api",
        f"{prefix}:{PROXY_ID}/shop_api",
    ]
    for action in KAFKA_CLUSTER_ACTIONS:
        assert found[action] == [MSK_ARN]
    prefix = f"arn:aws:kafka:eu-west-1:{ACCOUNT_ID}"
    for action in KAFKA_TOPIC_ACTIONS:
        assert sorted(found[action]) == [
            f"{prefix}:topic/platform-test-kafka/uuid-1/shop.orders",
            f"{prefix}:topic/platform-test-kafka/uuid-1/shop.payments",
        ]
    for action in KAFKA_GROUP_ACTIONS:
        assert sorted(found[action]) == [
            f"{prefix}:group/platform-test-kafka/uuid-1/shop-api",
            f"{prefix}:group/platform-test-kafka/uuid-1/shop-api-*",
        ]


def test_no_wildcard_topic_or_group_outside_the_services_own_names(rec):
    for action in (*KAFKA_TOPIC_ACTIONS, *KAFKA_GROUP_ACTIONS):
        for resource in _by_action(_policy(rec))[action]:
            name = resource.split("/", 3)[3]
            assert name.startswith(("shop.", "shop-api")), resource


def test_without_topics_the_role_may_use_no_topic():
    def program():
        _access(
            "quiet",
            streaming=StreamingConnection(
                cluster_arn=MSK_ARN,
                cluster_name="platform-test-kafka",
                cluster_uuid="uuid-1",
                bootstrap_brokers="b-1.x:9098",
                consumer_group_prefix="quiet",
            ),
        )

    rec = run_program(program, stack="test", config=CONFIG)
    policy = json.loads(
        rec.one("aws:iam/rolePolicy:RolePolicy", "quiet-role-data-access").inputs["policy"]
    )
    assert not set(_by_action(policy)) & set(KAFKA_TOPIC_ACTIONS)


def test_kms_decrypt_only_through_secrets_manager(rec):
    (statement,) = [s for s in _policy(rec)["Statement"] if s["Action"] == "kms:Decrypt"]
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    }


def test_config_map_has_connection_details_and_no_secret_values(rec):
    config_map = rec.one("kubernetes:core/v1:ConfigMap", "app-connections")
    provider = rec.one("pulumi:providers:kubernetes", "k8s")
    assert config_map.provider.startswith(provider.urn)
    assert config_map.inputs["metadata"] == {"name": "platform-connections", "namespace": "shop"}
    assert rec.outputs["configMapName"] == "platform-connections"
    data = config_map.inputs["data"]
    assert data["DB_HOST"] == PROXY_HOST  # writes go through the proxy
    # ...whose ACM certificate Amazon's public roots verify; the reader serves RDS's own CA.
    assert data["DB_CA_BUNDLE_URL"] == "https://www.amazontrust.com/repository/AmazonRootCA1.pem"
    assert data["DB_READER_CA_BUNDLE_URL"] == (
        "https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem"
    )
    assert data["DB_READER_HOST"] == "db.cluster-ro-x.eu-west-1.rds.amazonaws.com"
    assert data["DB_USER"] == data["DB_SCHEMA"] == "shop_api"
    assert data["KAFKA_TOPICS"] == "shop.orders,shop.payments"
    assert data["KAFKA_CONSUMER_GROUP_PREFIX"] == "shop-api"
    assert data["DB_PORT"] == "5432" and data["CACHE_PORT"] == "6379"
    assert data["CACHE_AUTH_SECRET_ARN"] == rec.outputs["cacheSecretArn"]
    assert not [key for key in data if "MASTER" in key]
    assert data["KAFKA_BOOTSTRAP_SERVERS"] == "b-1.x:9098,b-2.x:9098"
    assert data["AWS_REGION"] == "eu-west-1"
    assert all(isinstance(v, str) for v in data.values())
    # Nothing secret flows in: no secret-marked input, and the cache token appears nowhere.
    assert config_map.secret_inputs == []
    group = rec.one("aws:elasticache/replicationGroup:ReplicationGroup", "cache-group")
    token = group.inputs["authToken"]
    assert "authToken" in group.secret_inputs
    assert token not in json.dumps(config_map.inputs)
    assert not rec.secret_outputs
    assert token not in json.dumps(rec.outputs)


def test_without_stores_the_role_gets_no_policy():
    rec = run_program(lambda: _access("bare"), stack="test", config=CONFIG)
    assert rec.of_type("aws:iam/role:Role")
    assert not rec.of_type("aws:iam/rolePolicy:RolePolicy")
    assert set(rec.one("kubernetes:core/v1:ConfigMap", "bare-connections").inputs["data"]) == {
        "AWS_REGION"
    }


def test_proxy_endpoint_without_its_resource_id_is_rejected():
    db = DatabaseConnection(
        endpoint="h",
        reader_endpoint="r",
        port=5432,
        database_name="shop",
        cluster_resource_id="cluster-X",
        user="shop_api",
        proxy_endpoint=PROXY_HOST,
    )
    with pytest.raises(ValueError, match="proxy_resource_id"):
        run_program(lambda: _access("app", database=db), stack="test", config=CONFIG)
