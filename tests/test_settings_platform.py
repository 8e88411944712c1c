"""Validation rules of the cluster and data-tier settings (one test per rule).

Like tests/test_settings.py, each case runs the real entry path and checks that nothing was
registered.
"""

from __future__ import annotations

import pytest

from infra.config import load_settings
from tests.helpers import REGION, rejected


def cluster(**fields) -> dict:
    return {"platform:cluster": {**REGION["platform:cluster"], **fields}}


def node_group(**fields) -> dict:
    group = {
        "instanceTypes": ["t3.medium"],
        "capacityType": "ON_DEMAND",
        "minSize": 1,
        "maxSize": 3,
        "desiredSize": 2,
    }
    return cluster(nodeGroups={"system": {**group, **fields}})


def test_public_api_open_to_the_world_needs_the_explicit_opt_in():
    error = rejected("dev", cluster(publicAccessCidrs=["0.0.0.0/0"]))
    assert "platform:cluster.publicAccessCidrs: 0.0.0.0/0 opens the Kubernetes API" in error
    assert "allowPublicAccessFromAnywhere: true" in error
    opted_in = load_settings(
        "dev",
        {**REGION, **cluster(publicAccessCidrs=["0.0.0.0/0"], allowPublicAccessFromAnywhere=True)},
    )
    assert opted_in.cluster.public_access_cidrs == ["0.0.0.0/0"]


def test_public_endpoint_needs_named_cidrs():
    error = rejected("dev", cluster(publicAccessCidrs=[]))
    assert "publicAccessCidrs: required when endpointPublicAccess is true" in error


def test_prod_api_endpoint_cannot_be_public():
    error = rejected("prod", cluster(endpointPublicAccess=True))
    assert "platform:cluster.endpointPublicAccess: true is not allowed in prod" in error


def test_node_group_min_greater_than_max():
    error = rejected("dev", node_group(minSize=4, maxSize=3, desiredSize=3))
    assert "platform:cluster.nodeGroups.system: minSize 4 is greater than maxSize 3" in error


@pytest.mark.parametrize("desired", [0, 4])
def test_node_group_desired_outside_min_max(desired):
    error = rejected("dev", node_group(desiredSize=desired))
    assert f"desiredSize {desired} is outside [minSize 1, maxSize 3]" in error


def test_misspelt_instance_type_is_rejected_with_a_suggestion():
    error = rejected("dev", node_group(instanceTypes=["t3.mediun"]))
    assert "platform:cluster.nodeGroups.system.instanceTypes" in error
    assert "'t3.mediun' is not a known instance type; did you mean t3.medium" in error


def test_unsupported_kubernetes_version():
    error = rejected("dev", cluster(version="1.25"))
    assert (
        "platform:cluster.version = '1.25': unsupported Kubernetes version '1.25'; allowed" in error
    )


def test_cluster_admins_must_be_named():
    error = rejected("dev", cluster(adminRoleArns=[]))
    assert "platform:cluster.adminRoleArns: at least one IAM role ARN" in error


def test_admin_roles_must_be_role_arns():
    error = rejected("dev", cluster(adminRoleArns=["arn:aws:iam::123456789012:user/alice"]))
    assert "are not IAM role ARNs" in error


def test_msk_broker_count_must_be_a_multiple_of_its_zone_count():
    error = rejected("prod", {"platform:streaming": {"brokerCount": 4}})
    assert "platform:streaming: brokerCount 4 is not a multiple of the 3 zones" in error


def test_msk_cannot_use_more_zones_than_the_vpc_has():
    error = rejected("dev", {"platform:streaming": {"zoneCount": 3, "brokerCount": 3}})
    assert "platform:streaming.zoneCount: 3 is more than platform:network.azCount 2" in error


def test_private_api_cidrs_must_be_cidrs():
    error = rejected("prod", cluster(privateAccessCidrs=["10.8.0.0/33"]))
    assert "platform:cluster.privateAccessCidrs" in error and "is not an IPv4 CIDR" in error


def test_aurora_min_capacity_above_max():
    error = rejected("uat", {"platform:database": {"minCapacity": 8, "maxCapacity": 4}})
    assert "platform:database: minCapacity 8.0 is greater than maxCapacity 4.0" in error


@pytest.mark.parametrize("days", [0, 36])
def test_backup_retention_outside_1_to_35(days):
    error = rejected("uat", {"platform:database": {"backupRetentionDays": days}})
    assert f"platform:database.backupRetentionDays = {days}" in error


def test_prod_cache_must_be_multi_az():
    error = rejected("prod", {"platform:cache": {"multiAz": False}})
    assert "platform:cache.multiAz: false is not allowed in prod" in error


def test_prod_database_needs_a_reader():
    error = rejected("prod", {"platform:database": {"readerCount": 0}})
    assert "platform:database.readerCount: 0 is below prod's floor of 1" in error


def test_final_snapshot_may_only_be_skipped_in_dev():
    error = rejected("uat", {"platform:database": {"skipFinalSnapshot": True}})
    assert "platform:database.skipFinalSnapshot: true is a dev-only opt-out, not for uat" in error


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"platform:database": {"engineVersion": "12.1"}}, "unknown aurora-postgresql version"),
        ({"platform:cache": {"engineVersion": "6.0"}}, "'6.0' is not a known valkey version"),
        ({"platform:streaming": {"kafkaVersion": "2.8.1"}}, "unknown Kafka version"),
    ],
)
def test_unknown_engine_versions(config, expected):
    assert expected in rejected("dev", config)


SERVICE = {
    "name": "api",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api",
    "tags": {"blue": "1.4.2", "green": "1.5.0"},
    "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
}


def services(*entries) -> dict:
    return {"platform:services": list(entries)}


def service(**fields) -> dict:
    return {**SERVICE, **fields}


def test_a_valid_service_is_accepted():
    settings = load_settings("dev", {**REGION, **services(SERVICE)})
    assert settings.services[0].active_color == "blue"


def test_unknown_colour():
    error = rejected("dev", services({**SERVICE, "activeColor": "red"}))
    assert "platform:services[0].activeColor = 'red': Input should be 'blue' or 'green'" in error


@pytest.mark.parametrize("split", [-1, 101])
def test_traffic_split_outside_0_to_100(split):
    error = rejected("dev", services({**SERVICE, "trafficSplit": split}))
    assert f"platform:services[0].trafficSplit = {split}" in error


@pytest.mark.parametrize(
    ("tag", "expected"), [("latest", "'latest' is not allowed"), ("", "is empty")]
)
def test_latest_or_empty_tag(tag, expected):
    error = rejected("dev", services({**SERVICE, "tags": {"blue": "1.0.0", "green": tag}}))
    assert "platform:services[0].tags.green" in error
    assert expected in error


def test_duplicate_service_names():
    error = rejected("dev", services(SERVICE, {**SERVICE}))
    assert "platform:services: duplicate service names ['api']" in error


@pytest.mark.parametrize("port", [0, 80, 70000])
def test_port_out_of_range(port):
    error = rejected("dev", services({**SERVICE, "port": port}))
    assert f"platform:services[0].port = {port}" in error


def test_a_service_without_tls_needs_the_named_opt_out_and_never_in_prod():
    plain = {k: v for k, v in SERVICE.items() if k != "certificateArn"}
    assert "certificateArn: required so the ALB serves HTTPS" in rejected("dev", services(plain))
    assert load_settings("dev", {**REGION, **services({**plain, "allowPlainHttp": True})})
    error = rejected("prod", services({**plain, "allowPlainHttp": True}))
    assert "platform:services[0].allowPlainHttp: true is a dev-only opt-out, not for prod" in error


def test_a_tag_yaml_read_as_a_number_is_refused_never_converted_back():
    """`green: 1.10` is the float 1.1: converting it back would deploy image 1.1, not 1.10."""
    error = rejected("dev", services({**SERVICE, "tags": {"blue": "1.4.2", "green": 1.10}}))
    assert "platform:services[0].tags.green: written as the number 1.1" in error
    assert "quote it" in error


def test_a_number_written_as_text_is_refused_like_the_schema_refuses_it():
    """The release tool writes numbers with `--type int`; a quoted number is a mistake."""
    error = rejected("dev", services({**SERVICE, "trafficSplit": "10"}))
    assert "platform:services[0].trafficSplit: '10' is text where a number is meant" in error
    settings = load_settings(
        "dev", {**REGION, **services({**SERVICE, "tags": {"blue": "42", "green": "43"}})}
    )
    assert settings.services[0].tags.blue == "42"


# -- what an application gets: login, topics, proxy -------------------------------------------
@pytest.mark.parametrize("name", ["pg-admin", "rds-sync", "postgres", "public"])
def test_a_service_name_whose_database_login_postgres_or_rds_reserves(name):
    error = rejected("dev", services(service(name=name)))
    assert f"platform:services[0].name: {name!r} gives database login" in error
    assert "reserved" in error


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ({"name": "orders created"}, "platform:services[0].topics[0]: name 'orders created'"),
        ({"name": "orders", "partitions": 0}, "partitions 0: allowed 1..1000"),
        # dev has two brokers: a third replica has nowhere to go.
        ({"name": "orders", "replicationFactor": 3}, "replicationFactor 3: allowed 2..2"),
        ({"name": "orders", "retentionHours": 0}, "retentionHours 0"),
        ({"name": "orders", "retention": "7d"}, "retention: unknown key"),
        ({"name": "orders", "partitions": "six"}, "partitions: 'six' is text where a number"),
    ],
)
def test_topics_kafka_or_msk_would_refuse(topic, expected):
    error = rejected("dev", services(service(topics=[topic])))
    assert expected in error


def test_topic_names_are_cluster_wide_and_may_not_collide_in_metrics():
    first = service(name="orders", topics=[{"name": "shop.events"}])
    second = service(name="billing", topics=[{"name": "shop_events"}])
    error = rejected("dev", services(first, second))
    assert "platform:services[].topics: ['shop.events / shop_events']" in error
    error = rejected(
        "dev", services(first, service(name="billing", topics=[{"name": "shop.events"}]))
    )
    assert "['shop.events']" in error


def test_topics_as_a_map_instead_of_a_list():
    error = rejected("dev", services(service(topics={"name": "orders"})))
    assert "platform:services[0].topics: Input should be a valid list" in error


def test_a_proxy_would_keep_an_auto_pausing_database_awake():
    error = rejected("dev", {"platform:database": {"proxy": True}})
    assert "platform:database.proxy: true holds connections open" in error
    accepted = load_settings(
        "dev",
        {
            **REGION,
            "platform:database": {
                "proxy": True,
                "minCapacity": 0.5,
                "secondsUntilAutoPause": None,
            },
        },
    )
    assert accepted.database.proxy
