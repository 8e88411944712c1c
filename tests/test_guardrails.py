"""The guardrails (infra/guardrails/rules.py): every rule on a violating and a compliant
stack, every committed stack clean, and the CrossGuard pack running the very same rules."""

from __future__ import annotations

import json

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


def _deployment(container_context: dict) -> Resource:
    spec = {**POD, "containers": [{"name": "app", "securityContext": container_context}]}
    return Resource("kubernetes:apps/v1:Deployment", "app", "urn:deployment::app",
                    {"spec": {"template": {"spec": spec}}})  # fmt: skip


# rule -> (resources that violate it, the same made compliant)
CASES: dict[str, tuple[list[Resource], list[Resource]]] = {
    "customer-managed-keys": (
        [aws("aws:rds/cluster:Cluster", "db", {"storageEncrypted": True})],
        [aws("aws:rds/cluster:Cluster", "db", {"storageEncrypted": True, "kmsKeyId": KEY})],
    ),
    "bucket-encryption": (
        [aws("aws:s3/bucket:Bucket", "data", {"bucket": "data"}), _sse("data", "AES256")],
        [aws("aws:s3/bucket:Bucket", "data", {"bucket": "data"}), _sse("data", "aws:kms", KEY),
         # a bucket receiving S3 access logs may (must) use SSE-S3
         aws("aws:s3/bucket:Bucket", "logs", {"bucket": "logs"}), _sse("logs", "AES256"),
         aws("aws:s3/bucketLogging:BucketLogging", "data", {"targetBucket": "logs"})],
    ),
    "no-open-ingress": (
        [aws("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "db",
             {"cidrIpv4": "0.0.0.0/0", "fromPort": 5432})],
        [aws("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "db",
             {"cidrIpv4": "10.0.0.0/16", "fromPort": 5432})],
    ),
    "data-stores-in-isolated-subnets": (
        [PRIVATE, aws("aws:rds/subnetGroup:SubnetGroup", "db", {"subnetIds": ["subnet-1"]},
                      depends_on={"subnetIds": [PRIVATE.urn]})],
        [ISOLATED, aws("aws:rds/subnetGroup:SubnetGroup", "db", {"subnetIds": ["subnet-1"]},
                       depends_on={"subnetIds": [ISOLATED.urn]})],
    ),
    "prod-stateful-protected": (
        [aws("aws:msk/cluster:Cluster", "kafka", MSK, protect=False)],
        [aws("aws:msk/cluster:Cluster", "kafka", MSK, protect=True)],
    ),
    "helm-charts-pinned": (
        [Resource("kubernetes:helm.sh/v3:Release", "kps", "urn:kps",
                  {"version": "88.x", "repositoryOpts": {"repo": "http://charts"}})],
        [Resource("kubernetes:helm.sh/v3:Release", "kps", "urn:kps",
                  {"version": "88.5.4", "repositoryOpts": {"repo": "https://charts"}})],
    ),
    "pods-hardened": (
        [_deployment({**HARDENED, "readOnlyRootFilesystem": False})],
        [_deployment(HARDENED)],
    ),
    "required-tags": (
        [Resource("aws:s3/bucket:Bucket", "data", "urn:bucket", {"bucket": "data"},
                  provider_urn="urn:pulumi:prod::platform::pulumi:providers:aws::default")],
        [aws("aws:s3/bucket:Bucket", "data", {"bucket": "data"}), _sse("data", "aws:kms", KEY)],
    ),
    "no-public-eks-endpoint-in-prod": (
        [aws("eks:index:Cluster", "eks", {"endpointPublicAccess": True,
                                          "encryptionConfigKeyArn": KEY}, protect=True)],
        [aws("eks:index:Cluster", "eks", {"endpointPublicAccess": False,
                                          "encryptionConfigKeyArn": KEY}, protect=True)],
    ),
}  # fmt: skip


PROD_ONLY = {"prod-stateful-protected", "no-public-eks-endpoint-in-prod"}


def _violations(resources: list[Resource], environment: str = "dev") -> dict[str, list]:
    return {k: v for k, v in evaluate(Stack([provider(environment), *resources])).items() if v}


def test_every_rule_has_cases():
    assert set(CASES) == {rule.name for rule in RULES}


@pytest.mark.parametrize("rule", list(CASES))
def test_each_rule_catches_its_violation_and_passes_the_fix(rule):
    bad, good = CASES[rule]
    environment = "prod" if rule in PROD_ONLY else "dev"
    assert rule in _violations(bad, environment), f"{rule} missed its violation"
    assert _violations(good, environment) == {}


def test_pods_hardened_refuses_what_pod_security_restricted_refuses_at_pod_level():
    """A pod whose containers are all hardened still violates with the host's network."""
    deployment = _deployment(HARDENED)
    deployment.props["spec"]["template"]["spec"]["hostNetwork"] = True
    found = _violations([deployment]).get("pods-hardened", [])
    assert [v.message for v in found] == ["app: Host Namespaces: pod sets hostNetwork=true"]


def test_prod_only_rules_do_not_apply_to_dev():
    bad = CASES["prod-stateful-protected"][0] + CASES["no-public-eks-endpoint-in-prod"][0]
    results = evaluate(Stack([provider("dev"), *bad]))
    assert results["prod-stateful-protected"] == []
    assert results["no-public-eks-endpoint-in-prod"] == []


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
    prov = provider(environment)
    providers = {prov.urn: PolicyProviderResource(prov.type, prov.props, prov.urn, prov.name)}
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


@pytest.mark.parametrize("rule", list(CASES))
def test_the_pack_reports_the_same_violations_through_pulumi_policy(rule):
    bad, good = CASES[rule]
    environment = "prod" if rule in PROD_ONLY else "dev"
    reported = _run_pack(bad, environment)
    expected = _violations(bad, environment)
    assert {k: sorted(v.message for v in vs) for k, vs in expected.items()} == {
        k: sorted(m for m, _ in vs) for k, vs in reported.items()
    }
    # Each violation is reported on the resource it is about (a local rule's on the resource
    # the engine is about to create, a provider's missing tags on each resource using it).
    for name, found in reported.items():
        urns = {v.urn for v in expected[name]}
        assert all(urn in urns or _uses_provider(bad, urn, urns) for _, urn in found), name
    assert rule in reported
    assert _run_pack(good, environment) == {}


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
        environment = "prod" if rule.name in PROD_ONLY else "dev"
        for bad in CASES[rule.name][0]:
            alone = list(rule.check(Stack([provider(environment), bad])))
            together = [
                v
                for v in rule.check(Stack([provider(environment), *CASES[rule.name][0]]))
                if v.urn == bad.urn
            ]
            assert sorted(v.message for v in alone) == sorted(v.message for v in together)


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
