"""Classes of operator mistakes (issue 15), one table per class: each case is refused through
`make plan` (exit 2) and the program (nothing registered), naming every key involved. The
rule behind each class lives in the component that owns the fact; these tables are its
documentation of what it refuses."""

from __future__ import annotations

import pytest

from infra.config.load import from_pulumi
from infra.config.reading import read_stack_config
from infra.offline.mockengine import run_program
from tests.config_cases import assert_accepted, assert_refused
from tests.helpers import minimum

ADMIN = ["arn:aws:iam::123456789012:role/admin"]
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"
SERVICE = {
    "name": "api",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api",
    "tags": {"blue": "1.4.2", "green": "1.4.2"},
    "certificateArn": CERT,
}


def cluster(**fields) -> dict:
    return {"platform:cluster": {**minimum("dev")["platform:cluster"], **fields}}


def service(**fields) -> dict:
    return {"platform:services": [{**SERVICE, **fields}]}


def _ids(table):
    return [f"{stack}:{expected[0][0].split(':', 1)[-1]}" for stack, _, expected in table]


def _run(tmp_path, capsys, case):
    stack, config, expected = case
    assert_refused(tmp_path, capsys, stack, config, expected)


# 1. YAML changed the value's type: refused ("quote it"), never converted back.
YAML_TYPES = [
    ("dev", service(tags={"blue": "1.4.2", "green": 1.10}),
     [("platform:services[0].tags.green", "the number 1.1")]),
    ("dev", service(tags={"blue": True, "green": "1.4.2"}),
     [("platform:services[0].tags.blue", "a boolean")]),
    ("dev", cluster(version=1.35), [("platform:cluster.version", "quote it")]),
    ("dev", {"platform:database": {"engineVersion": 17.5}},
     [("platform:database.engineVersion", "the number 17.5")]),
    ("dev", {"platform:app": {"deployBranches": [1.10]}},
     [("platform:app.deployBranches[0]", "quote it")]),
    ("dev", cluster(nodeGroups={"general": {"labels": {"spot": True}}}),
     [("platform:cluster.nodeGroups.general.labels.spot", "a boolean")]),
    ("dev", service(trafficSplit=True), [("platform:services[0].trafficSplit", "a boolean")]),
    ("dev", {"platform:app": {"replicas": "3"}}, [("platform:app.replicas", "remove the quotes")]),
    # Multi-line folding puts a space inside an identifier.
    ("dev", service(certificateArn=CERT.replace("abc-123", "abc 123")),
     [("platform:services[0].certificateArn", "")]),
]  # fmt: skip


@pytest.mark.parametrize("case", YAML_TYPES, ids=_ids(YAML_TYPES))
def test_values_yaml_turned_into_another_type(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


def test_a_top_level_scalar_is_the_text_written(tmp_path, capsys):
    """Pulumi hands a top-level value to the program as the stack file's text, so
    `platform:owner: 1.10` is the owner "1.10" in both entry points, never refused in one and
    accepted in the other."""
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  platform:owner: 1.10\n"
    )
    assert read_stack_config("dev", tmp_path)["platform:owner"] == "1.10"
    assert_accepted(tmp_path, capsys, "dev", {"platform:owner": "1.10"})
    seen = []
    run_program(lambda: seen.append(from_pulumi().owner), stack="dev",
                config={**minimum("dev"), "platform:owner": "1.10"})  # fmt: skip
    assert seen == ["1.10"]


# 3. Keys outside `platform:` or in the wrong place.
NAMESPACES = [
    ("dev", {"platfrom:observability": {}}, [("platfrom:observability", "platform:observability")]),
    ("dev", {"awz:region": "eu-west-1"}, [("awz:region", "did you mean aws:region")]),
    ("dev", {"observability": {}}, [("observability", "without a namespace")]),
    ("dev", {"bootstrap:repository": "acme/platform"},
     [("bootstrap:repository", "namespaces read here")]),
    ("dev", {"platform:observability": {"slackWebhookUrl": "x"}},
     [("platform:observability.slackWebhookUrl", "belongs at platform:slackWebhookUrl")]),
    ("dev", {"platform:replicas": 3}, [("platform:replicas", "belongs at platform:app.replicas")]),
    ("dev", {"platform:region": "eu-west-1"}, [("platform:region", "belongs at aws:region")]),
    ("dev", {"platform:environment": "prod"}, [("platform:environment", "platform:profile")]),
    ("dev", {"platform:app": {"replica": 3}},
     [("platform:app.replica", "did you mean 'replicas'")]),
]  # fmt: skip


@pytest.mark.parametrize("case", NAMESPACES, ids=_ids(NAMESPACES))
def test_keys_in_unknown_namespaces_or_the_wrong_section(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


# 4. The same forbidden value in another spelling.
SPELLINGS = [
    ("dev", {"platform:observability": {"prometheusRetention": "0d"}},
     [("platform:observability.prometheusRetention", "is zero")]),
    ("dev", {"platform:observability": {"prometheusRetention": "0w0h"}},
     [("platform:observability.prometheusRetention", "is zero")]),
    ("dev", {"platform:observability": {"prometheusRetention": "3D"}},
     [("platform:observability.prometheusRetention", "units are lowercase: '3d'")]),
    ("dev", {"platform:observability": {"prometheusRetention": "1M"}},
     [("platform:observability.prometheusRetention", "no months")]),
    ("dev", service(tags={"blue": "Latest", "green": "1.4.2"}),
     [("platform:services[0].tags.blue", "'latest' is not allowed")]),
    ("dev", cluster(publicAccessCidrs=["0.0.0.0/1", "128.0.0.0/1"]),
     [("platform:cluster.publicAccessCidrs", "together 0.0.0.0/0")]),
]  # fmt: skip


@pytest.mark.parametrize("case", SPELLINGS, ids=_ids(SPELLINGS))
def test_the_same_forbidden_value_in_another_spelling(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


# 5. Keys that only make sense together (capacity).
PRIVATE_CIDR = "10.20.0.0/16"
TOGETHER = [
    ("dev", {"platform:observability": {"prometheusRetention": "365d"}},
     [("platform:observability.prometheusRetention", "prometheusStorageGib"),
      ("platform:observability.prometheusStorageGib", "more than the 8 GiB usable")]),
    ("uat", {"platform:observability": {"logRetentionDays": 365}},
     [("platform:observability.logRetentionDays",
       "platform:observability.elasticsearchStorageGib")]),
    ("dev", service(resources={"memoryRequest": "4Gi", "memoryLimit": "4Gi"}),
     [("platform:services[0].resources", "platform:cluster.nodeGroups.general")]),
    ("dev", service(resources={"cpuRequest": "2", "cpuLimit": "2"}),
     [("platform:services[0].resources", "cpu request 2 is more than")]),
    ("dev", {"platform:cache": {"nodeType": "cache.r6gd.xlarge"}},
     [("platform:cache", "needs dataTiering: true")]),
    ("dev", {"platform:cache": {"nodeType": "cache.r7g.large", "dataTiering": True}},
     [("platform:cache", "dataTiering: true needs an r6gd nodeType")]),
    # Pods per node: the node agents fill a small node's max pods (ENIs x (IPs - 1) + 2).
    ("dev", cluster(nodeGroups={"general": {"instanceTypes": ["t3.micro"]}}),
     [("platform:cluster.nodeGroups.general.instanceTypes", "a t3.micro node takes 4 pods"),
      ("platform:observability.level", "no room for any other pod")]),
    ("dev", cluster(nodeGroups={"general": {"instanceTypes": ["t3a.medium", "t3.nano"]}}),
     [("platform:cluster.nodeGroups.general.instanceTypes", "a t3.nano node takes 4 pods")]),
    ("dev", cluster(controllerReplicas=2, nodeGroups={"general": {
        "instanceTypes": ["t3.small"], "minSize": 1, "desiredSize": 1, "maxSize": 1}}),
     [("platform:cluster.controllerReplicas", "fewer than the 8 the cluster's own Deployments"),
      ("platform:cluster.nodeGroups.general.maxSize", "hold 6 pods beyond the 5 node agents"),
      ("platform:cluster.nodeGroups.general.instanceTypes", "raise maxSize")]),
    # Aurora classes: the sizes and families Aurora PostgreSQL offers (not EC2's list).
    ("dev", {"platform:database": {"mode": "provisioned", "instanceClass": "db.t3.small"}},
     [("platform:database.instanceClass", "offers db.t3 only as db.t3.medium, db.t3.large")]),
    ("dev", {"platform:database": {"mode": "provisioned", "instanceClass": "db.t4g.micro"}},
     [("platform:database.instanceClass", "offers db.t4g only as")]),
    ("dev", {"platform:database": {"mode": "provisioned", "instanceClass": "db.t3.xlarge"}},
     [("platform:database.instanceClass", "db.t3.medium, db.t3.large")]),
    ("dev", {"platform:database": {"mode": "provisioned", "instanceClass": "db.r6gd.large"}},
     [("platform:database.instanceClass", "offers db.r6gd only as db.r6gd.xlarge")]),
    ("dev", {"platform:database": {"mode": "provisioned", "instanceClass": "db.r7gd.large"}},
     [("platform:database.instanceClass", "r7gd")]),
    # Partitions per broker: (300 x 2 + 50 x 2) / 2 brokers = 350 > kafka.t3.small's 300.
    ("dev", service(topics=[{"name": "orders", "partitions": 300}]),
     [("platform:services[].topics", "about 350 partition replicas on each of 2"),
      ("platform:streaming.brokerInstanceType", "more than the 300 MSK allows"),
      ("platform:streaming.brokerCount", "kafka.t3.small brokers")]),
    ("dev", service(topics=[{"name": f"t{i}", "partitions": 100} for i in range(3)]),
     [("platform:services[].topics", "about 350 partition replicas")]),
]  # fmt: skip


@pytest.mark.parametrize("case", TOGETHER, ids=_ids(TOGETHER))
def test_keys_that_only_make_sense_together(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


def test_partitions_between_aws_recommendation_and_maximum_are_a_warning(tmp_path, capsys):
    # (1000 x 3 + 50 x 3) / 3 = 1050 per kafka.m7g.large broker: above the 1000 AWS
    # recommends, below the 1500 that still allows updates.
    config = service(topics=[{"name": "orders", "partitions": 1000}])
    assert_accepted(tmp_path, capsys, "prod", config)
    out = capsys.readouterr()
    assert "about 1050 partition replicas" in out.out + out.err
    assert "more than the 1000 AWS recommends" in out.out + out.err


def test_the_partition_load_at_the_limit_is_accepted(tmp_path, capsys):
    # (250 x 2 + 50 x 2) / 2 = 300: exactly kafka.t3.small's maximum.
    assert_accepted(tmp_path, capsys, "dev", service(topics=[{"name": "o", "partitions": 250}]))
    out = capsys.readouterr()
    assert "partition replicas" not in out.out + out.err


def test_prod_zones_and_node_group_size_bound_the_replicas_that_must_sit_apart(tmp_path, capsys):
    monitoring = {"monitoring": {"maxSize": 2, "minSize": 2, "desiredSize": 2}}
    config = {"platform:cluster": {**minimum("prod")["platform:cluster"], "nodeGroups": monitoring}}
    assert_refused(tmp_path, capsys, "prod", config, [
        ("platform:observability.level", "platform:cluster.nodeGroups.monitoring.maxSize"),
        ("platform:observability.level", "Elasticsearch: 3 replicas must sit on different nodes"),
    ])  # fmt: skip


# 7. Patterns that can never match.
PATTERNS = [
    ("dev", {"platform:app": {"deployBranches": ["^main$"]}},
     [("platform:app.deployBranches", "looks like a regular expression")]),
    ("dev", {"platform:app": {"deployBranches": ["release/.*"]}},
     [("platform:app.deployBranches", "did you mean 'release/*'")]),
    ("dev", {"platform:app": {"deployBranches": ["release/[0-9]*"]}},
     [("platform:app.deployBranches", "characters git never allows")]),
    ("dev", {"platform:app": {"deployBranches": ["feature x"]}},
     [("platform:app.deployBranches", "characters git never allows")]),
    ("dev", {"platform:app": {"deployBranches": ["main/"]}},
     [("platform:app.deployBranches", "cannot be a branch name")]),
    ("dev", {"platform:app": {"deployBranches": ["main", "main"]}},
     [("platform:app.deployBranches", "each pattern once")]),
]  # fmt: skip


@pytest.mark.parametrize("case", PATTERNS, ids=_ids(PATTERNS))
def test_patterns_that_can_never_match(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


# 8. Addresses that are valid but not what was meant.
ADDRESSES = [
    ("dev", cluster(publicAccessCidrs=["198.51.100.7"]),
     [("platform:cluster.publicAccessCidrs", "write 198.51.100.7/32")]),
    ("dev", cluster(publicAccessCidrs=["198.51.100.7/24"]),
     [("platform:cluster.publicAccessCidrs", "host bits set: it means 198.51.100.0/24")]),
    ("dev", cluster(publicAccessCidrs=["10.0.0.0/8"]),
     [("platform:cluster.publicAccessCidrs", "private or reserved range")]),
    ("dev", cluster(publicAccessCidrs=["198.51.100.0/24", "198.51.100.0/24"]),
     [("platform:cluster.publicAccessCidrs", "listed twice")]),
    ("dev", cluster(publicAccessCidrs=["198.51.100.0/24", "198.51.100.0/25"]),
     [("platform:cluster.publicAccessCidrs", "inside 198.51.100.0/24")]),
    ("dev", cluster(privateAccessCidrs=["10.10.0.0/16"]),
     [("platform:cluster.privateAccessCidrs", "the VPC's own range"),
      ("platform:cluster.privateAccessCidrs", "platform:network.cidr")]),
    ("dev", cluster(privateAccessCidrs=["10.10.4.0/24"]),
     [("platform:cluster.privateAccessCidrs", "inside the VPC")]),
    ("dev", cluster(privateAccessCidrs=["8.8.8.0/24"]),
     [("platform:cluster.privateAccessCidrs", "is a public range")]),
    ("dev", cluster(adminRoleArns=ADMIN * 2),
     [("platform:cluster.adminRoleArns", "each role once")]),
]  # fmt: skip


@pytest.mark.parametrize("case", ADDRESSES, ids=_ids(ADDRESSES))
def test_addresses_that_are_valid_but_not_what_was_meant(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


def test_a_documentation_range_is_a_warning_to_replace_it_not_an_error(tmp_path, capsys):
    assert_accepted(tmp_path, capsys, "dev", cluster(publicAccessCidrs=["203.0.113.0/24"]))


# 9. Safety that hangs on the wrong key.
SAFETY = [
    ("prod", {"platform:profile": "dev"}, [("platform:profile", "protected environment 'prod'")]),
    ("prod-eu", {"platform:profile": "uat"}, [("platform:profile", "a name that does not start")]),
    ("prod", {"platform:storage": {"replicaRegion": "cn-north-1"}},
     [("platform:storage.replicaRegion", "cannot cross partitions")]),
    ("prod", {"platform:storage": {"replicaRegion": "us-gov-west-1"}},
     [("platform:storage.replicaRegion", "partition aws-us-gov")]),
    ("prod", {"platform:storage": {"replicaRegion": "eu-west-1"}},
     [("platform:storage.replicaRegion", "the stack's own region (aws:region)")]),
]  # fmt: skip


@pytest.mark.parametrize("case", SAFETY, ids=_ids(SAFETY))
def test_safety_follows_the_stack_not_a_key_that_can_be_changed(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


# 10. Units: what Kubernetes accepts but no operator means.
UNITS = [
    ("dev", service(resources={"memoryRequest": "512m", "memoryLimit": "1Gi"}),
     [("platform:services[0].resources.memoryRequest", "milli-units")]),
    ("dev", service(resources={"memoryRequest": "256", "memoryLimit": "1Gi"}),
     [("platform:services[0].resources.memoryRequest", "256 bytes")]),
    ("dev", service(resources={"cpuRequest": "1Ki", "cpuLimit": "2Ki"}),
     [("platform:services[0].resources.cpuRequest", "binary units"),
      ("platform:services[0].resources.cpuLimit", "binary units")]),
    ("dev", service(resources={"cpuRequest": "0.0005", "cpuLimit": "1"}),
     [("platform:services[0].resources.cpuRequest", "finer than a millicore")]),
    ("dev", service(resources={"cpuRequest": "500mi", "cpuLimit": "1"}),
     [("platform:services[0].resources.cpuRequest", "not a positive Kubernetes quantity")]),
    ("dev", service(resources={"memoryRequest": "1Gi", "memoryLimit": "512Mi"}),
     [("platform:services[0].resources.memoryRequest and "
       "platform:services[0].resources.memoryLimit",
       "above its limit")]),
]  # fmt: skip


@pytest.mark.parametrize("case", UNITS, ids=_ids(UNITS))
def test_quantities_kubernetes_accepts_but_nobody_means(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


@pytest.mark.parametrize(
    "quantities",
    [
        {"cpuRequest": "0.25", "cpuLimit": "1", "memoryRequest": "129e6", "memoryLimit": "1Gi"},
        {
            "cpuRequest": ".5",
            "cpuLimit": "1.5",
            "memoryRequest": "128974848",
            "memoryLimit": "123Mi",
        },
        {"cpuRequest": 1, "cpuLimit": 1, "memoryRequest": "256M", "memoryLimit": "1G"},
    ],
    ids=["fraction-exponent", "leading-dot-bytes", "numbers-decimal-si"],
)
def test_every_spelling_kubernetes_documents_is_accepted(quantities, tmp_path, capsys):
    assert_accepted(tmp_path, capsys, "dev", service(resources=quantities))


# 11. Opt-outs outside their scope.
OPT_OUTS = [
    ("dev", service(public=True, certificateArn=None, allowPlainHttp=True),
     [("platform:services[0].allowPlainHttp", "internal ALB only")]),
    ("uat", service(certificateArn=None, allowPlainHttp=True),
     [("platform:services[0].allowPlainHttp", "dev-only opt-out")]),
    ("dev", cluster(publicAccessCidrs=["0.0.0.0/0"]),
     [("platform:cluster.publicAccessCidrs", "allowPublicAccessFromAnywhere")]),
]  # fmt: skip


@pytest.mark.parametrize("case", OPT_OUTS, ids=_ids(OPT_OUTS))
def test_opt_outs_outside_their_scope(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


# 12. Conflicts name every key, a field rule its field.
CONFLICTS = [
    ("dev", {"platform:streaming": {"zoneCount": 3, "brokerCount": 3}},
     [("platform:streaming.zoneCount", "platform:network.azCount")]),
    ("dev", {"platform:storage": {"forceDestroy": True}, "platform:protect": True},
     [("platform:storage.forceDestroy", "platform:protect")]),
    ("dev", {"platform:observability": {"uiDomain": "ops.example.com"}},
     [("platform:observability.uiDomain", "platform:observability.uiCertificateArn")]),
    ("dev", {"platform:database": {"crossRegionBackup": True}},
     [("platform:database.crossRegionBackup", "platform:storage.replication")]),
    ("dev", {"platform:observability": {"nodeGroup": "monitoring"}},
     [("platform:observability.nodeGroup", "platform:cluster.nodeGroups")]),
    ("dev", {"platform:database": {"proxy": True}}, [("platform:database.proxy", "minCapacity 0")]),
]  # fmt: skip


@pytest.mark.parametrize("case", CONFLICTS, ids=_ids(CONFLICTS))
def test_conflicts_name_every_key_involved(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)


# 14. Overrides of what the profile does not have.
MISSING_ENTRIES = [
    ("dev", cluster(nodeGroups={"workload": {"minSize": 3}}),
     [("platform:cluster.nodeGroups.workload",
       "no entry 'workload' in the dev profile (it has: general)"),
      ("platform:cluster.nodeGroups.workload",
       "give it instanceTypes, capacityType, maxSize, desiredSize")]),
    ("uat", cluster(nodeGroups={"general": {"maxSize": 5}}),
     [("platform:cluster.nodeGroups.general", "it has: system")]),
    ("prod", {"platform:cluster": {**minimum("prod")["platform:cluster"],
                                   "nodeGroups": {"monitor": {"taints": []}}}},
     [("platform:cluster.nodeGroups.monitor", "it has: system, monitoring")]),
]  # fmt: skip


@pytest.mark.parametrize("case", MISSING_ENTRIES, ids=_ids(MISSING_ENTRIES))
def test_an_override_of_what_the_profile_does_not_have_says_so(case, tmp_path, capsys):
    _run(tmp_path, capsys, case)
