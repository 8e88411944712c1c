"""Cache: Valkey replication group, TLS + AUTH, CMK at rest, token only in Secrets Manager."""

from __future__ import annotations

import dataclasses
import json
import re

import pulumi
import pytest

from components.cache import Cache, CacheArgs
from infra.offline import mockengine
from infra.offline.mockengine import run_program

CONFIG = {"aws:region": "eu-west-1"}
CACHE_KEY = "arn:aws:kms:eu-west-1:123456789012:key/cache"
LOGS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/logs"
SOURCES = {"nodes": "sg-0nodes", "cluster": "sg-0cluster"}
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

DEV = CacheArgs(
    name_prefix="platform-test",
    vpc_id="vpc-0data",
    subnet_group_name="platform-test-cache",
    allowed_security_group_ids=SOURCES,
    kms_key_arn=CACHE_KEY,
    logs_kms_key_arn=LOGS_KEY,
    snapshot_retention_days=1,
)
PROD = dataclasses.replace(
    DEV,
    node_type="cache.t4g.small",
    num_cache_clusters=3,
    multi_az=True,
    availability_zones=ZONES,
    snapshot_retention_days=7,
    protect=True,
)


def _program(args: CacheArgs):
    def program() -> None:
        cache = Cache("cache", args)
        pulumi.export("primary", cache.primary_endpoint)
        pulumi.export("reader", cache.reader_endpoint)
        pulumi.export("port", cache.port)
        pulumi.export("authSecretArn", cache.auth_secret_arn)
        pulumi.export("sg", cache.security_group_id)

    return program


@pytest.fixture(scope="module")
def prod():
    return run_program(_program(PROD), stack="prod", config=CONFIG)


@pytest.fixture(scope="module")
def dev():
    return run_program(_program(DEV), stack="dev", config=CONFIG)


def _group(rec):
    return rec.one("aws:elasticache/replicationGroup:ReplicationGroup", "cache-group")


def test_group_sits_in_the_given_subnets_behind_its_own_security_group(prod):
    group = _group(prod).inputs
    assert group["subnetGroupName"] == "platform-test-cache"
    assert group["securityGroupIds"] == [prod.outputs["sg"]]
    sg = prod.one("aws:ec2/securityGroup:SecurityGroup", "cache-sg").inputs
    assert sg["vpcId"] == "vpc-0data"
    assert "ingress" not in sg and "egress" not in sg


def test_ingress_only_from_the_given_groups_on_the_cache_port(prod):
    rules = prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == sorted(SOURCES.values())
    for rule in rules:
        assert rule.inputs["securityGroupId"] == prod.outputs["sg"]
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (6379, 6379)
        assert rule.inputs["description"]
        assert "cidrIpv4" not in rule.inputs


def test_tls_required_and_auth_token_is_a_secret_input(prod):
    group = _group(prod)
    assert group.inputs["transitEncryptionEnabled"] is True
    assert group.inputs["transitEncryptionMode"] == "required"
    assert "authToken" in group.secret_inputs
    assert group.inputs["authTokenUpdateStrategy"] == "ROTATE"
    password = prod.one("random:index/randomPassword:RandomPassword", "cache-auth-token")
    assert password.inputs["length"] >= 32
    assert password.inputs["special"] is False  # ElastiCache forbids some specials


def test_token_is_stored_in_a_secret_encrypted_with_the_cache_key(prod):
    secret = prod.one("aws:secretsmanager/secret:Secret", "cache-auth").inputs
    assert secret["kmsKeyId"] == CACHE_KEY
    version = prod.one("aws:secretsmanager/secretVersion:SecretVersion", "cache-auth")
    assert "secretString" in version.secret_inputs
    token = _group(prod).inputs["authToken"]
    assert json.loads(version.inputs["secretString"]) == {"authToken": token}


def test_encrypted_at_rest_with_the_cache_key(prod):
    group = _group(prod).inputs
    assert group["atRestEncryptionEnabled"] is True
    assert group["kmsKeyId"] == CACHE_KEY


def test_engine_and_parameter_group_are_pinned(prod):
    group = _group(prod).inputs
    params = prod.one("aws:elasticache/parameterGroup:ParameterGroup", "cache-params").inputs
    assert group["engine"] == "valkey"
    major, minor = group["engineVersion"].split(".")
    assert int(major) >= 8 and minor.isdigit()
    assert params["family"] == f"valkey{major}"
    assert group["parameterGroupName"] == params["name"]


def test_slow_log_is_delivered_to_encrypted_log_groups(prod):
    deliveries = {d["logType"]: d for d in _group(prod).inputs["logDeliveryConfigurations"]}
    assert "slow-log" in deliveries
    for log_type, delivery in deliveries.items():
        logs = prod.one("aws:cloudwatch/logGroup:LogGroup", f"cache-{log_type}").inputs
        assert delivery["destinationType"] == "cloudwatch-logs"
        assert delivery["destination"] == logs["name"]
        assert logs["kmsKeyId"] == LOGS_KEY
        assert logs["retentionInDays"] == 30


def test_prod_is_multi_az_with_failover_and_protected(prod):
    group = _group(prod)
    assert group.inputs["numCacheClusters"] == 3
    assert group.inputs["multiAzEnabled"] is True
    assert group.inputs["automaticFailoverEnabled"] is True
    assert group.inputs["preferredCacheClusterAzs"] == ZONES
    assert group.inputs["snapshotRetentionLimit"] == 7
    assert group.inputs["snapshotWindow"]
    assert re.fullmatch(
        r"platform-test-cache-final-[0-9a-f]{8}", group.inputs["finalSnapshotIdentifier"]
    )
    assert group.inputs["nodeType"] == "cache.t4g.small"
    assert group.protect and group.retain_on_delete
    secret = prod.one("aws:secretsmanager/secret:Secret", "cache-auth")
    assert secret.protect


def test_dev_is_still_a_tls_replication_group_but_single_node_and_unprotected(dev):
    group = _group(dev)
    assert group.inputs["numCacheClusters"] == 1
    assert group.inputs["automaticFailoverEnabled"] is False
    assert group.inputs["multiAzEnabled"] is False
    assert group.inputs["transitEncryptionMode"] == "required"
    assert "authToken" in group.secret_inputs
    assert group.inputs["snapshotRetentionLimit"] == 1
    assert "finalSnapshotIdentifier" not in group.inputs
    assert not group.protect


def test_outputs_carry_no_secret_and_never_the_token(prod):
    token = _group(prod).inputs["authToken"]
    assert prod.outputs["authSecretArn"].startswith("arn:aws:secretsmanager:")
    assert prod.outputs["port"] == 6379
    assert not prod.secret_outputs
    assert token not in json.dumps(prod.outputs)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"multi_az": True, "num_cache_clusters": 1}, "multi_az needs"),
        ({"num_cache_clusters": 7}, "num_cache_clusters 7"),
        ({"node_type": "cache.t4g.smal"}, "did you mean cache.t4g.small"),
        ({"engine_version": "9.9"}, "not a known valkey version"),
        ({"engine": "memcached"}, "engine 'memcached'"),
        ({"name_prefix": "a-very-long-platform-prefix-for-tests"}, "replication group id"),
        ({"allowed_security_group_ids": {}}, "allowed_security_group_ids"),
    ],
)
def test_invalid_args_fail_before_anything_is_registered(changes, message):
    args = dataclasses.replace(DEV, **changes)
    with pytest.raises(ValueError, match=message):
        run_program(lambda: Cache("cache", args), stack="dev", config=CONFIG)
    assert not [r for r in mockengine.last_run.monitor.recorded if r.type != "pulumi:pulumi:Stack"]


def test_a_minor_engine_version_bump_keeps_the_parameter_group_as_it_is():
    """Description is force-new and the name is per family: neither may follow the minor."""

    def group(version: str):
        args = dataclasses.replace(DEV, engine_version=version)
        rec = run_program(_program(args), stack="test", config=CONFIG)
        (params,) = rec.of_type("aws:elasticache/parameterGroup:ParameterGroup")
        return {k: params.inputs[k] for k in ("name", "description", "family")}

    assert group("8.1") == group("8.2")
