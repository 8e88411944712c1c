"""Whole-stack properties for dev, uat and prod, asserted over every resource of a type.

The recordings come from running the committed Pulumi.<env>.yaml through the real program
under the mock engine (see tests/conftest.py).
"""

from __future__ import annotations

import json

from components.logs import LOG_RETENTION_DAYS
from infra.offline.mockengine import RecordedResource, Recording, urn_type

BUCKET = "aws:s3/bucket:Bucket"
REQUIRED_TAGS = {"project", "environment", "owner", "cost-center", "managed-by"}

# Resources that hold data (or keys to data) and must never be deleted by a routine change.
STATEFUL_TYPES = {
    BUCKET,
    "aws:kms/key:Key",
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:msk/cluster:Cluster",
}


def _children(recording: Recording, parent: RecordedResource, type_: str) -> list[RecordedResource]:
    return [r for r in recording.children_of(parent) if r.type == type_]


def _only_child(recording, parent, type_) -> RecordedResource:
    children = _children(recording, parent, type_)
    assert len(children) == 1, f"{parent.name}: expected one {type_}, found {len(children)}"
    return children[0]


def _is_log_bucket(bucket: RecordedResource) -> bool:
    return bucket.name.endswith("logs")


# -- providers, tags, structure ---------------------------------------------------------------
def test_every_aws_provider_sets_the_default_tags(recording, settings):
    providers = recording.of_type("pulumi:providers:aws")
    assert providers
    for provider in providers:
        tags = json.loads(provider.inputs["defaultTags"])["tags"]
        assert set(tags) >= REQUIRED_TAGS, provider.name
        assert tags["environment"] == settings.environment


def test_no_aws_or_kubernetes_resource_falls_back_to_a_default_provider(recording):
    """AWS resources need the tagged provider; in-cluster objects never use ambient kubeconfig."""
    explicit = {p.urn for p in recording.resources if p.type.startswith("pulumi:providers:")}
    for resource in recording.resources:
        package = resource.type.split(":")[0]
        if resource.custom and package in ("aws", "kubernetes"):
            provider_urn = resource.provider.rsplit("::", 1)[0]
            assert provider_urn in explicit, f"{resource.name} uses a default provider"
            provider_type = urn_type(provider_urn)
            assert provider_type == f"pulumi:providers:{package}", resource.name


def test_every_resource_belongs_to_a_component(recording):
    for resource in recording.resources:
        if resource.type.startswith("pulumi:providers:"):
            continue
        ancestors = [resource, *recording.ancestors(resource)]
        assert any(a.type.startswith("platform:") for a in ancestors), resource.name


# -- buckets ------------------------------------------------------------------------------------
def test_every_bucket_has_every_control(recording):
    buckets = recording.of_type(BUCKET)
    assert len(buckets) >= 3
    for bucket in buckets:
        block = _only_child(
            recording, bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
        )
        assert all(
            block.inputs[k] is True
            for k in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        ), bucket.name
        ownership = _only_child(
            recording, bucket, "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
        )
        assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        versioning = _only_child(recording, bucket, "aws:s3/bucketVersioning:BucketVersioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"

        policy = json.loads(
            _only_child(recording, bucket, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]
        )
        deny_http = [
            s
            for s in policy["Statement"]
            if s["Effect"] == "Deny"
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert deny_http and deny_http[0]["Action"] == "s3:*", bucket.name

        lifecycle = _only_child(
            recording, bucket, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        )
        rules = lifecycle.inputs["rules"]
        assert any(r.get("abortIncompleteMultipartUpload") for r in rules), bucket.name
        assert any(r.get("noncurrentVersionExpiration") for r in rules), bucket.name


def test_data_buckets_use_the_cmk_with_bucket_keys_and_log_buckets_use_sse_s3(recording):
    key_arns = {r.name: r for r in recording.of_type("aws:kms/key:Key")}
    assert key_arns
    for bucket in recording.of_type(BUCKET):
        sse = _only_child(
            recording,
            bucket,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        ).inputs["rules"][0]
        default = sse["applyServerSideEncryptionByDefault"]
        if _is_log_bucket(bucket):
            # S3 server access logging cannot write to SSE-KMS buckets.
            assert default["sseAlgorithm"] == "AES256"
        else:
            assert default["sseAlgorithm"] == "aws:kms", bucket.name
            assert default["kmsMasterKeyId"].startswith("arn:aws:kms:"), bucket.name
            assert sse["bucketKeyEnabled"] is True


def test_data_buckets_log_access_to_a_log_bucket_in_their_own_region(recording):
    buckets = recording.of_type(BUCKET)
    log_buckets = {b.inputs["bucket"]: b for b in buckets if _is_log_bucket(b)}
    for bucket in buckets:
        if _is_log_bucket(bucket):
            assert not _children(recording, bucket, "aws:s3/bucketLogging:BucketLogging")
            continue
        logging = _only_child(recording, bucket, "aws:s3/bucketLogging:BucketLogging")
        target = log_buckets[logging.inputs["targetBucket"]]
        assert target.provider == bucket.provider, f"{bucket.name} logs across regions"


def test_bucket_names_derive_from_the_stack(recording, settings):
    for bucket in recording.of_type(BUCKET):
        assert bucket.inputs["bucket"].startswith(f"{settings.name_prefix}-")
        assert len(bucket.inputs["bucket"]) <= 63


def test_replication_to_a_second_region_exactly_where_the_profile_asks(recording, settings):
    configs = recording.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    if not settings.replica_region:
        assert configs == []
        return
    data_buckets = [b for b in recording.of_type(BUCKET) if not _is_log_bucket(b)]
    sources = [b for b in data_buckets if not b.name.endswith("-replica")]
    assert len(configs) == len(sources) >= 2
    for config in configs:
        rule = config.inputs["rules"][0]
        assert rule["status"] == "Enabled"
        assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"].startswith(
            "arn:aws:kms:"
        )
        assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    replica_regions = {
        _provider_region(recording, b) for b in data_buckets if b.name.endswith("-replica")
    }
    assert replica_regions == {settings.replica_region}


def _provider_region(recording: Recording, resource: RecordedResource) -> str:
    provider_urn = resource.provider.rsplit("::", 1)[0]
    return next(
        p for p in recording.of_type("pulumi:providers:aws") if p.urn == provider_urn
    ).inputs["region"]


# -- logs and keys ------------------------------------------------------------------------------
def test_every_log_group_has_a_cmk_and_a_valid_retention(recording):
    groups = recording.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert groups
    for group in groups:
        assert group.inputs.get("kmsKeyId", "").startswith("arn:aws:kms:"), group.name
        assert group.inputs.get("retentionInDays") in LOG_RETENTION_DAYS, group.name


def test_every_kms_key_rotates_and_has_a_policy(recording):
    for key in recording.of_type("aws:kms/key:Key"):
        assert key.inputs["enableKeyRotation"] is True, key.name
        assert json.loads(key.inputs["policy"])["Statement"], key.name


# -- network ------------------------------------------------------------------------------------
def _subnets_by_tier(recording, prefix: str = "network-") -> dict[str, list[RecordedResource]]:
    """The stack's own VPC's subnets by tier (`prefix` "recovery-network-": the recovery
    site's, `""`: every VPC's)."""
    tiers: dict[str, list[RecordedResource]] = {}
    for subnet in recording.of_type("aws:ec2/subnet:Subnet"):
        if not subnet.name.startswith(prefix):
            continue
        tiers.setdefault(subnet.inputs["tags"]["tier"], []).append(subnet)
    return tiers


def test_subnet_tiers_route_as_designed_and_isolated_never_reaches_the_internet(
    recording, settings
):
    tiers = _subnets_by_tier(recording)
    assert {k: len(v) for k, v in tiers.items()} == dict.fromkeys(
        ("public", "private", "isolated"), settings.network.az_count
    )
    association_table = {
        a.inputs["subnetId"]: a.inputs["routeTableId"]
        for a in recording.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    }
    routes = recording.of_type("aws:ec2/route:Route")

    def targets(subnet) -> list[dict]:
        table = association_table[subnet.id]
        return [r.inputs for r in routes if r.inputs["routeTableId"] == table]

    for subnet in tiers["isolated"]:
        assert targets(subnet) == [], f"{subnet.name} must have no routes out of the VPC"
    for subnet in tiers["private"]:
        assert [bool(t.get("natGatewayId")) for t in targets(subnet)] == [True]
    for subnet in tiers["public"]:
        assert [t.get("gatewayId", "").startswith("igw-") for t in targets(subnet)] == [True]


def test_nat_gateways_single_outside_prod_and_one_per_az_in_prod(recording, settings):
    nats = recording.of_type("aws:ec2/natGateway:NatGateway")
    expected = settings.network.az_count if settings.environment == "prod" else 1
    assert len(nats) == expected


def test_no_subnet_hands_out_public_ips(recording):
    for subnet in recording.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_load_balancer_subnet_discovery_tags(recording):
    tiers = _subnets_by_tier(recording)
    assert all(s.inputs["tags"].get("kubernetes.io/role/elb") == "1" for s in tiers["public"])
    assert all(
        s.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1" for s in tiers["private"]
    )
    assert not any("kubernetes.io/role/elb" in s.inputs["tags"] for s in tiers["isolated"])


def test_default_security_group_is_stripped(recording):
    """In every VPC (prod also has the recovery site's in the replica region)."""
    vpcs = recording.of_type("aws:ec2/vpc:Vpc")
    groups = recording.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert {g.inputs["vpcId"] for g in groups} == {v.id for v in vpcs}
    for default_sg in groups:
        assert default_sg.inputs.get("ingress", []) == []
        assert default_sg.inputs.get("egress", []) == []


def test_vpc_flow_logs_capture_all_traffic(recording):
    vpcs = recording.of_type("aws:ec2/vpc:Vpc")
    flow_logs = recording.of_type("aws:ec2/flowLog:FlowLog")
    assert {f.inputs["vpcId"] for f in flow_logs} == {v.id for v in vpcs}
    for flow_log in flow_logs:
        assert flow_log.inputs["trafficType"] == "ALL"
        assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"


def test_data_subnet_groups_use_exactly_the_isolated_subnets(recording):
    """In every VPC of the stack (its own, and prod's recovery site in the replica region)."""
    by_network: dict[str, set[str]] = {}
    for subnet in _subnets_by_tier(recording, prefix="")["isolated"]:
        by_network.setdefault(subnet.parent, set()).add(subnet.id)
    assert by_network
    for type_ in ("aws:rds/subnetGroup:SubnetGroup", "aws:elasticache/subnetGroup:SubnetGroup"):
        groups = recording.of_type(type_)
        assert len(groups) == len(by_network)
        for group in groups:
            assert set(group.inputs["subnetIds"]) == by_network[group.parent]


def test_interface_endpoints_follow_the_profile(recording, settings):
    # The stack's own VPC (the recovery site in the replica region has its S3 endpoint too).
    endpoints = [
        e
        for e in recording.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.name.startswith("network-")
    ]
    gateway = [e for e in endpoints if e.inputs["vpcEndpointType"] == "Gateway"]
    interface = [e for e in endpoints if e.inputs["vpcEndpointType"] == "Interface"]
    assert [g.inputs["serviceName"] for g in gateway] == [f"com.amazonaws.{settings.region}.s3"]
    if settings.network.interface_endpoints:
        assert {e.inputs["serviceName"].rsplit(".", 2)[-1] for e in interface} >= {"sts", "logs"}
        assert all(e.inputs["privateDnsEnabled"] for e in interface)
    else:
        assert interface == []


# -- safety -------------------------------------------------------------------------------------
def test_prod_protects_every_stateful_resource_and_dev_stays_disposable(recording, settings):
    stateful = [r for r in recording.resources if r.type in STATEFUL_TYPES]
    assert stateful
    if settings.environment == "prod":
        unprotected = [r.name for r in stateful if not r.protect]
        assert unprotected == []
        assert all(r.retain_on_delete for r in stateful if r.type == BUCKET)
        assert not any(b.inputs.get("forceDestroy") for b in recording.of_type(BUCKET))
    elif settings.environment == "dev":
        assert not any(r.protect for r in stateful)


def test_replication_waits_for_versioning_at_both_ends(recording, settings):
    configs = recording.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    if not settings.replica_region:
        return
    versioning = {v.urn for v in recording.of_type("aws:s3/bucketVersioning:BucketVersioning")}
    assert configs
    for config in configs:
        assert len(versioning & set(config.dependencies)) == 2, config.name


def test_replica_region_key_policies_name_the_replica_region(recording, settings):
    """A key in the second region must let that region's services use it, not the primary's."""
    keys = recording.of_type("aws:kms/key:Key")
    for key in keys:
        region = _provider_region(recording, key)
        statements = json.loads(key.inputs["policy"])["Statement"]
        services = [
            service
            for statement in statements
            for service in statement.get("Condition", {})
            .get("StringEquals", {})
            .get("kms:ViaService", [])
        ] + [s["Principal"]["Service"] for s in statements if "Service" in s["Principal"]]
        assert services, key.name
        assert all(s.endswith(f".{region}.amazonaws.com") for s in services), (key.name, services)
    regions = {_provider_region(recording, key) for key in keys}
    expected = {settings.region, settings.replica_region} - {None}
    assert regions == expected


def test_every_service_role_trust_carries_the_confused_deputy_guard(recording):
    """Every role an AWS service assumes names this account as the source, except for the
    services that send no source account (iam.NO_SOURCE_ACCOUNT_CONTEXT)."""
    from components.iam import NO_SOURCE_ACCOUNT_CONTEXT
    from infra.offline.mockengine import ACCOUNT_ID

    service_roles = []
    for role in recording.of_type("aws:iam/role:Role"):
        for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
            service = statement["Principal"].get("Service")
            if not service:
                continue
            service_roles.append(service)
            condition = statement.get("Condition", {}).get("StringEquals", {})
            if service in NO_SOURCE_ACCOUNT_CONTEXT:
                assert "aws:SourceAccount" not in condition, role.name
            else:
                assert condition.get("aws:SourceAccount") == ACCOUNT_ID, (role.name, service)
    assert "monitoring.rds.amazonaws.com" in service_roles
    assert "ec2.amazonaws.com" in service_roles
