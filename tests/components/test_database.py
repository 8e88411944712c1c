"""Database: Aurora PostgreSQL in isolated subnets, CMK everywhere, TLS only, prod safety."""

from __future__ import annotations

import dataclasses
import json
import re

import pulumi
import pulumi_aws as aws
import pytest

from components.database import Database, DatabaseArgs
from infra.offline import mockengine
from infra.offline.mockengine import run_program

CONFIG = {"aws:region": "eu-west-1"}
DB_KEY = "arn:aws:kms:eu-west-1:123456789012:key/database"
LOGS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/logs"
BACKUP_KEY = "arn:aws:kms:eu-west-1:123456789012:key/backup"
REPLICA_KEY = "arn:aws:kms:eu-central-1:123456789012:key/backup-replica"
SOURCES = {"nodes": "sg-0nodes", "cluster": "sg-0cluster"}
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

BASE = DatabaseArgs(
    name_prefix="platform-test",
    vpc_id="vpc-0data",
    subnet_group_name="platform-test-isolated",
    allowed_security_group_ids=SOURCES,
    kms_key_arn=DB_KEY,
    logs_kms_key_arn=LOGS_KEY,
)
DEV = dataclasses.replace(
    BASE,
    serverless=True,
    min_capacity=0,
    max_capacity=2,
    seconds_until_auto_pause=600,
    backup_retention_days=1,
    deletion_protection=False,
    skip_final_snapshot=True,
)


def prod_args(replica: pulumi.ProviderResource) -> DatabaseArgs:
    return dataclasses.replace(
        BASE,
        serverless=False,
        instance_class="db.r7g.large",
        instance_count=3,
        availability_zones=ZONES,
        backup_retention_days=30,
        protect=True,
        backup_kms_key_arn=BACKUP_KEY,
        replica_provider=replica,
        replica_backup_kms_key_arn=REPLICA_KEY,
    )


def _prod_program() -> None:
    replica = aws.Provider("replica", region="eu-central-1")
    db = Database("db", prod_args(replica))
    pulumi.export("secretArn", db.master_secret_arn)
    pulumi.export("resourceId", db.cluster_resource_id)
    pulumi.export("endpoint", db.endpoint)
    pulumi.export("readerEndpoint", db.reader_endpoint)
    pulumi.export("port", db.port)
    pulumi.export("sg", db.security_group_id)
    pulumi.export("clusterArn", db.cluster_arn)


@pytest.fixture(scope="module")
def prod():
    return run_program(_prod_program, stack="prod", config=CONFIG)


@pytest.fixture(scope="module")
def dev():
    return run_program(lambda: Database("db", DEV), stack="dev", config=CONFIG)


def test_cluster_sits_in_the_given_subnets_behind_its_own_security_group(prod):
    cluster = prod.one("aws:rds/cluster:Cluster", "db-cluster").inputs
    sg = prod.one("aws:ec2/securityGroup:SecurityGroup", "db-sg")
    assert cluster["dbSubnetGroupName"] == "platform-test-isolated"
    assert cluster["vpcSecurityGroupIds"] == [prod.outputs["sg"]]
    assert sg.inputs["vpcId"] == "vpc-0data"
    for instance in prod.of_type("aws:rds/clusterInstance:ClusterInstance"):
        assert instance.inputs["dbSubnetGroupName"] == "platform-test-isolated"
        assert instance.inputs["publiclyAccessible"] is False


def test_ingress_only_from_the_given_groups_on_the_postgres_port(prod):
    sg = prod.one("aws:ec2/securityGroup:SecurityGroup", "db-sg")
    assert "ingress" not in sg.inputs and "egress" not in sg.inputs  # no inline rules
    rules = prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == sorted(SOURCES.values())
    for rule in rules:
        assert rule.inputs["securityGroupId"] == prod.outputs["sg"]
        assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (5432, 5432)
        assert rule.inputs["ipProtocol"] == "tcp"
        assert rule.inputs["description"]
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    assert not prod.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


def test_customer_managed_keys_for_storage_secret_insights_and_logs(prod):
    cluster = prod.one("aws:rds/cluster:Cluster", "db-cluster").inputs
    assert cluster["storageEncrypted"] is True
    assert cluster["kmsKeyId"] == DB_KEY
    assert cluster["manageMasterUserPassword"] is True
    assert cluster["masterUserSecretKmsKeyId"] == DB_KEY
    assert "masterPassword" not in cluster and "masterPasswordWo" not in cluster
    assert cluster["iamDatabaseAuthenticationEnabled"] is True
    for instance in prod.of_type("aws:rds/clusterInstance:ClusterInstance"):
        assert instance.inputs["performanceInsightsEnabled"] is True
        assert instance.inputs["performanceInsightsKmsKeyId"] == DB_KEY
    logs = prod.one("aws:cloudwatch/logGroup:LogGroup", "db-postgresql-logs").inputs
    assert logs["kmsKeyId"] == LOGS_KEY
    # The group RDS exports to, pre-created so it is encrypted and expires.
    assert logs["name"] == f"/aws/rds/cluster/{cluster['clusterIdentifier']}/postgresql"
    assert logs["retentionInDays"] == 30
    assert cluster["enabledCloudwatchLogsExports"] == ["postgresql"]


def test_parameter_group_forces_tls_and_logs_connections_and_ddl(prod):
    cluster = prod.one("aws:rds/cluster:Cluster", "db-cluster").inputs
    group = prod.one("aws:rds/clusterParameterGroup:ClusterParameterGroup", "db-params").inputs
    assert cluster["dbClusterParameterGroupName"] == group["name"]
    assert group["family"] == "aurora-postgresql" + cluster["engineVersion"].split(".")[0]
    params = {p["name"]: p["value"] for p in group["parameters"]}
    assert params["rds.force_ssl"] == "1"
    assert params["log_statement"] == "ddl"
    assert params["log_connections"] == "1"
    assert params["log_disconnections"] == "1"
    assert int(params["log_min_duration_statement"]) > 0


def test_engine_version_pinned_and_minor_drift_ignored(prod):
    cluster = prod.one("aws:rds/cluster:Cluster", "db-cluster")
    major, minor = cluster.inputs["engineVersion"].split(".")
    assert int(major) >= 16 and minor.isdigit()
    assert cluster.ignore_changes == ["engineVersion"]
    for instance in prod.of_type("aws:rds/clusterInstance:ClusterInstance"):
        assert instance.inputs["autoMinorVersionUpgrade"] is True


def test_prod_is_protected_retained_and_keeps_a_final_snapshot(prod):
    cluster = prod.one("aws:rds/cluster:Cluster", "db-cluster")
    assert cluster.protect and cluster.retain_on_delete
    assert cluster.inputs["deletionProtection"] is True
    assert cluster.inputs["skipFinalSnapshot"] is False
    assert re.fullmatch(
        r"platform-test-db-final-[0-9a-f]{8}", cluster.inputs["finalSnapshotIdentifier"]
    )
    assert cluster.inputs["deleteAutomatedBackups"] is False
    assert cluster.inputs["copyTagsToSnapshot"] is True
    assert cluster.inputs["backupRetentionPeriod"] == 30
    assert cluster.inputs["preferredBackupWindow"]
    instances = prod.of_type("aws:rds/clusterInstance:ClusterInstance")
    assert instances and all(i.protect and i.retain_on_delete for i in instances)


def test_prod_writer_and_readers_are_provisioned_across_zones(prod):
    instances = sorted(
        prod.of_type("aws:rds/clusterInstance:ClusterInstance"), key=lambda r: r.name
    )
    assert len(instances) == 3
    assert {i.inputs["instanceClass"] for i in instances} == {"db.r7g.large"}
    assert [i.inputs["availabilityZone"] for i in instances] == ZONES
    assert [i.inputs["promotionTier"] for i in instances] == [0, 1, 1]
    assert (
        "serverlessv2ScalingConfiguration"
        not in prod.one("aws:rds/cluster:Cluster", "db-cluster").inputs
    )


def test_enhanced_monitoring_uses_the_rds_monitoring_role(prod):
    role = prod.one("aws:iam/role:Role", "db-monitoring-role")
    assert "monitoring.rds.amazonaws.com" in role.inputs["assumeRolePolicy"]
    attachments = [
        a.inputs["policyArn"]
        for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("db-monitoring-")
    ]
    assert attachments == ["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"]
    role_arn = f"arn:aws:iam::{mockengine.ACCOUNT_ID}:role/"
    for instance in prod.of_type("aws:rds/clusterInstance:ClusterInstance"):
        assert instance.inputs["monitoringInterval"] > 0
        assert instance.inputs["monitoringRoleArn"].startswith(role_arn + "db-monitoring-role")


def test_prod_backup_plan_copies_to_a_vault_in_the_second_region(prod):
    vault = prod.one("aws:backup/vault:Vault", "db-backup-vault")
    replica = prod.one("aws:backup/vault:Vault", "db-backup-vault-replica")
    provider = prod.one("pulumi:providers:aws", "replica")
    assert vault.inputs["kmsKeyArn"] == BACKUP_KEY
    assert replica.inputs["kmsKeyArn"] == REPLICA_KEY
    assert replica.provider.startswith(provider.urn)  # created in the replica region
    assert not vault.provider.startswith(provider.urn)
    assert vault.protect and replica.protect

    rule, hourly = prod.one("aws:backup/plan:Plan", "db-backup-plan").inputs["rules"]
    # With a replica region, an hourly point copied there too (a region loss's RPO).
    assert hourly["ruleName"] == "hourly-copy" and hourly["schedule"] == "cron(0 * ? * * *)"
    assert hourly["targetVaultName"] == vault.inputs["name"]
    (hourly_copy,) = hourly["copyActions"]
    assert (
        hourly_copy["destinationVaultArn"].rsplit("/", 1)[1].startswith("db-backup-vault-replica-")
    )
    assert hourly_copy["lifecycle"]["deleteAfter"] == hourly["lifecycle"]["deleteAfter"] == 2
    assert rule["ruleName"] == "daily"
    assert rule["targetVaultName"] == vault.inputs["name"]
    assert rule["schedule"].startswith("cron(")
    assert rule["lifecycle"]["deleteAfter"] == 30
    (copy,) = rule["copyActions"]
    # Mocked ARNs end in the resource's own name: the copy goes to the replica vault.
    assert copy["destinationVaultArn"].rsplit("/", 1)[1].startswith("db-backup-vault-replica-")
    assert copy["lifecycle"]["deleteAfter"] == 30

    selection = prod.one("aws:backup/selection:Selection", "db-backup-selection").inputs
    assert selection["resources"] == [prod.outputs["clusterArn"]]
    backup_role = prod.one("aws:iam/role:Role", "db-backup-role")
    assert "backup.amazonaws.com" in backup_role.inputs["assumeRolePolicy"]
    assert selection["iamRoleArn"].startswith(
        f"arn:aws:iam::{mockengine.ACCOUNT_ID}:role/db-backup-role-"
    )
    policies = {
        a.inputs["policyArn"].rsplit("/", 1)[1]
        for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("db-backup-")
    }
    assert policies == {
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
    }


def test_outputs_expose_connection_details_not_secrets(prod):
    out = prod.outputs
    assert out["secretArn"].startswith("arn:aws:secretsmanager:eu-west-1:")
    assert out["resourceId"].startswith("cluster-")
    assert out["endpoint"] != out["readerEndpoint"]
    assert out["port"] == 5432
    assert not prod.secret_outputs


def test_dev_is_serverless_v2_scaling_to_zero_and_disposable(dev):
    cluster = dev.one("aws:rds/cluster:Cluster", "db-cluster")
    scaling = cluster.inputs["serverlessv2ScalingConfiguration"]
    assert scaling == {"minCapacity": 0, "maxCapacity": 2, "secondsUntilAutoPause": 600}
    assert cluster.inputs["engineMode"] == "provisioned"
    (instance,) = dev.of_type("aws:rds/clusterInstance:ClusterInstance")
    assert instance.inputs["instanceClass"] == "db.serverless"
    assert cluster.inputs["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in cluster.inputs
    assert cluster.inputs["deletionProtection"] is False
    assert cluster.inputs["backupRetentionPeriod"] == 1
    assert not cluster.protect and not instance.protect
    assert not dev.of_type("aws:backup/plan:Plan")
    # Still TLS-only and encrypted in dev.
    assert cluster.inputs["storageEncrypted"] is True and cluster.inputs["kmsKeyId"] == DB_KEY


def _registered_aws_resources() -> list[str]:
    monitor = mockengine.last_run.monitor
    return [r.type for r in monitor.recorded if r.type.startswith(("aws:", "platform:"))]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"min_capacity": 8, "max_capacity": 4, "seconds_until_auto_pause": None},
            "min_capacity 8 is greater than max_capacity 4",
        ),
        ({"min_capacity": 1, "seconds_until_auto_pause": 600}, "needs min_capacity 0"),
        ({"max_capacity": 300}, "max_capacity 300"),
        ({"min_capacity": 0.25}, "steps of 0.5"),
        ({"engine_version": "17.10"}, "unknown aurora-postgresql version"),
        ({"serverless": False, "instance_class": "db.r7g.lage"}, "did you mean db.r7g.large"),
        ({"serverless": False, "instance_class": "r7g.large"}, "must start with 'db.'"),
        ({"performance_insights_retention_days": 30}, "multiple of 31"),
        ({"protect": True, "skip_final_snapshot": True}, "skip_final_snapshot"),
        ({"backup_retention_days": 40}, "backup_retention_days 40"),
        ({"instance_count": 0}, "instance_count 0"),
        ({"allowed_security_group_ids": {}}, "allowed_security_group_ids"),
        ({"name_prefix": "Platform_Prod"}, "cluster identifier"),
        ({"proxy": True, "proxy_subnet_ids": ["a", "b"]}, "never pause"),
    ],
)
def test_invalid_args_fail_before_anything_is_registered(changes, message):
    args = dataclasses.replace(DEV, **changes)
    with pytest.raises(ValueError, match=message):
        run_program(lambda: Database("db", args), stack="dev", config=CONFIG)
    assert _registered_aws_resources() == []


def test_replica_provider_without_a_replica_key_is_rejected():
    def program() -> None:
        replica = aws.Provider("replica", region="eu-central-1")
        args = dataclasses.replace(prod_args(replica), replica_backup_kms_key_arn=None)
        Database("db", args)

    with pytest.raises(ValueError, match="replica_backup_kms_key_arn"):
        run_program(program, stack="prod", config=CONFIG)


PROXY_SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]


@pytest.fixture(scope="module")
def proxied():
    def program() -> None:
        replica = aws.Provider("replica", region="eu-central-1")
        args = dataclasses.replace(
            prod_args(replica),
            proxy=True,
            proxy_subnet_ids=PROXY_SUBNETS,
            proxy_logins=["shop_api", "billing"],
        )
        db = Database("db", args)
        pulumi.export("proxyEndpoint", db.proxy_endpoint)
        pulumi.export("proxyResourceId", db.proxy_resource_id)
        pulumi.export("resourceId", db.cluster_resource_id)

    return run_program(program, stack="prod", config=CONFIG)


def test_the_proxy_authenticates_with_iam_both_ways_and_requires_tls(proxied):
    proxy = proxied.one("aws:rds/proxy:Proxy", "db-proxy").inputs
    assert proxy["defaultAuthScheme"] == "IAM_AUTH" and "auths" not in proxy
    assert proxy["requireTls"] is True and proxy["debugLogging"] is False
    assert proxy["vpcSubnetIds"] == PROXY_SUBNETS
    assert proxy["name"] == "platform-test-db-proxy"
    assert proxied.outputs["proxyResourceId"].startswith("prx-")
    assert ".proxy-" in proxied.outputs["proxyEndpoint"]


def test_the_proxy_role_may_log_in_as_exactly_the_application_logins(proxied):
    role = proxied.one("aws:iam/role:Role", "db-proxy-role")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "rds.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    policy = json.loads(
        proxied.one("aws:iam/rolePolicy:RolePolicy", "db-proxy-connect").inputs["policy"]
    )
    (statement,) = policy["Statement"]
    prefix = "arn:aws:rds-db:eu-west-1:123456789012:dbuser"
    resource_id = proxied.outputs["resourceId"]
    assert statement["Resource"] == [
        f"{prefix}:{resource_id}/billing",
        f"{prefix}:{resource_id}/shop_api",
    ]


def test_the_proxy_reaches_only_the_database_and_is_reached_only_from_the_sources(proxied):
    group = proxied.one("aws:ec2/securityGroup:SecurityGroup", "db-proxy-sg")
    db_group = proxied.one("aws:ec2/securityGroup:SecurityGroup", "db-sg")
    rules = proxied.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    into_proxy = [r.inputs for r in rules if r.inputs["securityGroupId"] == group.id]
    assert {r["referencedSecurityGroupId"] for r in into_proxy} == set(SOURCES.values())
    into_db = [r.inputs for r in rules if r.inputs["securityGroupId"] == db_group.id]
    assert {r["referencedSecurityGroupId"] for r in into_db} == {*SOURCES.values(), group.id}
    (egress,) = proxied.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert egress.inputs["securityGroupId"] == group.id
    assert egress.inputs["referencedSecurityGroupId"] == db_group.id
    assert egress.inputs["fromPort"] == egress.inputs["toPort"] == 5432


def test_the_proxy_targets_the_cluster_once_its_instances_exist(proxied):
    target = proxied.one("aws:rds/proxyTarget:ProxyTarget", "db-proxy-cluster")
    assert target.inputs["dbClusterIdentifier"] == "platform-test-db"
    for instance in proxied.of_type("aws:rds/clusterInstance:ClusterInstance"):
        assert instance.urn in target.dependencies
    log_group = proxied.one("aws:cloudwatch/logGroup:LogGroup", "db-proxy-logs")
    assert log_group.inputs["name"] == "/aws/rds/proxy/platform-test-db-proxy"
    assert log_group.inputs["kmsKeyId"] == LOGS_KEY
