"""The platform's guardrails: rules over the resources a stack registers (pure).

One implementation, two entry points:

* `make plan` evaluates them on the offline recording (`from_recording`) and fails on a
  mandatory violation;
* `pulumi preview/up --policy-pack policy` runs them as a CrossGuard pack (policy/ and
  `infra.guardrails.pack`, which converts the engine's view of the stack into `Resource`s).

A rule sees the whole stack (`Stack`): several rules need context no single resource
carries — which subnets are isolated, which bucket receives access logs, which environment
this is (the AWS provider's `environment` default tag). Values a preview does not know yet
(ids of resources still to be created) make a rule skip that check, never fail it.

What each rule refuses, condition by condition, is its table in tests/test_guardrails.py
(`TABLES`): one violating stack per condition with the exact messages, and one compliant
resource of every type the rule covers. A new condition here gets its row there.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components import pod_security
from components.hardening import is_hardened_pod

PROD = "prod"
REQUIRED_TAGS = ("project", "environment", "owner", "cost-center", "managed-by", "stack")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
# oci://<registry host>/<path>: no tag (`:x`) or digest (`@sha256:`) after the last segment.
_OCI_CHART = re.compile(r"^oci://[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+$")
AWS_PROVIDER = "pulumi:providers:aws"

# Where data lives: never replaced or deleted by a routine change in prod.
STATEFUL = frozenset({
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:msk/cluster:Cluster",
    "aws:msk/topic:Topic",
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:backup/vault:Vault",
    "eks:index:Cluster",
    "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch",
})  # fmt: skip
# The CSI driver and the in-tree plugin it replaced: both create EBS volumes.
_EBS_PROVISIONERS = frozenset({"ebs.csi.aws.com", "kubernetes.io/aws-ebs"})
# Workloads and where their pod spec is.
_POD_SPECS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True)
class Resource:
    """What a rule knows about one resource (the same shape from both entry points).

    `props` are its inputs (offline) or its planned outputs (CrossGuard); `depends_on`
    maps an input to the URNs it was built from; `provider_urn` is its provider's URN (no
    id) and `provider` that provider's props.
    """

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    provider_urn: str = ""
    provider: Mapping[str, Any] = field(default_factory=dict)
    depends_on: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: str
    message: str


@dataclass(frozen=True)
class Stack:
    resources: Sequence[Resource]

    def of(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    @property
    def by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.resources}

    @property
    def environment(self) -> str | None:
        """The `environment` default tag of the stack's AWS providers."""
        for provider in self.of(AWS_PROVIDER):
            environment = default_tags(provider.props).get("environment")
            if environment:
                return environment
        return None


Check = Callable[[Stack], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    """One guardrail.

    Attributes:
        name: the policy's name (in `make plan` and the pack).
        description: what it requires.
        check: the rule itself, over a `Stack`.
        mandatory: a violation fails `make plan` and the preview/update.
        local: the check judges each resource by itself and its provider alone. The pack then
            runs it as a resource-level policy, which the engine applies to every resource
            *before it is created or updated* — so `pulumi up` refuses that resource instead of
            reporting after the changes were made (stack policies run once everything is
            registered). Rules that need other resources (which subnets are isolated, which
            bucket receives access logs) stay stack-level; the deploy's preview with the pack
            refuses before anything is applied for them.
    """

    name: str
    description: str
    check: Check
    mandatory: bool = True
    local: bool = False


def default_tags(props: Mapping[str, Any]) -> dict[str, str]:
    """A provider's default tags; the engine hands nested provider inputs over as JSON."""
    value = props.get("defaultTags") or {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return dict(value.get("tags") or {})


def _get(props: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props


def _known(value: Any) -> bool:
    """False for what a preview does not know yet (the engine leaves it out or empty)."""
    return value not in (None, "", [], {})


# -- rules ----------------------------------------------------------------------------------------
def _customer_managed_keys(stack: Stack) -> Iterator[Violation]:
    rule = "customer-managed-keys"

    def need(resource: Resource, ok: bool, what: str) -> Iterator[Violation]:
        if not ok:
            yield Violation(rule, resource.urn, f"{resource.name}: {what}")

    for r in stack.of("aws:rds/cluster:Cluster"):
        yield from need(r, r.props.get("storageEncrypted") is True, "storage not encrypted")
        yield from need(r, _known(r.props.get("kmsKeyId")), "storage not on a customer key")
    for r in stack.of("aws:elasticache/replicationGroup:ReplicationGroup"):
        yield from need(r, r.props.get("atRestEncryptionEnabled") is True, "not encrypted at rest")
        yield from need(r, _known(r.props.get("kmsKeyId")), "not on a customer key")
    for r in stack.of("aws:msk/cluster:Cluster"):
        key = _get(r.props, "encryptionInfo", "encryptionAtRestKmsKeyArn")
        yield from need(r, _known(key), "not on a customer key")
    for r in stack.of("aws:secretsmanager/secret:Secret", "aws:cloudwatch/logGroup:LogGroup"):
        yield from need(r, _known(r.props.get("kmsKeyId")), "not on a customer key")
    for r in stack.of("eks:index:Cluster"):
        key = r.props.get("encryptionConfigKeyArn")
        yield from need(r, _known(key), "Kubernetes secrets not envelope-encrypted")
    for r in stack.of("aws:ec2/launchTemplate:LaunchTemplate"):
        # No mapping leaves the root volume to the AMI's (and the account's) defaults.
        for device in r.props.get("blockDeviceMappings") or [{}]:
            ebs = device.get("ebs") or {}
            encrypted = str(ebs.get("encrypted")).lower() == "true"
            yield from need(
                r, encrypted and _known(ebs.get("kmsKeyId")), "EBS not on a customer key"
            )
    for r in stack.of("kubernetes:storage.k8s.io/v1:StorageClass"):
        if r.props.get("provisioner") in _EBS_PROVISIONERS:
            parameters = r.props.get("parameters") or {}
            ok = parameters.get("encrypted") == "true" and _known(parameters.get("kmsKeyId"))
            yield from need(r, ok, "volumes not on a customer key")


def _bucket_encryption(stack: Stack) -> Iterator[Violation]:
    """Data buckets use SSE-KMS with a customer key; buckets that receive S3 server access
    logs may use SSE-S3 (S3 log delivery cannot write to SSE-KMS buckets)."""
    rule = "bucket-encryption"
    log_targets = {
        r.props.get("targetBucket") for r in stack.of("aws:s3/bucketLogging:BucketLogging")
    }
    configured: dict[str, Resource] = {}
    for config in stack.of(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ):
        bucket = config.props.get("bucket")
        if not _known(bucket):
            continue
        configured[bucket] = config
        rules = config.props.get("rules") or [{}]
        default = rules[0].get("applyServerSideEncryptionByDefault") or {}
        kms = default.get("sseAlgorithm") == "aws:kms" and _known(default.get("kmsMasterKeyId"))
        if not kms and bucket not in log_targets:
            yield Violation(rule, config.urn, f"bucket {bucket}: not SSE-KMS with a customer key")
    for bucket in stack.of("aws:s3/bucket:Bucket"):
        name = bucket.props.get("bucket")
        if _known(name) and name not in configured:
            yield Violation(rule, bucket.urn, f"bucket {name}: no default encryption")


def _anywhere(cidrs: Iterable[Any]) -> bool:
    """True when one of `cidrs` is the whole address space, in any spelling (::/0, 0::0/0)."""
    for cidr in cidrs:
        try:
            if ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0:
                return True
        except ValueError:
            continue  # not a CIDR (unknown during a preview): nothing to judge
    return False


def _no_open_ingress(stack: Stack) -> Iterator[Violation]:
    for r in stack.of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        if _anywhere((r.props.get("cidrIpv4"), r.props.get("cidrIpv6"))):
            yield Violation("no-open-ingress", r.urn, f"{r.name}: ingress from anywhere")
    for r in stack.of("aws:ec2/securityGroup:SecurityGroup"):
        for rule in r.props.get("ingress") or []:
            if _anywhere([*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])]):
                yield Violation("no-open-ingress", r.urn, f"{r.name}: ingress from anywhere")
    for r in stack.of("aws:ec2/securityGroupRule:SecurityGroupRule"):
        cidrs = [*(r.props.get("cidrBlocks") or []), *(r.props.get("ipv6CidrBlocks") or [])]
        if r.props.get("type") == "ingress" and _anywhere(cidrs):
            yield Violation("no-open-ingress", r.urn, f"{r.name}: ingress from anywhere")


# Data store -> the inputs holding its subnets.
_SUBNET_INPUTS = {
    "aws:rds/subnetGroup:SubnetGroup": ("subnetIds",),
    "aws:elasticache/subnetGroup:SubnetGroup": ("subnetIds",),
    "aws:rds/proxy:Proxy": ("vpcSubnetIds",),
    "aws:msk/cluster:Cluster": ("brokerNodeGroupInfo",),
}


def _isolated_data_stores(stack: Stack) -> Iterator[Violation]:
    by_urn = stack.by_urn
    for r in stack.of(*_SUBNET_INPUTS):
        for key in _SUBNET_INPUTS[r.type]:
            subnets = [by_urn[u] for u in r.depends_on.get(key, ()) if u in by_urn]
            subnets = [s for s in subnets if s.type == "aws:ec2/subnet:Subnet"]
            if not subnets:
                continue  # built from plain ids: nothing to judge by
            outside = sorted(s.name for s in subnets if _get(s.props, "tags", "tier") != "isolated")
            if outside:
                yield Violation(
                    "data-stores-in-isolated-subnets",
                    r.urn,
                    f"{r.name}: in subnets outside the isolated tier: {outside}",
                )


def _prod_stateful_protected(stack: Stack) -> Iterator[Violation]:
    if stack.environment != PROD:
        return
    for r in stack.of(*STATEFUL):
        if not r.protect:
            yield Violation("prod-stateful-protected", r.urn, f"{r.name}: {r.type} not protected")


def _helm_pinned(stack: Stack) -> Iterator[Violation]:
    for r in stack.of("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"):
        version = str(r.props.get("version") or "")
        repo = _get(r.props, "repositoryOpts", "repo") or ""
        chart = str(r.props.get("chart") or "")
        if not _SEMVER.fullmatch(version):
            yield Violation("helm-charts-pinned", r.urn, f"{r.name}: chart version {version!r}")
        if chart.startswith("oci://"):
            # An OCI chart is its own registry reference (TLS is the registry protocol's);
            # a repository beside it, or a tag or digest inside it, would bypass `version`.
            if repo or not _OCI_CHART.fullmatch(chart):
                yield Violation(
                    "helm-charts-pinned",
                    r.urn,
                    f"{r.name}: OCI chart {chart!r} with repository {repo!r} (an oci:// "
                    "reference without tag or digest, the version in `version`, no repository)",
                )
        elif not str(repo).startswith("https://"):
            yield Violation("helm-charts-pinned", r.urn, f"{r.name}: repository {repo!r}")


def _pods_hardened(stack: Stack) -> Iterator[Violation]:
    for r in stack.of(*_POD_SPECS):
        pod = _get(r.props, *_POD_SPECS[r.type]) or {}
        containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
        for container in containers:
            if not is_hardened_pod(pod.get("securityContext"), container.get("securityContext")):
                yield Violation(
                    "pods-hardened", r.urn, f"{r.name}: container {container.get('name')}"
                )
        # Everything Pod Security `restricted` refuses, the pod-level controls included
        # (host namespaces, hostPath and other volume types, sysctls, ephemeral containers).
        for problem in pod_security.problems(pod, "restricted"):
            yield Violation("pods-hardened", r.urn, f"{r.name}: {problem}")


def _required_tags(stack: Stack) -> Iterator[Violation]:
    providers = {p.urn: p for p in stack.of(AWS_PROVIDER)}
    used: set[str] = set()
    for r in stack.resources:
        if not r.type.startswith("aws:"):
            continue
        provider = r.provider_urn
        used.add(provider)
        if provider not in providers:
            yield Violation("required-tags", r.urn, f"{r.name}: no provider with default tags")
    for urn in sorted(used & set(providers)):
        missing = [t for t in REQUIRED_TAGS if not default_tags(providers[urn].props).get(t)]
        if missing:
            name = providers[urn].name
            yield Violation("required-tags", urn, f"provider {name}: no default tags {missing}")


def _private_prod_endpoint(stack: Stack) -> Iterator[Violation]:
    if stack.environment != PROD:
        return
    for r in stack.of("eks:index:Cluster"):
        if r.props.get("endpointPublicAccess") is not False:
            yield Violation("no-public-eks-endpoint-in-prod", r.urn, f"{r.name}: public endpoint")
    for r in stack.of("aws:eks/cluster:Cluster"):
        if _get(r.props, "vpcConfig", "endpointPublicAccess") is not False:
            yield Violation("no-public-eks-endpoint-in-prod", r.urn, f"{r.name}: public endpoint")


RULES: tuple[Rule, ...] = (
    Rule("customer-managed-keys", "Data stores, logs, secrets and volumes are encrypted with "
         "customer-managed KMS keys.", _customer_managed_keys, local=True),
    Rule("bucket-encryption", "Every bucket has default encryption, SSE-KMS with a customer "
         "key unless it receives S3 access logs.", _bucket_encryption),
    Rule("no-open-ingress", "No security group admits 0.0.0.0/0 or ::/0 (in any spelling).",
         _no_open_ingress, local=True),
    Rule("data-stores-in-isolated-subnets", "Aurora, its proxy, ElastiCache and MSK sit in the "
         "isolated subnet tier only.", _isolated_data_stores),
    Rule("prod-stateful-protected", "In prod every stateful resource is protected.",
         _prod_stateful_protected, local=True),
    Rule("helm-charts-pinned", "Every Helm chart has an exact version and an https repository "
         "(or is an oci:// reference without tag, digest or repository).",
         _helm_pinned, local=True),
    Rule("pods-hardened", "Every pod meets Pod Security restricted and runs non-root, "
         "RuntimeDefault seccomp, no privilege escalation, all capabilities dropped, read-only "
         "root filesystem.", _pods_hardened, local=True),
    Rule("required-tags", "Every AWS resource carries the platform's cost and ownership tags "
         "(through its provider's default tags).", _required_tags, local=True),
    Rule("no-public-eks-endpoint-in-prod", "prod's Kubernetes API has no public endpoint.",
         _private_prod_endpoint, local=True),
)  # fmt: skip


def evaluate(stack: Stack, rules: Sequence[Rule] = RULES) -> dict[str, list[Violation]]:
    """rule name -> its violations (an empty list: the rule holds)."""
    return {rule.name: list(rule.check(stack)) for rule in rules}


def from_recording(recording) -> Stack:
    """The offline entry point: a mock-engine recording (inputs, protect flags, providers)."""
    providers = {
        r.urn: r.inputs for r in recording.resources if r.type.startswith("pulumi:providers:")
    }
    return Stack(
        [
            Resource(
                type=r.type,
                name=r.name,
                urn=r.urn,
                props=r.inputs,
                protect=r.protect,
                provider_urn=r.provider.rsplit("::", 1)[0],  # "<urn>::<id>" -> the URN
                provider=providers.get(r.provider.rsplit("::", 1)[0], {}),
                depends_on=r.property_dependencies,
            )
            for r in recording.resources
        ]
    )
