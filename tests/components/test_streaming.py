"""Streaming: MSK with SASL/IAM, TLS only, CMK at rest, sane broker defaults, storage scaling."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from components.streaming import (
    DEFAULT_STORAGE_TARGET_UTILIZATION,
    Streaming,
    StreamingArgs,
    server_properties,
)
from infra.offline import mockengine
from infra.offline.mockengine import run_program

CONFIG = {"aws:region": "eu-west-1"}
MSK_KEY = "arn:aws:kms:eu-west-1:123456789012:key/streaming"
LOGS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/logs"
SOURCES = {"nodes": "sg-0nodes", "cluster": "sg-0cluster"}
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]
CA = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/abc"

PROD = StreamingArgs(
    name_prefix="platform-test",
    vpc_id="vpc-0data",
    subnet_ids=SUBNETS,
    allowed_security_group_ids=SOURCES,
    kms_key_arn=MSK_KEY,
    logs_kms_key_arn=LOGS_KEY,
    broker_count=3,
    instance_type="kafka.m7g.large",
    volume_size_gib=100,
    max_volume_size_gib=1000,
    enhanced_monitoring="PER_BROKER",
    protect=True,
)
DEV = dataclasses.replace(
    PROD,
    subnet_ids=SUBNETS[:2],
    broker_count=2,
    instance_type="kafka.t3.small",
    volume_size_gib=10,
    max_volume_size_gib=50,
    enhanced_monitoring="DEFAULT",
    protect=False,
)


def _program(args: StreamingArgs):
    def program() -> None:
        msk = Streaming("kafka", args)
        pulumi.export("arn", msk.cluster_arn)
        pulumi.export("name", msk.cluster_name)
        pulumi.export("uuid", msk.cluster_uuid)
        pulumi.export("brokers", msk.bootstrap_brokers)
        pulumi.export("sg", msk.security_group_id)

    return program


@pytest.fixture(scope="module")
def prod():
    return run_program(_program(PROD), stack="prod", config=CONFIG)


def _cluster(rec):
    return rec.one("aws:msk/cluster:Cluster", "kafka-cluster")


def _properties(rec) -> dict[str, str]:
    text = rec.one("aws:msk/configuration:Configuration", "kafka-config").inputs["serverProperties"]
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_brokers_sit_in_the_given_subnets_behind_their_own_security_group(prod):
    nodes = _cluster(prod).inputs["brokerNodeGroupInfo"]
    assert nodes["clientSubnets"] == SUBNETS
    assert nodes["securityGroups"] == [prod.outputs["sg"]]
    assert nodes["instanceType"] == "kafka.m7g.large"
    sg = prod.one("aws:ec2/securityGroup:SecurityGroup", "kafka-sg").inputs
    assert sg["vpcId"] == "vpc-0data"
    assert "ingress" not in sg and "egress" not in sg
    assert _cluster(prod).inputs["numberOfBrokerNodes"] == 3


def test_ingress_only_from_the_given_groups_on_the_sasl_iam_port(prod):
    rules = prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == sorted(SOURCES.values())
    for rule in rules:
        assert rule.inputs["securityGroupId"] == prod.outputs["sg"]
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (9098, 9098)
        assert rule.inputs["description"]
        assert "cidrIpv4" not in rule.inputs


def test_iam_authentication_only_and_tls_everywhere(prod):
    cluster = _cluster(prod).inputs
    auth = cluster["clientAuthentication"]
    assert auth["sasl"] == {"iam": True, "scram": False}
    assert auth["unauthenticated"] is False
    assert "tls" not in auth  # certificate auth stays off unless configured
    transit = cluster["encryptionInfo"]["encryptionInTransit"]
    assert transit == {"clientBroker": "TLS", "inCluster": True}


def test_encrypted_at_rest_and_broker_logs_encrypted(prod):
    cluster = _cluster(prod).inputs
    assert cluster["encryptionInfo"]["encryptionAtRestKmsKeyArn"] == MSK_KEY
    logs = prod.one("aws:cloudwatch/logGroup:LogGroup", "kafka-broker-logs").inputs
    cloudwatch = cluster["loggingInfo"]["brokerLogs"]["cloudwatchLogs"]
    assert cloudwatch == {"enabled": True, "logGroup": logs["name"]}
    assert logs["kmsKeyId"] == LOGS_KEY
    assert logs["retentionInDays"] == 30


def test_configuration_pins_version_and_sets_durable_defaults(prod):
    cluster = _cluster(prod).inputs
    config = prod.one("aws:msk/configuration:Configuration", "kafka-config").inputs
    assert cluster["kafkaVersion"] == "3.8.x"
    assert config["kafkaVersions"] == ["3.8.x"]
    assert cluster["configurationInfo"]["arn"].rsplit("/", 1)[1].startswith("kafka-config-")
    props = _properties(prod)
    assert props["auto.create.topics.enable"] == "false"
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["unclean.leader.election.enable"] == "false"
    assert cluster["enhancedMonitoring"] == "PER_BROKER"


@pytest.mark.parametrize(
    ("brokers", "replication", "min_isr"), [(2, "2", "1"), (3, "3", "2"), (6, "3", "2")]
)
def test_replication_defaults_follow_the_broker_count(brokers, replication, min_isr):
    props = dict(line.split("=", 1) for line in server_properties(brokers).splitlines())
    assert props["default.replication.factor"] == replication
    assert props["min.insync.replicas"] == min_isr


def test_storage_autoscaling_grows_volumes_and_pulumi_ignores_the_growth(prod):
    cluster = _cluster(prod)
    ebs = cluster.inputs["brokerNodeGroupInfo"]["storageInfo"]["ebsStorageInfo"]
    assert ebs["volumeSize"] == 100
    assert cluster.ignore_changes == ["brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize"]
    target = prod.one("aws:appautoscaling/target:Target", "kafka-storage").inputs
    assert target["resourceId"] == prod.outputs["arn"]
    assert target["scalableDimension"] == "kafka:broker-storage:VolumeSize"
    assert target["maxCapacity"] == 1000
    policy = prod.one("aws:appautoscaling/policy:Policy", "kafka-storage").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"] == {
        "predefinedMetricType": "KafkaBrokerStorageUtilization"
    }
    assert tracking["targetValue"] == DEFAULT_STORAGE_TARGET_UTILIZATION == 70
    assert tracking["disableScaleIn"] is True
    assert policy["resourceId"] == prod.outputs["arn"]


def test_prod_is_protected_and_retained(prod):
    cluster = _cluster(prod)
    assert cluster.protect and cluster.retain_on_delete


def test_outputs(prod):
    out = prod.outputs
    assert out["name"] == "platform-test-kafka"
    assert out["uuid"]
    assert all(b.endswith(":9098") for b in out["brokers"].split(","))
    assert not prod.secret_outputs


def test_dev_two_small_brokers_unprotected():
    rec = run_program(_program(DEV), stack="dev", config=CONFIG)
    cluster = _cluster(rec)
    assert cluster.inputs["numberOfBrokerNodes"] == 2
    assert cluster.inputs["brokerNodeGroupInfo"]["instanceType"] == "kafka.t3.small"
    assert not cluster.protect
    props = _properties(rec)
    assert (props["default.replication.factor"], props["min.insync.replicas"]) == ("2", "1")


def test_mutual_tls_only_when_a_ca_is_configured():
    rec = run_program(
        _program(dataclasses.replace(DEV, tls_certificate_authority_arns=[CA])),
        stack="dev",
        config=CONFIG,
    )
    auth = _cluster(rec).inputs["clientAuthentication"]
    assert auth["tls"] == {"certificateAuthorityArns": [CA]}
    assert auth["unauthenticated"] is False
    ports = {
        r.inputs["fromPort"]
        for r in rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    }
    assert ports == {9098, 9094}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"broker_count": 4}, "broker_count 4 is not a multiple of the 3 zones"),
        ({"broker_count": 2}, "broker_count 2 is not a multiple"),
        ({"subnet_ids": SUBNETS[:1], "broker_count": 1}, "MSK needs 2 or 3"),
        ({"max_volume_size_gib": 50}, "volume sizes"),
        ({"storage_target_utilization": 90}, "storage_target_utilization 90"),
        ({"enhanced_monitoring": "VERBOSE"}, "enhanced_monitoring"),
        ({"instance_type": "kafka.m7g.larg"}, "did you mean kafka.m7g.large"),
        ({"kafka_version": "2.8.1"}, "unknown Kafka version"),
    ],
)
def test_invalid_args_fail_before_anything_is_registered(changes, message):
    args = dataclasses.replace(PROD, **changes)
    with pytest.raises(ValueError, match=message):
        run_program(lambda: Streaming("kafka", args), stack="prod", config=CONFIG)
    assert not [r for r in mockengine.last_run.monitor.recorded if r.type != "pulumi:pulumi:Stack"]
