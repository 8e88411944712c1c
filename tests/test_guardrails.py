"""The guardrails (infra/guardrails/rules.py): every rule on a violating and a compliant
stack, every committed stack clean, and the CrossGuard pack running the very same rules."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from infra.guardrails import RULES, Resource, Stack, Violation, evaluate, from_recording
from infra.guardrails import pack as guardrails_pack
from infra.guardrails import rules as guardrail_rules
from infra.offline import plan
from tests.conftest import planned

PROVIDER_URN = "urn:pulumi:prod::platform::pulumi:providers:aws::aws"
TAGS = {t: "x" for t in ("project", "owner", "cost-center", "managed-by", "stack")}


def provider(environment: str = "prod", **tags) -> Resource:
    default = {"tags": {**TAGS, "environment": environment, **tags}}
    return Resource(
        "pulumi:providers:aws", "aws", PROVIDER_URN, {"defaultTags": json.dumps(default)}
    )


def aws(type_: str, name: str, props: dict, **fields) -> Resource:
    return Resource(type_, name, f"urn:{type_}::{name}", props, provider_urn=PROVIDER_URN,
                    **fields)  # fmt: skip


def subnet(name: str, tier: str) -> Resource:
    return aws("aws:ec2/subnet:Subnet", name, {"tags": {"tier": tier}})


KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"
ISOLATED, PRIVATE = subnet("isolated-0", "isolated"), subnet("private-0", "private")
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
MSK = {"encryptionInfo": {"encryptionAtRestKmsKeyArn": KEY}}
POD = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}}
HARDENED = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}}  # fmt: skip


def _sse(bucket: str, algorithm: str, key: str | None = None) -> Resource:
    default = {"sseAlgorithm": algorithm, **({"kmsMasterKeyId": key} if key else {})}
    return aws(SSE, f"{bucket}-sse", {"bucket": bucket, "rules": [
        {"applyServerSideEncryptionByDefault": default}]})  # fmt: skip


# -- the rules' condition tables -----------------------------------------------------------------
# One table per rule, in the order of RULES: what the rule accepts (one compliant resource of
# every type it covers) and, per condition it checks, the smallest stack that breaks only that
# condition with the exact messages it must produce. Dropping or loosening any one condition
# in rules.py makes its row fail; a rule added without a table fails `test_every_rule_has_a_table`.
# This is the documentation of what each guardrail refuses.
@dataclass(frozen=True)
class Table:
    compliant: list[Resource]
    refuses: dict[str, tuple[list[Resource], list[str]]]  # condition -> (stack, messages)


def without(props: dict, *keys: str) -> dict:
    return {k: v for k, v in props.items() if k not in keys}


RDS = {"storageEncrypted": True, "kmsKeyId": KEY}
REDIS = {"atRestEncryptionEnabled": True, "kmsKeyId": KEY}
EKS = {"encryptionConfigKeyArn": KEY, "endpointPublicAccess": False}
EBS = {"encrypted": "true", "kmsKeyId": KEY}
GP3 = {"provisioner": "ebs.csi.aws.com", "parameters": {"encrypted": "true", "kmsKeyId": KEY}}
T_RDS, T_REDIS = "aws:rds/cluster:Cluster", "aws:elasticache/replicationGroup:ReplicationGroup"
T_MSK, T_EKS, T_SECRET = (
    "aws:msk/cluster:Cluster",
    "eks:index:Cluster",
    ("aws:secretsmanager/secret:Secret"),
)
T_LOGS, T_LT = "aws:cloudwatch/logGroup:LogGroup", "aws:ec2/launchTemplate:LaunchTemplate"
T_SC = "kubernetes:storage.k8s.io/v1:StorageClass"


def devices(*ebs: dict) -> dict:
    return {"blockDeviceMappings": [{"deviceName": f"/dev/xvd{chr(97 + i)}", "ebs": e}
                                    for i, e in enumerate(ebs)]}  # fmt: skip


def storage_class(provisioner: str, **parameters) -> Resource:
    return Resource(T_SC, "gp3", "urn:sc::gp3",
                    {"provisioner": provisioner, "parameters": parameters})  # fmt: skip


CUSTOMER_MANAGED_KEYS = Table(
    compliant=[
        aws(T_RDS, "db", RDS),
        aws(T_REDIS, "redis", REDIS),
        aws(T_MSK, "kafka", MSK),
        aws(T_SECRET, "secret", {"kmsKeyId": KEY}),
        aws(T_LOGS, "logs", {"kmsKeyId": KEY}),
        aws(T_EKS, "eks", EKS),
        aws(T_LT, "nodes", devices(EBS, EBS)),
        storage_class("ebs.csi.aws.com", encrypted="true", kmsKeyId=KEY),
        # not an EBS volume: the rule has nothing to judge
        storage_class("efs.csi.aws.com"),
    ],
    refuses={
        "Aurora storage not encrypted": (
            [aws(T_RDS, "db", {**RDS, "storageEncrypted": False})],
            ["db: storage not encrypted"],
        ),
        "Aurora on the AWS-managed key": (
            [aws(T_RDS, "db", without(RDS, "kmsKeyId"))],
            ["db: storage not on a customer key"],
        ),
        "ElastiCache not encrypted at rest": (
            [aws(T_REDIS, "redis", without(REDIS, "atRestEncryptionEnabled"))],
            ["redis: not encrypted at rest"],
        ),
        "ElastiCache on the AWS-managed key": (
            [aws(T_REDIS, "redis", without(REDIS, "kmsKeyId"))],
            ["redis: not on a customer key"],
        ),
        "MSK on the AWS-managed key": (
            [
                aws(
                    T_MSK,
                    "kafka",
                    {"encryptionInfo": {"encryptionInTransit": {"clientBroker": "TLS"}}},
                )
            ],
            ["kafka: not on a customer key"],
        ),
        "secret on the AWS-managed key": (
            [aws(T_SECRET, "secret", {})],
            ["secret: not on a customer key"],
        ),
        "log group not on a customer key": (
            [aws(T_LOGS, "logs", {"kmsKeyId": ""})],
            ["logs: not on a customer key"],
        ),
        "Kubernetes secrets not envelope-encrypted": (
            [aws(T_EKS, "eks", without(EKS, "encryptionConfigKeyArn"))],
            ["eks: Kubernetes secrets not envelope-encrypted"],
        ),
        "node volume not encrypted": (
            [aws(T_LT, "nodes", devices({**EBS, "encrypted": "false"}))],
            ["nodes: EBS not on a customer key"],
        ),
        "node volume on the AWS-managed key": (
            [aws(T_LT, "nodes", devices(without(EBS, "kmsKeyId")))],
            ["nodes: EBS not on a customer key"],
        ),
        "a second node volume not encrypted": (
            [aws(T_LT, "nodes", devices(EBS, {"kmsKeyId": KEY}))],
            ["nodes: EBS not on a customer key"],
        ),
        "node root volume left to the AMI's defaults": (
            [aws(T_LT, "nodes", {})],
            ["nodes: EBS not on a customer key"],
        ),
        "EBS StorageClass not encrypted": (
            [storage_class("ebs.csi.aws.com", kmsKeyId=KEY)],
            ["gp3: volumes not on a customer key"],
        ),
        "EBS StorageClass on the AWS-managed key": (
            [storage_class("ebs.csi.aws.com", encrypted="true")],
            ["gp3: volumes not on a customer key"],
        ),
        "in-tree EBS provisioner not on a customer key": (
            [storage_class("kubernetes.io/aws-ebs", encrypted="true")],
            ["gp3: volumes not on a customer key"],
        ),
    },
)

BUCKET = aws("aws:s3/bucket:Bucket", "data", {"bucket": "data"})
BUCKET_ENCRYPTION = Table(
    compliant=[
        BUCKET,
        _sse("data", "aws:kms", KEY),
        # a bucket receiving S3 access logs may (must) use SSE-S3
        aws("aws:s3/bucket:Bucket", "logs", {"bucket": "logs"}),
        _sse("logs", "AES256"),
        aws("aws:s3/bucketLogging:BucketLogging", "data", {"targetBucket": "logs"}),
    ],
    refuses={
        "no default encryption": ([BUCKET], ["bucket data: no default encryption"]),
        "SSE-S3 on a data bucket": (
            [BUCKET, _sse("data", "AES256")],
            ["bucket data: not SSE-KMS with a customer key"],
        ),
        "SSE-KMS with the AWS-managed key": (
            [BUCKET, _sse("data", "aws:kms")],
            ["bucket data: not SSE-KMS with a customer key"],
        ),
        "a configuration of a bucket not known yet does not hide the next one": (
            [BUCKET, _sse("", "aws:kms", KEY), _sse("data", "AES256")],
            ["bucket data: not SSE-KMS with a customer key"],
        ),
        "SSE-S3 on a bucket that logs elsewhere (only a log target may)": (
            [
                BUCKET,
                _sse("data", "AES256"),
                aws("aws:s3/bucketLogging:BucketLogging", "data", {"targetBucket": "logs"}),
            ],
            ["bucket data: not SSE-KMS with a customer key"],
        ),
    },
)

T_SGIR = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
T_SG, T_SGR = "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule"
ANYWHERE = ["db: ingress from anywhere"]
NO_OPEN_INGRESS = Table(
    compliant=[aws(T_SGIR, "db", {"cidrIpv4": "10.0.0.0/16", "fromPort": 5432}),
               aws(T_SGIR, "db6", {"cidrIpv6": "fd00::/8", "fromPort": 5432}),
               aws(T_SG, "sg", {"ingress": [{"cidrBlocks": ["10.0.0.0/16"]}],
                                "egress": [{"cidrBlocks": ["0.0.0.0/0"],
                                            "ipv6CidrBlocks": ["::/0"]}]}),
               aws(T_SGR, "out", {"type": "egress", "cidrBlocks": ["0.0.0.0/0"]}),
               aws("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "out6",
                   {"cidrIpv6": "::/0"})],
    refuses={
        "ingress rule from 0.0.0.0/0": ([aws(T_SGIR, "db", {"cidrIpv4": "0.0.0.0/0"})], ANYWHERE),
        "ingress rule from ::/0": ([aws(T_SGIR, "db", {"cidrIpv6": "::/0"})], ANYWHERE),
        "ingress rule from ::/0 spelled out": (
            [aws(T_SGIR, "db", {"cidrIpv6": "0:0:0:0:0:0:0:0/0"})], ANYWHERE),
        "ingress rule from a /0 with host bits set": (
            [aws(T_SGIR, "db", {"cidrIpv4": "10.1.2.3/0"})],
            ANYWHERE,
        ),
        "inline ingress from 0.0.0.0/0": (
            [aws(T_SG, "db", {"ingress": [{"cidrBlocks": ["10.0.0.0/8", "0.0.0.0/0"]}]})],
            ANYWHERE),
        "inline ingress from ::/0": (
            [aws(T_SG, "db", {"ingress": [{"ipv6CidrBlocks": ["::/0"]}]})], ANYWHERE),
        "a second inline ingress open": (
            [aws(T_SG, "db", {"ingress": [{"cidrBlocks": ["10.0.0.0/8"]},
                                          {"cidrBlocks": ["0.0.0.0/0"]}]})], ANYWHERE),
        "security group rule from 0.0.0.0/0": (
            [aws(T_SGR, "db", {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"]})], ANYWHERE),
        "security group rule from ::/0": (
            [aws(T_SGR, "db", {"type": "ingress", "ipv6CidrBlocks": ["::/0"]})], ANYWHERE),
    },
)  # fmt: skip


def in_subnets(type_: str, name: str, key: str, *subnets: Resource, **props) -> Resource:
    return aws(type_, name, {key: ["subnet-1"], **props},
               depends_on={key: [s.urn for s in subnets]})  # fmt: skip


UNTAGGED = aws("aws:ec2/subnet:Subnet", "untagged-0", {})
T_DB_SUBNETS, T_REDIS_SUBNETS = ("aws:rds/subnetGroup:SubnetGroup",
                                 "aws:elasticache/subnetGroup:SubnetGroup")  # fmt: skip
T_PROXY = "aws:rds/proxy:Proxy"
ISOLATED_DATA_STORES = Table(
    compliant=[ISOLATED, in_subnets(T_DB_SUBNETS, "db", "subnetIds", ISOLATED),
               in_subnets(T_REDIS_SUBNETS, "redis", "subnetIds", ISOLATED),
               in_subnets(T_PROXY, "proxy", "vpcSubnetIds", ISOLATED),
               in_subnets(T_MSK, "kafka", "brokerNodeGroupInfo", ISOLATED, **MSK),
               # built from plain ids (nothing to judge by) is not a violation
               aws(T_DB_SUBNETS, "ids", {"subnetIds": ["subnet-9"]})],
    refuses={
        "Aurora's subnet group in the private tier": (
            [PRIVATE, in_subnets(T_DB_SUBNETS, "db", "subnetIds", PRIVATE)],
            ["db: in subnets outside the isolated tier: ['private-0']"]),
        "ElastiCache's subnet group in the private tier": (
            [PRIVATE, in_subnets(T_REDIS_SUBNETS, "redis", "subnetIds", PRIVATE)],
            ["redis: in subnets outside the isolated tier: ['private-0']"]),
        "the RDS Proxy in the private tier": (
            [PRIVATE, in_subnets(T_PROXY, "proxy", "vpcSubnetIds", PRIVATE)],
            ["proxy: in subnets outside the isolated tier: ['private-0']"]),
        "MSK's brokers in the private tier": (
            [PRIVATE, in_subnets(T_MSK, "kafka", "brokerNodeGroupInfo", PRIVATE, **MSK)],
            ["kafka: in subnets outside the isolated tier: ['private-0']"]),
        "one subnet of several outside the tier": (
            [ISOLATED, PRIVATE, in_subnets(T_DB_SUBNETS, "db", "subnetIds", ISOLATED, PRIVATE)],
            ["db: in subnets outside the isolated tier: ['private-0']"]),
        "a subnet with no tier tag": (
            [UNTAGGED, in_subnets(T_DB_SUBNETS, "db", "subnetIds", UNTAGGED)],
            ["db: in subnets outside the isolated tier: ['untagged-0']"]),
    },
)  # fmt: skip

# Every stateful type, with props that keep the other rules quiet. Written out, not read from
# rules.STATEFUL, so a type dropped from that set fails here.
STATEFUL_TYPES = {
    T_RDS: RDS, "aws:rds/clusterInstance:ClusterInstance": {}, T_REDIS: REDIS, T_MSK: MSK,
    "aws:msk/topic:Topic": {}, "aws:s3/bucket:Bucket": {}, "aws:kms/key:Key": {},
    "aws:backup/vault:Vault": {}, T_EKS: EKS,
    "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch": {},
}  # fmt: skip
PROD_STATEFUL_PROTECTED = Table(
    compliant=[aws(t, "store", p, protect=True) for t, p in STATEFUL_TYPES.items()],
    refuses={
        f"{t} not protected": ([aws(t, "store", p)], [f"store: {t} not protected"])
        for t, p in STATEFUL_TYPES.items()
    },
)

T_V3, T_V4 = "kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"
REPO = {"repositoryOpts": {"repo": "https://charts"}}


def chart(type_: str, **props) -> Resource:
    return Resource(type_, "kps", f"urn:{type_}::kps", props)


HELM_CHARTS_PINNED = Table(
    compliant=[chart(T_V3, version="88.5.4", **REPO), chart(T_V4, version="1.17.1", **REPO)],
    refuses={
        "a version range": ([chart(T_V3, version="88.x", **REPO)], ["kps: chart version '88.x'"]),
        "no version (the latest)": ([chart(T_V3, **REPO)], ["kps: chart version ''"]),
        "a prerelease tag": (
            [chart(T_V3, version="88.5.4-rc.1", **REPO)],
            ["kps: chart version '88.5.4-rc.1'"],
        ),
        "a plain-HTTP repository": (
            [chart(T_V3, version="88.5.4", repositoryOpts={"repo": "http://charts"})],
            ["kps: repository 'http://charts'"],
        ),
        "no repository": ([chart(T_V3, version="88.5.4")], ["kps: repository ''"]),
        "a v4 Chart with a version range": (
            [chart(T_V4, version="~1.17", **REPO)],
            ["kps: chart version '~1.17'"],
        ),
        "a v4 Chart with no repository": ([chart(T_V4, version="1.17.1")], ["kps: repository ''"]),
    },
)

# Where each workload type holds its pod (written out, not read from rules._POD_SPECS).
WORKLOADS = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def workload(
    type_: str = "kubernetes:apps/v1:Deployment",
    pod: dict | None = None,
    container: dict | None = None,
    **spec,
) -> Resource:
    body = {
        "securityContext": POD["securityContext"] if pod is None else pod,
        "containers": [
            {"name": "app", "securityContext": HARDENED if container is None else container}
        ],
        **spec,
    }
    for key in reversed(WORKLOADS[type_]):
        body = {key: body}
    return Resource(type_, "app", f"urn:{type_}::app", body)  # fmt: skip


def hardened_but(**changes) -> dict:
    return {k: v for k, v in {**HARDENED, **changes}.items() if v is not None}


INIT = {"name": "init", "securityContext": HARDENED}
PODS_HARDENED = Table(
    compliant=[workload(t, initContainers=[INIT]) for t in WORKLOADS],
    refuses={
        **{f"{t.rsplit(':', 1)[1]} with a writable root filesystem": (
            [workload(t, container=hardened_but(readOnlyRootFilesystem=False))],
            ["app: container app"]) for t in WORKLOADS},
        "an unhardened init container": (
            [workload(initContainers=[{"name": "init", "securityContext": {}}])],
            ["app: container init",
             "app: Privilege Escalation: initContainers[init] must set "
             "securityContext.allowPrivilegeEscalation=false",
             'app: Capabilities: initContainers[init] must drop capabilities ["ALL"]']),
        "a second container unhardened": (
            [workload(containers=[{"name": "app", "securityContext": HARDENED},
                                  {"name": "sidecar", "securityContext": hardened_but(
                                      readOnlyRootFilesystem=None)}])],
            ["app: container sidecar"]),
        "privilege escalation allowed": (
            [workload(container=hardened_but(allowPrivilegeEscalation=True))],
            ["app: container app", "app: Privilege Escalation: containers[app] must set "
             "securityContext.allowPrivilegeEscalation=false"]),
        "privileged": (
            [workload(container=hardened_but(privileged=True))],
            ["app: container app",
             "app: Privileged Containers: containers[app] sets securityContext.privileged=true"]),
        "capabilities not dropped": (
            [workload(container=hardened_but(capabilities={}))],
            ["app: container app",
             'app: Capabilities: containers[app] must drop capabilities ["ALL"]']),
        "a capability added back": (
            [workload(container=hardened_but(capabilities={"drop": ["ALL"],
                                                           "add": ["NET_BIND_SERVICE"]}))],
            ["app: container app"]),
        "may run as root": (
            [workload(pod={"seccompProfile": {"type": "RuntimeDefault"}})],
            ["app: container app",
             "app: Running as Non-root: containers[app] must set runAsNonRoot=true (or the pod "
             "must)"]),
        "no seccomp profile": (
            [workload(pod={"runAsNonRoot": True})],
            ["app: container app",
             "app: Seccomp: containers[app] must set seccompProfile RuntimeDefault/Localhost "
             "(or the pod)"]),
        "a Localhost seccomp profile (not the runtime's default)": (
            [workload(pod={"runAsNonRoot": True, "seccompProfile": {
                "type": "Localhost", "localhostProfile": "p.json"}})],
            ["app: container app"]),
        "the host's network": (
            [workload(hostNetwork=True)], ["app: Host Namespaces: pod sets hostNetwork=true"]),
    },
)  # fmt: skip


def tagged_provider(missing: str) -> Resource:
    tags = {**TAGS, "environment": "dev"}
    del tags[missing]
    return Resource(AWS_PROVIDER, "aws", PROVIDER_URN, {"defaultTags": json.dumps({"tags": tags})})


AWS_PROVIDER = "pulumi:providers:aws"
REQUIRED = ("project", "environment", "owner", "cost-center", "managed-by", "stack")
REQUIRED_TAGS = Table(
    compliant=[BUCKET, _sse("data", "aws:kms", KEY)],
    refuses={
        **{f"no {tag!r} tag": ([tagged_provider(tag), BUCKET, _sse("data", "aws:kms", KEY)],
                               [f"provider aws: no default tags [{tag!r}]"]) for tag in REQUIRED},
        "a resource on a provider without default tags (the default provider)": (
            [Resource("aws:s3/bucket:Bucket", "data", "urn:bucket", {"bucket": "data"},
                      provider_urn="urn:pulumi:prod::platform::pulumi:providers:aws::default"),
             _sse("data", "aws:kms", KEY)],
            ["data: no provider with default tags"]),
    },
)  # fmt: skip

T_RAW_EKS = "aws:eks/cluster:Cluster"
NO_PUBLIC_EKS_ENDPOINT_IN_PROD = Table(
    compliant=[
        aws(T_EKS, "eks", EKS, protect=True),
        aws(T_RAW_EKS, "raw", {"vpcConfig": {"endpointPublicAccess": False}}),
    ],
    refuses={
        "a public endpoint": (
            [aws(T_EKS, "eks", {**EKS, "endpointPublicAccess": True}, protect=True)],
            ["eks: public endpoint"],
        ),
        "the endpoint flag unset (EKS's default is public)": (
            [aws(T_EKS, "eks", without(EKS, "endpointPublicAccess"), protect=True)],
            ["eks: public endpoint"],
        ),
        "an aws.eks.Cluster with a public endpoint": (
            [aws(T_RAW_EKS, "raw", {"vpcConfig": {"endpointPublicAccess": True}})],
            ["raw: public endpoint"],
        ),
        "an aws.eks.Cluster with the flag unset": (
            [aws(T_RAW_EKS, "raw", {"vpcConfig": {}})],
            ["raw: public endpoint"],
        ),
    },
)

TABLES: dict[str, Table] = {
    "customer-managed-keys": CUSTOMER_MANAGED_KEYS,
    "bucket-encryption": BUCKET_ENCRYPTION,
    "no-open-ingress": NO_OPEN_INGRESS,
    "data-stores-in-isolated-subnets": ISOLATED_DATA_STORES,
    "prod-stateful-protected": PROD_STATEFUL_PROTECTED,
    "helm-charts-pinned": HELM_CHARTS_PINNED,
    "pods-hardened": PODS_HARDENED,
    "required-tags": REQUIRED_TAGS,
    "no-public-eks-endpoint-in-prod": NO_PUBLIC_EKS_ENDPOINT_IN_PROD,
}
PROD_ONLY = {"prod-stateful-protected", "no-public-eks-endpoint-in-prod"}
ROWS = [(rule, condition) for rule, table in TABLES.items() for condition in table.refuses]


def environment_of(rule: str) -> str:
    return "prod" if rule in PROD_ONLY else "dev"


def _stack(resources: list[Resource], environment: str) -> Stack:
    """The resources on an AWS provider with every required tag (unless they bring their own)."""
    own = any(r.type == AWS_PROVIDER for r in resources)
    return Stack(resources if own else [provider(environment), *resources])


def _violations(resources: list[Resource], environment: str = "dev") -> dict[str, list[str]]:
    found = evaluate(_stack(resources, environment))
    return {rule: sorted(v.message for v in vs) for rule, vs in found.items() if vs}


def test_every_rule_has_a_table():
    assert list(TABLES) == [rule.name for rule in RULES]


@pytest.mark.parametrize(("rule", "condition"), ROWS, ids=[f"{r}: {c}" for r, c in ROWS])
def test_each_condition_is_refused_with_its_message_and_nothing_else(rule, condition):
    resources, messages = TABLES[rule].refuses[condition]
    assert _violations(resources, environment_of(rule)) == {rule: sorted(messages)}
    # Each violation names its rule and the resource it is about (where the pack reports it).
    found = evaluate(_stack(resources, environment_of(rule)))[rule]
    assert {v.rule for v in found} == {rule}
    assert {v.urn for v in found} <= {r.urn for r in resources} | {PROVIDER_URN}


@pytest.mark.parametrize("rule", list(TABLES))
def test_each_rule_accepts_every_type_it_covers_when_compliant(rule):
    assert _violations(TABLES[rule].compliant, environment_of(rule)) == {}


def test_every_stateful_and_workload_type_is_in_its_table():
    """The written-out type lists equal the rules' sets: a type added to a rule needs a row."""
    assert set(STATEFUL_TYPES) == guardrail_rules.STATEFUL
    assert WORKLOADS == guardrail_rules._POD_SPECS
    assert REQUIRED == guardrail_rules.REQUIRED_TAGS


@pytest.mark.parametrize("rule", sorted(PROD_ONLY))
def test_prod_only_rules_do_not_apply_to_dev(rule):
    for condition, (resources, _) in TABLES[rule].refuses.items():
        assert evaluate(_stack(resources, "dev"))[rule] == [], condition


def test_a_provider_without_the_required_tags_is_named():
    bucket = aws("aws:s3/bucket:Bucket", "data", {"bucket": "data"})
    untagged = Resource("pulumi:providers:aws", "aws", PROVIDER_URN, {"defaultTags": "{}"})
    (violation,) = evaluate(Stack([untagged, bucket]))["required-tags"]
    assert "environment" in violation.message and violation.urn == PROVIDER_URN


def test_every_committed_stack_passes_every_rule_and_each_rule_has_something_to_judge(env):
    stack = from_recording(planned(env)[1])
    assert {name: v for name, v in evaluate(stack).items() if v} == {}
    judged = {
        "customer-managed-keys": stack.of("aws:rds/cluster:Cluster"),
        "data-stores-in-isolated-subnets": stack.of("aws:rds/subnetGroup:SubnetGroup"),
        "helm-charts-pinned": stack.of("kubernetes:helm.sh/v3:Release"),
        "pods-hardened": stack.of("kubernetes:apps/v1:Deployment"),
        "required-tags": stack.of("pulumi:providers:aws"),
    }
    assert all(judged.values()), [name for name, found in judged.items() if not found]
    assert stack.environment == env


def test_the_isolation_rule_follows_the_real_subnets_of_every_store(env):
    stack = from_recording(planned(env)[1])
    groups = stack.of("aws:rds/subnetGroup:SubnetGroup", "aws:elasticache/subnetGroup:SubnetGroup")
    assert groups and all(g.depends_on.get("subnetIds") for g in groups)


def test_make_plan_prints_the_policies_and_fails_on_a_mandatory_violation(monkeypatch, capsys):
    assert plan.main(["prod"]) == 0
    out = capsys.readouterr().out
    assert "Policies" in out and "0 mandatory violation(s)" in out
    for rule in RULES:
        assert rule.name in out
    violation = Violation("no-open-ingress", "urn:x", "sg: ingress from anywhere")
    monkeypatch.setattr(plan, "evaluate", lambda stack: {"no-open-ingress": [violation]})
    assert plan.main(["dev"]) == 1
    assert "sg: ingress from anywhere" in capsys.readouterr().out


# -- the CrossGuard entry point ------------------------------------------------------------------
def _policy_resource(r: Resource, providers: dict[str, PolicyProviderResource]) -> PolicyResource:
    opts = PolicyResourceOptions(r.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    return PolicyResource(
        r.type, r.props, r.urn, r.name, opts, providers.get(r.provider_urn), None, [], {}
    )


def _run_pack(resources: list[Resource], environment: str) -> dict[str, list]:
    prov = next((r for r in resources if r.type == AWS_PROVIDER), provider(environment))
    providers = {prov.urn: PolicyProviderResource(prov.type, prov.props, prov.urn, prov.name)}
    resources = [r for r in resources if r.type != AWS_PROVIDER]
    built = {r.urn: _policy_resource(r, providers) for r in resources}
    for r in resources:  # the engine links each input to the resources it came from
        built[r.urn].property_dependencies = {
            key: [built[u] for u in urns] for key, urns in r.depends_on.items()
        }
    args = StackValidationArgs(list(built.values()))
    reported: dict[str, list[tuple[str, str | None]]] = {}
    for policy in guardrails_pack.policies():
        found: list[tuple[str, str | None]] = []
        if isinstance(policy, ResourceValidationPolicy):
            # The engine calls a resource policy once per resource, before creating it; a
            # violation it reports belongs to that resource.
            for r in built.values():
                one = ResourceValidationArgs(
                    r.resource_type, r.props, r.urn, r.name, r.opts, r.provider
                )
                policy.validate(
                    one, lambda message, urn=None, r=r, found=found: found.append((message, r.urn))
                )
        else:
            policy.validate(
                args, lambda message, urn=None, found=found: found.append((message, urn))
            )
        if found:
            reported[policy.name] = found
    return reported


@pytest.mark.parametrize(("rule", "condition"), ROWS, ids=[f"{r}: {c}" for r, c in ROWS])
def test_the_pack_reports_the_same_violations_through_pulumi_policy(rule, condition):
    bad, messages = TABLES[rule].refuses[condition]
    environment = environment_of(rule)
    reported = _run_pack(bad, environment)
    expected = evaluate(_stack(bad, environment))
    # (a provider's missing tags are reported once per resource using it)
    assert {k: sorted({m for m, _ in vs}) for k, vs in reported.items()} == {
        rule: sorted(set(messages))
    }
    # Each violation is reported on the resource it is about (a local rule's on the resource
    # the engine is about to create, a provider's missing tags on each resource using it).
    for name, found in reported.items():
        urns = {v.urn for v in expected[name]}
        assert all(urn in urns or _uses_provider(bad, urn, urns) for _, urn in found), name
    assert _run_pack(TABLES[rule].compliant, environment) == {}


def _uses_provider(resources: list[Resource], urn: str | None, provider_urns: set[str]) -> bool:
    return any(r.urn == urn and r.provider_urn in provider_urns for r in resources)


def test_the_pack_is_mandatory_and_named_for_its_rules():
    policies = guardrails_pack.policies()
    assert [p.name for p in policies] == [r.name for r in RULES]
    assert all(p.enforcement_level.value == "mandatory" for p in policies)


def test_local_rules_refuse_a_resource_before_it_is_created():
    """`pulumi up` applies a resource policy to each resource before creating it: the rules
    that can judge a resource alone are resource policies; the rest need the whole stack."""
    kinds = {p.name: isinstance(p, ResourceValidationPolicy) for p in guardrails_pack.policies()}
    assert {name for name, local in kinds.items() if local} == {
        "customer-managed-keys",
        "no-open-ingress",
        "prod-stateful-protected",
        "helm-charts-pinned",
        "pods-hardened",
        "required-tags",
        "no-public-eks-endpoint-in-prod",
    }
    # Each local rule finds its violation with nothing but the resource and its provider.
    for rule in RULES:
        if not rule.local:
            continue
        environment = environment_of(rule.name)
        for condition, (resources, messages) in TABLES[rule.name].refuses.items():
            context = [r for r in resources if r.type == AWS_PROVIDER] or [provider(environment)]
            alone = [
                v.message
                for r in resources
                if r.type != AWS_PROVIDER
                for v in rule.check(Stack([*context, r]))
                if v.urn in (r.urn, PROVIDER_URN)
            ]
            assert sorted(set(alone)) == sorted(set(messages)), condition


@pytest.mark.parametrize(
    "props, ok",
    [
        ({"chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.14.1"}, True),
        # No exact version: an OCI chart is no more pinned than any other.
        ({"chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.14"}, False),
        # A tag or digest inside the reference would override `version`.
        ({"chart": "oci://public.ecr.aws/karpenter/karpenter:1.14.1", "version": "1.14.1"}, False),
        ({"chart": "oci://public.ecr.aws/karpenter/karpenter@sha256:ab", "version": "1.14.1"},
         False),
        # A repository beside an OCI reference: which one Helm uses is not what review saw.
        ({"chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.14.1",
          "repositoryOpts": {"repo": "https://charts"}}, False),
        # Without oci:// a chart still needs its https repository.
        ({"chart": "karpenter", "version": "1.14.1"}, False),
    ],
    ids=["oci-exact", "oci-range", "oci-tag", "oci-digest", "oci-and-repo", "no-repo"],
)  # fmt: skip
def test_helm_pinning_accepts_an_oci_chart_only_with_an_exact_version(props, ok):
    release = Resource("kubernetes:helm.sh/v3:Release", "karpenter", "urn:karpenter", props)
    found = _violations([release]).get("helm-charts-pinned", [])
    assert (found == []) is ok, found
