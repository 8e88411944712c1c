"""Whole-stack data-tier properties (Aurora, ElastiCache, MSK) for dev, uat and prod.

Asserted over every data store the committed Pulumi.<env>.yaml registers (tests/conftest.py);
expected values come from the validated settings.
"""

from __future__ import annotations

import json
import re

from pulumi.runtime import MockResourceArgs

from components.database.tls import ca_bundle_url, rds_bundle_url
from components.streaming import SASL_IAM_PORT
from infra.offline.mockengine import PlatformMocks, RecordedResource, Recording
from tests.helpers import strings_in

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
MSK = "aws:msk/cluster:Cluster"
RDS_PROXY = "aws:rds/proxy:Proxy"
STORES = (RDS_CLUSTER, CACHE, MSK)
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


# -- helpers ----------------------------------------------------------------------------------
def _one(recording: Recording, type_: str) -> RecordedResource:
    resources = recording.of_type(type_)
    assert len(resources) == 1, f"expected one {type_}, found {len(resources)}"
    return resources[0]


def _stores(recording: Recording) -> list[RecordedResource]:
    stores = [r for r in recording.resources if r.type in STORES]
    assert {s.type for s in stores} == set(STORES)
    return stores


def _key_arn(recording: Recording, domain: str) -> str:
    arn = recording.outputs["kmsKeyArns"][domain]
    assert arn.startswith("arn:aws:kms:") and ":key/" in arn  # a CMK, not an AWS alias
    return arn


def _isolated_subnet_ids(recording: Recording) -> set[str]:
    """The stack's own VPC's isolated tier (not the replica region's recovery site)."""
    subnets = [
        s for s in recording.of_type("aws:ec2/subnet:Subnet") if s.name.startswith("network-")
    ]
    isolated = {s.id for s in subnets if s.inputs["tags"]["tier"] == "isolated"}
    assert isolated
    return isolated


def _log_group(recording: Recording, name: str) -> RecordedResource:
    groups = [g for g in recording.of_type(LOG_GROUP) if g.inputs["name"] == name]
    assert len(groups) == 1, f"no log group {name} created by the program"
    return groups[0]


def _cluster_security_groups(recording: Recording, settings) -> set[str]:
    """The EKS cluster and node security group ids, as the (mock) cloud assigned them.

    pulumi-eks registers no children under mocks; the deterministic mocks that ran the
    program reproduce the remote component's outputs from its type and name.
    """
    cluster = _one(recording, "eks:index:Cluster")
    _, outputs = PlatformMocks(settings.region).new_resource(
        MockResourceArgs(cluster.type, cluster.name, cluster.inputs, custom=cluster.custom)
    )
    ids = {outputs["clusterSecurityGroupId"], outputs["nodeSecurityGroupId"]}
    # Cross-check: the node launch templates carry the node security group.
    templates = recording.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert templates
    for template in templates:
        for interface in template.inputs["networkInterfaces"]:
            assert set(interface["securityGroups"]) <= ids
    return ids


def _store_security_groups(store: RecordedResource) -> list[str]:
    inputs = store.inputs
    if store.type in (RDS_CLUSTER, RDS_PROXY):
        return inputs["vpcSecurityGroupIds"]
    if store.type == CACHE:
        return inputs["securityGroupIds"]
    return inputs["brokerNodeGroupInfo"]["securityGroups"]


def _store_ports(store: RecordedResource) -> set[int]:
    if store.type == MSK:
        return {SASL_IAM_PORT}  # SASL/IAM only: no mTLS, no plaintext listener configured
    if store.type == RDS_PROXY:
        return {5432}  # a PostgreSQL-family proxy listens on the engine's port
    return {store.inputs["port"]}


def _cache_auth_token(recording: Recording) -> str:
    """The RandomPassword result, as ElastiCache receives it."""
    password = recording.one(RANDOM_PASSWORD, "cache-auth-token")
    group = _one(recording, CACHE)
    assert password.urn in group.dependencies
    token = group.inputs["authToken"]
    assert isinstance(token, str) and len(token) >= 16
    return token


def _secret_values(recording: Recording) -> set[str]:
    """Every string the program hands any resource as a secret input, plus the auth token."""
    values = {_cache_auth_token(recording)}
    for resource in recording.resources:
        for key in resource.secret_inputs:
            values.update(s for s in strings_in(resource.inputs[key]) if len(s) >= 8)
    return values


# -- placement --------------------------------------------------------------------------------
def test_every_store_is_in_exactly_the_isolated_subnets(recording):
    isolated = _isolated_subnet_ids(recording)
    groups = {
        "aws:rds/subnetGroup:SubnetGroup": RDS_CLUSTER,
        "aws:elasticache/subnetGroup:SubnetGroup": CACHE,
    }
    for group_type, store_type in groups.items():
        (group,) = [g for g in recording.of_type(group_type) if g.name.startswith("network-")]
        assert set(group.inputs["subnetIds"]) == isolated
        store = _one(recording, store_type)
        key = "dbSubnetGroupName" if store_type == RDS_CLUSTER else "subnetGroupName"
        assert store.inputs[key] == group.inputs["name"]
    for instance in recording.of_type(RDS_INSTANCE):
        assert (
            instance.inputs["dbSubnetGroupName"]
            == _one(recording, RDS_CLUSTER).inputs["dbSubnetGroupName"]
        )
        assert instance.inputs["publiclyAccessible"] is False
    msk = _one(recording, MSK)
    assert set(msk.inputs["brokerNodeGroupInfo"]["clientSubnets"]) == isolated


# -- encryption at rest -----------------------------------------------------------------------
def test_aurora_storage_master_secret_and_performance_insights_use_the_database_cmk(recording):
    key = _key_arn(recording, "database")
    cluster = _one(recording, RDS_CLUSTER).inputs
    assert cluster["storageEncrypted"] is True
    assert cluster.get("kmsKeyId") == key
    # RDS generates the master password into Secrets Manager; none is in config or state.
    assert cluster["manageMasterUserPassword"] is True
    assert "masterPassword" not in cluster
    assert cluster.get("masterUserSecretKmsKeyId") == key
    instances = recording.of_type(RDS_INSTANCE)
    assert instances
    for instance in instances:
        assert instance.inputs["performanceInsightsEnabled"] is True
        assert instance.inputs.get("performanceInsightsKmsKeyId") == key


def test_cache_at_rest_and_its_auth_secret_use_the_cache_cmk(recording):
    key = _key_arn(recording, "cache")
    group = _one(recording, CACHE).inputs
    assert group["atRestEncryptionEnabled"] is True
    assert group.get("kmsKeyId") == key
    secrets = recording.of_type("aws:secretsmanager/secret:Secret")
    assert secrets
    assert all(s.inputs.get("kmsKeyId") == key for s in secrets)


def test_msk_at_rest_uses_the_streaming_cmk(recording):
    encryption = _one(recording, MSK).inputs["encryptionInfo"]
    assert encryption["encryptionAtRestKmsKeyArn"] == _key_arn(recording, "streaming")


def test_every_store_log_group_exists_with_the_logs_cmk_and_retention(recording, settings):
    logs_key = _key_arn(recording, "logs")
    cluster = _one(recording, RDS_CLUSTER).inputs
    expected = {
        # RDS exports here; created by the program so it is encrypted and expires.
        f"/aws/rds/cluster/{cluster['clusterIdentifier']}/postgresql": (
            settings.database.log_retention_days
        ),
        _one(recording, MSK).inputs["loggingInfo"]["brokerLogs"]["cloudwatchLogs"][
            "logGroup"
        ]: settings.streaming.log_retention_days,
    }
    assert cluster["enabledCloudwatchLogsExports"] == ["postgresql"]
    deliveries = _one(recording, CACHE).inputs["logDeliveryConfigurations"]
    assert {d["logType"] for d in deliveries} == {"slow-log", "engine-log"}
    for delivery in deliveries:
        assert delivery["destinationType"] == "cloudwatch-logs"
        expected[delivery["destination"]] = settings.cache.log_retention_days
    for name, retention in expected.items():
        group = _log_group(recording, name).inputs
        assert group.get("kmsKeyId") == logs_key, name
        assert group["retentionInDays"] == retention, name


# -- encryption in transit and authentication -------------------------------------------------
def test_aurora_forces_tls_through_its_cluster_parameter_group(recording):
    cluster = _one(recording, RDS_CLUSTER).inputs
    (group,) = [
        g
        for g in recording.of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup")
        if g.inputs["name"] == cluster["dbClusterParameterGroupName"]
    ]
    parameters = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert parameters["rds.force_ssl"] == "1"
    assert group.inputs["family"] == f"aurora-postgresql{cluster['engineVersion'].split('.')[0]}"
    assert cluster["iamDatabaseAuthenticationEnabled"] is True


def test_cache_requires_tls_and_an_auth_token_passed_as_a_secret(recording):
    group = _one(recording, CACHE)
    assert group.inputs["transitEncryptionEnabled"] is True
    assert group.inputs["transitEncryptionMode"] == "required"
    assert _cache_auth_token(recording)
    assert "authToken" in group.secret_inputs


def test_msk_is_tls_only_with_sasl_iam_and_no_unauthenticated_access(recording):
    inputs = _one(recording, MSK).inputs
    transit = inputs["encryptionInfo"]["encryptionInTransit"]
    assert transit["clientBroker"] == "TLS"
    assert transit["inCluster"] is True
    auth = inputs["clientAuthentication"]
    assert auth["unauthenticated"] is False
    assert auth["sasl"]["iam"] is True
    assert not auth["sasl"].get("scram")


# -- network access ---------------------------------------------------------------------------
def test_store_security_groups_admit_only_the_cluster_on_the_store_port(recording, settings):
    """Every store (and the RDS Proxy in front of Aurora) admits the cluster's groups only;
    Aurora additionally admits the proxy, which itself admits the cluster only."""
    cluster_groups = _cluster_security_groups(recording, settings)
    rules = recording.of_type(INGRESS_RULE)
    groups = {g.id: g for g in recording.of_type("aws:ec2/securityGroup:SecurityGroup")}
    proxies = recording.of_type(RDS_PROXY)
    assert bool(proxies) == settings.database.proxy
    proxy_groups = {g for p in proxies for g in p.inputs["vpcSecurityGroupIds"]}
    for store in [*_stores(recording), *proxies]:
        store_groups = _store_security_groups(store)
        assert store_groups, store.name
        allowed = cluster_groups | (proxy_groups if store.type == RDS_CLUSTER else set())
        for group_id in store_groups:
            group = groups[group_id]
            # Inline rules would bypass the checks below (and fight the rule resources).
            assert not group.inputs.get("ingress"), store.name
            own = [r for r in rules if r.inputs["securityGroupId"] == group_id]
            assert {r.inputs.get("referencedSecurityGroupId") for r in own} == allowed
            for rule in own:
                inputs = rule.inputs
                assert inputs.get("referencedSecurityGroupId") in allowed, rule.name
                for source in ("cidrIpv4", "cidrIpv6", "prefixListId"):
                    assert not inputs.get(source), f"{rule.name} admits {source}"
                assert inputs["ipProtocol"] == "tcp", rule.name
                assert inputs["fromPort"] == inputs["toPort"], rule.name
                assert inputs["fromPort"] in _store_ports(store), rule.name
                assert inputs.get("description", "").strip(), rule.name
    legacy = recording.of_type("aws:ec2/securityGroupRule:SecurityGroupRule")
    store_group_ids = {g for s in _stores(recording) for g in _store_security_groups(s)}
    assert not [r for r in legacy if r.inputs.get("securityGroupId") in store_group_ids]


# -- availability -----------------------------------------------------------------------------
def test_prod_is_multi_az_for_every_store(recording, settings):
    instances = recording.of_type(RDS_INSTANCE)
    assert len(instances) == 1 + settings.database.reader_count
    cache = _one(recording, CACHE).inputs
    assert cache["multiAzEnabled"] is settings.cache.multi_az
    assert cache["numCacheClusters"] == settings.cache.num_cache_clusters
    msk = _one(recording, MSK).inputs
    brokers = msk["numberOfBrokerNodes"]
    assert brokers == settings.streaming.broker_count
    assert brokers % len(msk["brokerNodeGroupInfo"]["clientSubnets"]) == 0
    if settings.environment != "prod":
        return
    writer = [i for i in instances if i.inputs["promotionTier"] == 0]
    readers = [i for i in instances if i.inputs["promotionTier"] != 0]
    assert len(writer) == 1 and readers
    zones = [i.inputs["availabilityZone"] for i in instances]
    assert all(zones) and len(set(zones)) == len(zones), zones
    assert cache["multiAzEnabled"] is True
    assert cache["automaticFailoverEnabled"] is True
    assert cache["numCacheClusters"] >= 2
    assert brokers % settings.network.az_count == 0
    assert len(msk["brokerNodeGroupInfo"]["clientSubnets"]) == settings.network.az_count


# -- safety -----------------------------------------------------------------------------------
def test_prod_protects_and_retains_every_store_and_instance(recording, settings):
    stateful = [*_stores(recording), *recording.of_type(RDS_INSTANCE)]
    if settings.environment == "prod":
        for resource in stateful:
            assert resource.protect and resource.retain_on_delete, resource.name
    elif settings.environment == "dev":
        assert not any(r.protect for r in stateful)


def test_deletion_protection_and_final_snapshots(recording, settings):
    cluster = _one(recording, RDS_CLUSTER).inputs
    cache = _one(recording, CACHE).inputs
    # Deletion protection follows the environment's protection: uat must stay destroyable.
    assert cluster["deletionProtection"] is settings.protect
    # Only dev is disposable: every other environment snapshots its cache on deletion.
    assert bool(cache.get("finalSnapshotIdentifier")) == (settings.environment != "dev")
    if settings.environment == "dev" and settings.database.skip_final_snapshot:
        assert cluster["skipFinalSnapshot"] is True
        return
    assert cluster["skipFinalSnapshot"] is False
    assert cluster.get("finalSnapshotIdentifier")
    if settings.environment == "prod":
        assert cluster["deleteAutomatedBackups"] is False


def test_final_snapshot_names_are_unique_per_lifetime_of_the_store(recording):
    """A fixed `<id>-final` collides on the second destroy; a random part born with the store
    (a RandomId child of the same component, regenerated when the store is recreated) does not.
    """
    stores = [_one(recording, RDS_CLUSTER), _one(recording, CACHE)]
    for store in stores:
        snapshot = store.inputs.get("finalSnapshotIdentifier")
        if not snapshot:
            continue
        (random_id,) = [
            r
            for r in recording.of_type("random:index/randomId:RandomId")
            if r.parent == store.parent
        ]
        assert random_id.urn in store.dependencies, store.name
        identifier = store.inputs.get("clusterIdentifier") or store.inputs["replicationGroupId"]
        assert snapshot.startswith(f"{identifier}-final-"), snapshot
        suffix = snapshot.removeprefix(f"{identifier}-final-")
        assert re.fullmatch(r"[0-9a-f]{8}", suffix), snapshot
        assert random_id.inputs["keepers"] == {"identifier": identifier}


def test_backup_retention_follows_settings(recording, settings):
    assert (
        _one(recording, RDS_CLUSTER).inputs["backupRetentionPeriod"]
        == settings.database.backup_retention_days
    )
    assert (
        _one(recording, CACHE).inputs["snapshotRetentionLimit"]
        == settings.cache.snapshot_retention_days
    )


def _provider_region(recording: Recording, resource: RecordedResource) -> str:
    provider_urn = resource.provider.rsplit("::", 1)[0]
    return recording.by_urn()[provider_urn].inputs["region"]


def test_prod_backup_plan_copies_to_a_vault_in_the_second_region(recording, settings):
    plans = recording.of_type("aws:backup/plan:Plan")
    # The AWS Backup plan comes with protection (prod); dev and uat rely on RDS backups.
    assert len(plans) == int(settings.protect)
    if settings.environment != "prod":
        return
    assert settings.replica_region and settings.database.cross_region_backup
    (plan,) = plans
    rule = next(r for r in plan.inputs["rules"] if r["ruleName"] == "daily")
    assert rule["lifecycle"]["deleteAfter"] == settings.database.backup_retention_days
    copies = rule.get("copyActions") or []
    assert len(copies) == 1, "prod backups must be copied to the second region"
    (copy,) = copies
    assert copy["lifecycle"]["deleteAfter"] == settings.database.backup_retention_days
    vaults = recording.of_type("aws:backup/vault:Vault")
    (target,) = [v for v in vaults if v.id in copy["destinationVaultArn"]]
    assert target.urn in plan.dependencies
    assert _provider_region(recording, target) == settings.replica_region
    assert _provider_region(recording, target) != settings.region
    (primary,) = [v for v in vaults if v.inputs["name"] == rule["targetVaultName"]]
    assert _provider_region(recording, primary) == settings.region
    # The plan backs up the Aurora cluster.
    cluster = _one(recording, RDS_CLUSTER)
    (selection,) = recording.of_type("aws:backup/selection:Selection")
    assert cluster.urn in selection.dependencies
    assert any(r.endswith(f"/{cluster.id}") for r in selection.inputs["resources"])


def test_engine_versions_follow_settings(recording, settings):
    cluster = _one(recording, RDS_CLUSTER).inputs
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["engineVersion"] == settings.database.engine_version
    cache = _one(recording, CACHE).inputs
    assert cache["engine"] == settings.cache.engine
    assert cache["engineVersion"] == settings.cache.engine_version
    assert _one(recording, MSK).inputs["kafkaVersion"] == settings.streaming.kafka_version


# -- secrets ----------------------------------------------------------------------------------
def test_no_secret_value_in_any_config_map(recording):
    secrets = _secret_values(recording)
    config_maps = recording.of_type("kubernetes:core/v1:ConfigMap")
    assert config_maps
    for config_map in config_maps:
        for key, value in config_map.inputs.get("data", {}).items():
            assert not any(secret in str(value) for secret in secrets), f"{config_map.name}.{key}"
            upper = key.upper()
            if any(word in upper for word in ("PASSWORD", "TOKEN", "SECRET")):
                assert upper.endswith("_ARN"), f"{config_map.name}.{key} looks like a secret"


def test_the_cache_auth_token_is_only_ever_a_secret_input(recording):
    token = _cache_auth_token(recording)
    holders = []
    for resource in recording.resources:
        for key, value in resource.inputs.items():
            if any(token in s for s in strings_in(value)):
                holders.append(resource.name)
                assert key in resource.secret_inputs, f"{resource.name}.{key} holds it in plain"
    # ElastiCache and the Secrets Manager secret version, nothing else.
    assert sorted(holders) == ["cache-auth", "cache-group"]


def test_no_secret_value_in_an_unmarked_stack_output(recording):
    secrets = _secret_values(recording)
    assert recording.outputs
    for key, value in recording.outputs.items():
        if key in recording.secret_outputs:
            continue
        text = json.dumps(value)
        assert not any(secret in text for secret in secrets), f"output {key} leaks a secret"


def test_application_roles_name_every_resource_they_touch(recording):
    policies = [
        p
        for p in recording.of_type("aws:iam/rolePolicy:RolePolicy")
        if recording.by_urn()[p.parent].type == "platform:app_access:ApplicationAccess"
    ]
    assert len(policies) == len(recording.of_type("platform:app_access:ApplicationAccess")) >= 1
    for policy in policies:
        statements = json.loads(policy.inputs["policy"])["Statement"]
        assert statements
        for statement in statements:
            resources = statement["Resource"]
            resources = [resources] if isinstance(resources, str) else resources
            assert resources, policy.name
            for resource in resources:
                assert resource != "*" and resource.startswith("arn:"), (policy.name, resource)
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            assert not any(a == "*" or a.endswith(":*") for a in actions), policy.name


def test_adding_an_az_to_the_vpc_leaves_the_msk_brokers_where_they_are():
    """clientSubnets is force-new: a VPC growing from 2 to 3 AZs must not move the brokers."""
    from infra.config import read_stack_config
    from infra.offline.run import plan

    config = read_stack_config("uat")
    grown = {**config, "platform:network": {"azCount": 3}}
    before = plan("uat", config)[1].one("aws:msk/cluster:Cluster", "streaming-cluster")
    after = plan("uat", grown)[1].one("aws:msk/cluster:Cluster", "streaming-cluster")
    subnets = before.inputs["brokerNodeGroupInfo"]["clientSubnets"]
    assert len(subnets) == 2
    assert after.inputs["brokerNodeGroupInfo"]["clientSubnets"] == subnets


# -- what an application gets -----------------------------------------------------------------
def _master_secret_arn(recording: Recording) -> str:
    arn = recording.outputs["database"]["masterSecretArn"]
    assert arn.startswith("arn:aws:secretsmanager:")
    return arn


def test_only_the_login_bootstrap_may_read_the_database_master_secret(recording):
    """Applications use IAM database auth; the master password is the administrators'."""
    secret = _master_secret_arn(recording)
    index = recording.by_urn()
    readers = [
        index[policy.parent].type
        for policy in recording.of_type("aws:iam/rolePolicy:RolePolicy")
        if secret in policy.inputs["policy"]
    ]
    assert readers == ["platform:database:DatabaseLogins"]
    for config_map in recording.of_type("kubernetes:core/v1:ConfigMap"):
        assert secret not in json.dumps(config_map.inputs), config_map.name


def test_every_service_gets_a_login_from_the_bootstrap_before_its_pods_start(recording, settings):
    (job,) = [j for j in recording.of_type("kubernetes:batch/v1:Job") if "logins" in j.name]
    (scripts,) = [
        c
        for c in recording.of_type("kubernetes:core/v1:ConfigMap")
        if "logins.sql" in c.inputs["data"]
    ]
    sql = scripts.inputs["data"]["logins.sql"]
    for service in settings.services:
        login = service.name.replace("-", "_")
        assert f'CREATE ROLE "{login}" LOGIN;' in sql
        assert f'GRANT rds_iam TO "{login}";' in sql
    # The Job connects to the writer itself (the proxy takes IAM logins only).
    env = {
        e["name"]: e.get("value")
        for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["DB_HOST"] == recording.outputs["database"]["endpoint"]
    # ...so the RDS bundle is the CA that verifies it (the proxy's would be Amazon's roots).
    (init,) = job.inputs["spec"]["template"]["spec"]["initContainers"]
    fetch = " ".join(init["command"] + init.get("args", []))
    assert rds_bundle_url("$AWS_REGION") in fetch
    assert "amazontrust" not in fetch
    deployments = recording.of_type("kubernetes:apps/v1:Deployment")
    assert deployments
    for deployment in deployments:
        chain = [deployment, *recording.ancestors(deployment)]
        waits_for = {urn for r in chain for urn in r.dependencies}
        assert {job.urn, job.parent} & waits_for, deployment.name


def test_the_proxy_pools_connections_where_the_profile_asks_with_iam_and_tls_only(
    recording, settings
):
    proxies = recording.of_type(RDS_PROXY)
    assert len(proxies) == int(settings.database.proxy)
    for proxy in proxies:
        inputs = proxy.inputs
        assert inputs["defaultAuthScheme"] == "IAM_AUTH" and not inputs.get("auths")
        assert inputs["requireTls"] is True
        assert inputs["engineFamily"] == "POSTGRESQL"
        assert set(inputs["vpcSubnetIds"]) == _isolated_subnet_ids(recording)
        _log_group(recording, f"/aws/rds/proxy/{inputs['name']}")
        (target,) = recording.of_type("aws:rds/proxyTarget:ProxyTarget")
        cluster = _one(recording, RDS_CLUSTER)
        assert target.inputs["dbClusterIdentifier"] == cluster.inputs["clusterIdentifier"]
        for instance in recording.of_type(RDS_INSTANCE):
            assert instance.urn in target.dependencies
    data = [c.inputs["data"] for c in recording.of_type("kubernetes:core/v1:ConfigMap")]
    app_data = [d for d in data if "DB_HOST" in d]
    assert app_data
    expected = (
        recording.outputs["database"].get("proxyEndpoint")
        or recording.outputs["database"]["endpoint"]
    )
    region = settings.region
    for entry in app_data:
        assert entry["DB_HOST"] == expected
        assert entry["DB_READER_HOST"] == recording.outputs["database"]["readerEndpoint"]
        # The CA that verifies each endpoint: Amazon's roots for the proxy, RDS's otherwise.
        assert entry["DB_CA_BUNDLE_URL"] == ca_bundle_url(region, proxy=bool(proxies))
        assert entry["DB_READER_CA_BUNDLE_URL"] == rds_bundle_url(region)
    assert ca_bundle_url(region, proxy=True) != rds_bundle_url(region)


def test_every_declared_topic_exists_retained_and_only_its_owner_may_use_it(recording, settings):
    topics = {t.inputs["name"]: t for t in recording.of_type("aws:msk/topic:Topic")}
    declared = {t.name: s for s in settings.services for t in s.topics}
    assert declared and set(topics) == set(declared)
    msk = _one(recording, MSK)
    for name, topic in topics.items():
        assert topic.retain_on_delete, name  # removing a service never drops its messages
        assert topic.protect is settings.protect
        assert topic.inputs["replicationFactor"] <= msk.inputs["numberOfBrokerNodes"]
    policies = {
        recording.by_urn()[p.parent].name: json.loads(p.inputs["policy"])
        for p in recording.of_type("aws:iam/rolePolicy:RolePolicy")
        if recording.by_urn()[p.parent].type == "platform:app_access:ApplicationAccess"
    }
    for service in settings.services:
        statements = policies[f"{service.name}-access"]["Statement"]
        topic_resources = [
            r for s in statements if "kafka-cluster:WriteData" in s["Action"] for r in s["Resource"]
        ]
        assert sorted(r.rsplit("/", 1)[1] for r in topic_resources) == sorted(
            t.name for t in service.topics
        )


def test_a_region_loss_loses_at_most_about_an_hour(recording, settings):
    """The brief's RPO < 1 h for a region loss: with a replica region, an hourly recovery
    point is copied there (kept two days) beside the daily one (kept the retention)."""
    plans = recording.of_type("aws:backup/plan:Plan")
    if not settings.database.cross_region_backup:
        assert all(len(p.inputs["rules"]) == 1 for p in plans)
        return
    (plan,) = plans
    rules = {r["ruleName"]: r for r in plan.inputs["rules"]}
    assert set(rules) == {"daily", "hourly-copy"}
    hourly = rules["hourly-copy"]
    assert hourly["schedule"] == "cron(0 * ? * * *)"
    assert hourly["completionWindow"] <= 120  # copied within the next hour or two
    (copy,) = hourly["copyActions"]
    (daily_copy,) = rules["daily"]["copyActions"]
    assert copy["destinationVaultArn"] == daily_copy["destinationVaultArn"]
    assert f":{settings.replica_region}:" in copy["destinationVaultArn"]
    assert copy["lifecycle"]["deleteAfter"] == hourly["lifecycle"]["deleteAfter"] == 2
    assert rules["daily"]["lifecycle"]["deleteAfter"] == settings.database.backup_retention_days
