"""The IAM table against what the stacks register, and the roles' policies against the calls.

The stacks are run under the mocks (dev, uat, prod) recording every resource type and every
data source they invoke; every one must have a row. The deploy and preview policies are then
judged with a small IAM evaluator (tests/iam_eval.py, tested first against IAM's documented
semantics) on real actions: one create call per type (from the Service Authorization
Reference), the reads a refresh makes, and the data reads a preview must never make.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from components import aws_permissions as perms
from components.aws_permissions import (
    DATA_READ_ACTIONS,
    MANAGED_POLICY_MAX_CHARS,
    PERMISSIONS,
    PLATFORM_TYPES,
    READ_ACTIONS,
    deploy_statements,
    needs,
    policy_size,
)
from components.github_oidc import GLOBAL_SERVICES, GithubOidcArgs, deploy_policy, preview_policy
from infra.config import load_settings, read_stack_config
from infra.config.profiles import ENVIRONMENTS
from infra.offline.mockengine import PlatformMocks, run_program
from infra.stack import build
from tests.iam_eval import evaluate, matches

ALLOW, DENY, IMPLICIT = "Allow", "Deny", "ImplicitDeny"


# --- the evaluator itself, against IAM's documented semantics ---------------------------------
def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


BUCKET_OBJECT = "arn:aws:s3:::state/stacks/dev.json"
OTHER_OBJECT = "arn:aws:s3:::data/customers.csv"
REGION = "aws:RequestedRegion"

EVALUATOR_CASES = [
    # (why, policy, action, resource, context, expected)
    ("nothing allows: implicit deny", _doc(), "s3:GetObject", None, {}, IMPLICIT),
    ("exact action", _doc(_allow("s3:GetObject")), "s3:GetObject", None, {}, ALLOW),
    ("actions are case-insensitive", _doc(_allow("S3:getobject")), "s3:GetObject", None, {},
     ALLOW),
    ("another action: implicit deny", _doc(_allow("s3:GetObject")), "s3:PutObject", None, {},
     IMPLICIT),
    ("* matches any run", _doc(_allow("s3:Get*")), "s3:GetObjectVersion", None, {}, ALLOW),
    ("* matches the empty run", _doc(_allow("s3:GetObject*")), "s3:GetObject", None, {},
     ALLOW),
    ("a prefix wildcard is not a verb wildcard", _doc(_allow("s3:Get*")), "s3:ListBucket", None,
     {}, IMPLICIT),
    ("? matches exactly one character", _doc(_allow("ec2:Describe?pcs")), "ec2:DescribeVpcs",
     None, {}, ALLOW),
    ("? does not match two", _doc(_allow("ec2:Describe?cs")), "ec2:DescribeVpcs", None, {},
     IMPLICIT),
    ("service:* stays in its service", _doc(_allow("iam:*")), "iamx:CreateRole", None, {},
     IMPLICIT),
    ("the action * matches everything", _doc(_allow("*")), "kafka-cluster:ReadData", None, {},
     ALLOW),
    ("a list is an OR", _doc(_allow(["logs:Describe*", "s3:ListBucket"])), "s3:ListBucket", None,
     {}, ALLOW),
    ("explicit deny beats allow", _doc(_allow("s3:*"), _deny("s3:GetObject")), "s3:GetObject",
     None, {}, DENY),
    ("explicit deny beats allow, in any order", _doc(_deny("s3:GetObject"), _allow("s3:*")),
     "s3:GetObject", None, {}, DENY),
    ("deny alone is still a deny", _doc(_deny("s3:GetObject")), "s3:GetObject", None, {}, DENY),
    ("a deny of another action changes nothing", _doc(_allow("s3:*"), _deny("s3:PutObject")),
     "s3:GetObject", None, {}, ALLOW),
    ("NotAction allows all but its actions",
     _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), "ec2:RunInstances", None,
     {}, ALLOW),
    ("NotAction does not allow its own actions",
     _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), "iam:CreateUser", None,
     {}, IMPLICIT),
    ("a NotAction deny spares its actions",
     _doc(_allow("*"), {"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*"}),
     "iam:GetRole", None, {}, ALLOW),
    ("resource * matches every ARN", _doc(_allow("s3:GetObject")), "s3:GetObject", OTHER_OBJECT,
     {}, ALLOW),
    ("a resource wildcard spans / and :", _doc(_allow("s3:GetObject", "arn:aws:s3:::state/*")),
     "s3:GetObject", BUCKET_OBJECT, {}, ALLOW),
    ("resources are case-sensitive", _doc(_allow("s3:GetObject", "arn:aws:s3:::STATE/*")),
     "s3:GetObject", BUCKET_OBJECT, {}, IMPLICIT),
    ("NotResource deny carves one resource out",
     _doc(_allow("s3:GetObject"),
          {"Effect": "Deny", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::state/*"}),
     "s3:GetObject", BUCKET_OBJECT, {}, ALLOW),
    ("… and denies everywhere else",
     _doc(_allow("s3:GetObject"),
          {"Effect": "Deny", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::state/*"}),
     "s3:GetObject", OTHER_OBJECT, {}, DENY),
    ("a statement that is a dict, not a list",
     {"Version": "2012-10-17", "Statement": _allow("sqs:GetQueueUrl")}, "sqs:GetQueueUrl", None,
     {}, ALLOW),
    ("StringNotEquals with another value: the deny applies",
     _doc(_allow("*"), _deny("*", Condition={"StringNotEquals": {REGION: ["eu-west-1"]}})),
     "ec2:RunInstances", None, {REGION: "us-east-1"}, DENY),
    ("StringNotEquals with the value: the deny does not apply",
     _doc(_allow("*"), _deny("*", Condition={"StringNotEquals": {REGION: ["eu-west-1"]}})),
     "ec2:RunInstances", None, {REGION: "eu-west-1"}, ALLOW),
    ("a negated operator on a missing key is true",
     _doc(_allow("*"), _deny("*", Condition={"StringNotEquals": {REGION: "eu-west-1"}})),
     "ec2:RunInstances", None, {}, DENY),
    ("a positive operator on a missing key is false",
     _doc(_allow("*", Condition={"StringEquals": {REGION: "eu-west-1"}})), "ec2:RunInstances",
     None, {}, IMPLICIT),
    ("IfExists holds on a missing key",
     _doc(_allow("*", Condition={"StringEqualsIfExists": {REGION: "eu-west-1"}})),
     "ec2:RunInstances", None, {}, ALLOW),
    ("condition key names are case-insensitive",
     _doc(_allow("*", Condition={"StringEquals": {"AWS:requestedregion": "eu-west-1"}})),
     "ec2:RunInstances", None, {REGION: "eu-west-1"}, ALLOW),
    ("StringLike takes wildcards",
     _doc(_allow("*", Condition={"StringLike": {REGION: "eu-*"}})), "ec2:RunInstances", None,
     {REGION: "eu-central-1"}, ALLOW),
    ("keys are ANDed",
     _doc(_allow("*", Condition={"StringEquals": {REGION: "eu-west-1", "aws:x": "1"}})),
     "ec2:RunInstances", None, {REGION: "eu-west-1"}, IMPLICIT),
    ("several policies: a deny in one beats an allow in another",
     [_doc(_allow("kms:*")), _doc(_deny("kms:Decrypt"))], "kms:Decrypt", None, {}, DENY),
]  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "action", "resource", "context", "expected"),
    [case[1:] for case in EVALUATOR_CASES],
    ids=[case[0] for case in EVALUATOR_CASES],
)
def test_the_evaluator_follows_iams_rules(policy, action, resource, context, expected):
    assert evaluate(policy, action, resource, context) == expected


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Resource": "*"},  # no Action
        {"Effect": "Allow", "Action": "*", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*"},  # no Resource
        {"Effect": "Permit", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"},
        _allow("*", Condition={"NumericLessThan": {"aws:x": "1"}}),
        _allow("*", "arn:aws:s3:::${aws:username}/*"),
    ],
)
def test_the_evaluator_refuses_what_it_cannot_judge(statement):
    with pytest.raises(ValueError):
        evaluate(_doc(statement), "s3:GetObject", "arn:aws:s3:::b/k", {"aws:x": "0"})


# --- what the stacks register -----------------------------------------------------------------
class _RecordingInvokes(PlatformMocks):
    """The platform's mocks, remembering every data source the program invokes."""

    def __init__(self, region: str) -> None:
        super().__init__(region)
        self.invoked: set[str] = set()

    def call(self, args):
        self.invoked.add(args.token)
        return super().call(args)


@pytest.fixture(scope="module")
def registered() -> dict[str, set[str]]:
    """Every type token and invoke token of dev, uat and prod -> the stacks that use it."""
    found: dict[str, set[str]] = defaultdict(set)
    for stack in ENVIRONMENTS:
        config = read_stack_config(stack)
        settings = load_settings(stack, config)
        mocks = _RecordingInvokes(str(config.get("aws:region", "eu-west-1")))
        recording = run_program(
            lambda s=settings: build(s), stack=stack, config=config, mocks=mocks
        )
        for token in {r.type for r in recording.resources} | mocks.invoked:
            found[token].add(stack)
    return found


def test_every_type_and_data_source_the_stacks_use_has_a_row(registered):
    missing = []
    for token in sorted(registered):
        try:
            needs(token)
        except KeyError:
            missing.append(f"{token} (used by {', '.join(sorted(registered[token]))})")
    assert not missing, "not in components/aws_permissions.PERMISSIONS: " + "; ".join(missing)
    # The walk really saw the stacks: resources, remote components and data sources.
    assert {"aws:appautoscaling/target:Target", "eks:index:Cluster"} <= set(registered)
    assert "aws:index/getAvailabilityZones:getAvailabilityZones" in registered


def test_a_token_without_a_row_is_refused_by_name():
    with pytest.raises(KeyError, match=r"aws:neptune/cluster:Cluster: not in .*PERMISSIONS"):
        needs("aws:neptune/cluster:Cluster")
    assert needs("kubernetes:apps/v1:Deployment") is PERMISSIONS["kubernetes:*"]


def test_the_table_has_no_row_nobody_uses(registered):
    """A row for a type no stack registers rots; only upcoming work may be ahead."""
    stale = []
    for token, row in PERMISSIONS.items():
        if token.endswith(":*"):
            used = any(t.startswith(token[:-1]) for t in registered)
        else:
            used = token in registered
        if row.upcoming and used:
            stale.append(f"{token}: registered now, drop upcoming={row.upcoming!r}")
        elif not row.upcoming and not used:
            stale.append(f"{token}: registered by no stack")
    assert not stale, stale
    # Karpenter's queue, rules, instance profile and the Pod Identity associations were
    # ahead of the stacks (issue 17); they are registered now, nothing is upcoming.
    assert {t for t, row in PERMISSIONS.items() if row.upcoming} == set()


def test_rows_name_real_prefixes_and_explain_the_empty_ones():
    for token, row in PERMISSIONS.items():
        assert row.prefixes == tuple(dict.fromkeys(row.prefixes)), f"{token}: a prefix twice"
        assert all(p in READ_ACTIONS for p in row.prefixes), f"{token}: prefix without reads"
        if not row.prefixes:
            assert row.why, f"{token}: say why it needs no AWS permission"
    used = {p for row in PERMISSIONS.values() for p in row.prefixes}
    assert set(READ_ACTIONS) == used  # no read list for a service nothing calls


# --- the deploy role: derived from the table, enough for every create -------------------------
# One create (or first-update) call per type and one per extra prefix of its row, from the
# Service Authorization Reference (dependent actions) and the services' guides.
CREATE_ACTIONS: dict[str, tuple[str, ...]] = {
    "aws:appautoscaling/policy:Policy": (
        "application-autoscaling:PutScalingPolicy", "cloudwatch:PutMetricAlarm"),
    "aws:appautoscaling/target:Target": (
        "application-autoscaling:RegisterScalableTarget", "iam:CreateServiceLinkedRole",
        "kafka:UpdateBrokerStorage"),
    "aws:backup/plan:Plan": ("backup:CreateBackupPlan",),
    "aws:backup/selection:Selection": ("backup:CreateBackupSelection", "iam:PassRole"),
    "aws:backup/vault:Vault": (
        "backup:CreateBackupVault", "backup-storage:MountCapsule", "kms:CreateGrant"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup", "logs:PutRetentionPolicy"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("ec2:RevokeSecurityGroupIngress",),
    "aws:ec2/eip:Eip": ("ec2:AllocateAddress",),
    "aws:ec2/flowLog:FlowLog": ("ec2:CreateFlowLogs", "iam:PassRole"),
    "aws:ec2/internetGateway:InternetGateway": (
        "ec2:CreateInternetGateway", "ec2:AttachInternetGateway"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("ec2:CreateLaunchTemplate",),
    "aws:ec2/natGateway:NatGateway": ("ec2:CreateNatGateway",),
    "aws:ec2/route:Route": ("ec2:CreateRoute",),
    "aws:ec2/routeTable:RouteTable": ("ec2:CreateRouteTable",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("ec2:AssociateRouteTable",),
    "aws:ec2/securityGroup:SecurityGroup": ("ec2:CreateSecurityGroup",),
    "aws:ec2/subnet:Subnet": ("ec2:CreateSubnet",),
    "aws:ec2/vpc:Vpc": ("ec2:CreateVpc", "ec2:ModifyVpcAttribute"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (
        "ec2:CreateVpcEndpoint", "route53:AssociateVPCWithHostedZone"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        "ec2:AuthorizeSecurityGroupEgress",),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "ec2:AuthorizeSecurityGroupIngress",),
    "eks:index:Cluster": (
        "eks:CreateCluster", "iam:CreateRole", "iam:PassRole", "iam:CreateOpenIDConnectProvider",
        "ec2:CreateSecurityGroup", "kms:CreateGrant"),
    "aws:eks/accessEntry:AccessEntry": ("eks:CreateAccessEntry",),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ("eks:AssociateAccessPolicy",),
    "aws:eks/addon:Addon": ("eks:CreateAddon", "iam:PassRole"),
    "aws:eks/nodeGroup:NodeGroup": (
        "eks:CreateNodegroup", "iam:PassRole", "ec2:DescribeLaunchTemplateVersions"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": (
        "eks:CreatePodIdentityAssociation", "iam:PassRole"),
    "aws:elasticache/parameterGroup:ParameterGroup": ("elasticache:CreateCacheParameterGroup",),
    "aws:elasticache/subnetGroup:SubnetGroup": ("elasticache:CreateCacheSubnetGroup",),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "elasticache:CreateReplicationGroup", "ec2:DescribeSubnets",
        "iam:CreateServiceLinkedRole", "kms:CreateGrant", "logs:CreateLogDelivery"),
    "aws:iam/policy:Policy": ("iam:CreatePolicy",),
    "aws:iam/role:Role": ("iam:CreateRole",),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("iam:AttachRolePolicy",),
    "aws:iam/instanceProfile:InstanceProfile": (
        "iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"),
    "aws:kms/key:Key": ("kms:CreateKey", "kms:EnableKeyRotation"),
    "aws:kms/alias:Alias": ("kms:CreateAlias",),
    "aws:msk/cluster:Cluster": (
        "kafka:CreateClusterV2", "ec2:DescribeSubnets", "iam:CreateServiceLinkedRole",
        "kms:CreateGrant", "logs:CreateLogDelivery"),
    "aws:msk/configuration:Configuration": ("kafka:CreateConfiguration",),
    "aws:msk/topic:Topic": (
        "kafka:CreateTopic", "kafka-cluster:Connect", "kafka-cluster:CreateTopic"),
    "aws:rds/cluster:Cluster": (
        "rds:CreateDBCluster", "iam:PassRole", "kms:CreateGrant", "secretsmanager:CreateSecret"),
    "aws:rds/clusterInstance:ClusterInstance": (
        "rds:CreateDBInstance", "iam:PassRole", "kms:CreateGrant"),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": (
        "rds:CreateDBClusterParameterGroup", "rds:ModifyDBClusterParameterGroup"),
    "aws:rds/subnetGroup:SubnetGroup": ("rds:CreateDBSubnetGroup",),
    "aws:rds/proxy:Proxy": ("rds:CreateDBProxy", "iam:PassRole"),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": ("rds:ModifyDBProxyTargetGroup",),
    "aws:rds/proxyTarget:ProxyTarget": ("rds:RegisterDBProxyTargets",),
    "aws:s3/bucket:Bucket": ("s3:CreateBucket",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:PutLifecycleConfiguration",),
    "aws:s3/bucketLogging:BucketLogging": ("s3:PutBucketLogging",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:PutBucketOwnershipControls",),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:PutBucketPublicAccessBlock",),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": (
        "s3:PutReplicationConfiguration", "iam:PassRole"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration",),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning",),
    "aws:secretsmanager/secret:Secret": ("secretsmanager:CreateSecret",),
    "aws:secretsmanager/secretVersion:SecretVersion": (
        "secretsmanager:PutSecretValue", "kms:GenerateDataKey"),
    "aws:sqs/queue:Queue": ("sqs:CreateQueue",),
    "aws:sqs/queuePolicy:QueuePolicy": ("sqs:SetQueueAttributes",),
    "aws:cloudwatch/eventRule:EventRule": ("events:PutRule",),
    "aws:cloudwatch/eventTarget:EventTarget": ("events:PutTargets",),
    "aws:index/getAvailabilityZones:getAvailabilityZones": ("ec2:DescribeAvailabilityZones",),
}  # fmt: skip
# Prefixes a row keeps without a create call of its own, and why.
NOT_A_CREATE_CALL = {
    # EKS's service-linked role builds the Auto Scaling group; the deployer keeps the service
    # to inspect and repair it (unverified against a real CreateNodegroup).
    ("aws:eks/nodeGroup:NodeGroup", "autoscaling"),
}
ARGS = GithubOidcArgs(
    repository="acme/platform",
    environments=["dev", "uat"],
    regions=["eu-west-1", "eu-central-1"],
    state_bucket="acme-pulumi-state",
    secrets_key_arn="arn:aws:kms:eu-west-1:123456789012:key/1234abcd-secrets",
)
STATE_OBJECT = "arn:aws:s3:::acme-pulumi-state/.pulumi/stacks/platform/dev.json"
OTHER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9999ffff-data"


def _region(action: str) -> dict[str, str]:
    """The region a call goes to: global services' APIs live in us-east-1."""
    global_service = action.split(":")[0] in GLOBAL_SERVICES
    return {REGION: "us-east-1" if global_service else "eu-west-1"}


def test_every_row_that_calls_aws_has_create_calls_for_each_of_its_prefixes():
    calling = {token for token, row in PERMISSIONS.items() if row.prefixes}
    assert set(CREATE_ACTIONS) == calling
    for token, actions in CREATE_ACTIONS.items():
        covered = {a.split(":")[0] for a in actions} | {
            p for t, p in NOT_A_CREATE_CALL if t == token
        }
        assert covered == set(needs(token).prefixes), token


@pytest.mark.parametrize("token", sorted(CREATE_ACTIONS))
def test_the_row_alone_allows_its_create_calls(token):
    own = _doc(*deploy_statements([token]))
    for action in CREATE_ACTIONS[token]:
        assert evaluate(own, action) == ALLOW, f"{token}: {action}"


def test_the_deploy_role_allows_every_create_call_in_the_stacks_regions():
    policy = deploy_policy(ARGS, "arn:aws:iam::123456789012:oidc-provider/github")
    for token, actions in CREATE_ACTIONS.items():
        for action in actions:
            assert evaluate(policy, action, context=_region(action)) == ALLOW, f"{token}: {action}"
    # The issue 14 failure (MSK storage autoscaling on the first `pulumi up`), and the guard.
    in_region, elsewhere = {REGION: "eu-central-1"}, {REGION: "us-west-2"}
    assert (
        evaluate(policy, "application-autoscaling:RegisterScalableTarget", None, in_region) == ALLOW
    )
    assert evaluate(policy, "ec2:RunInstances", None, elsewhere) == DENY


def test_the_deploy_scope_is_derived_from_the_table():
    (statement,) = deploy_statements(["aws:appautoscaling/target:Target", "platform:*"])
    assert statement["Action"] == ["application-autoscaling:*", "iam:*", "kafka:*"]
    (everything,) = deploy_statements()
    assert everything["Action"] == [f"{p}:*" for p in perms.prefixes(PLATFORM_TYPES)]
    assert evaluate(_doc(everything), "elasticloadbalancing:CreateLoadBalancer") == IMPLICIT


# --- the preview role: what a refresh reads, and never data -----------------------------------
# What the provider's read (refresh) of each type calls.
REFRESH_READS: dict[str, tuple[str, ...]] = {
    "aws:appautoscaling/policy:Policy": ("application-autoscaling:DescribeScalingPolicies",),
    "aws:appautoscaling/target:Target": (
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:ListTagsForResource"),
    "aws:backup/plan:Plan": ("backup:GetBackupPlan", "backup:ListTags"),
    "aws:backup/selection:Selection": ("backup:GetBackupSelection",),
    "aws:backup/vault:Vault": ("backup:DescribeBackupVault", "backup:ListTags"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:DescribeLogGroups", "logs:ListTagsForResource"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("ec2:DescribeSecurityGroups",),
    "aws:ec2/eip:Eip": ("ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"),
    "aws:ec2/flowLog:FlowLog": ("ec2:DescribeFlowLogs",),
    "aws:ec2/internetGateway:InternetGateway": ("ec2:DescribeInternetGateways",),
    "aws:ec2/launchTemplate:LaunchTemplate": (
        "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"),
    "aws:ec2/natGateway:NatGateway": ("ec2:DescribeNatGateways",),
    "aws:ec2/route:Route": ("ec2:DescribeRouteTables",),
    "aws:ec2/routeTable:RouteTable": ("ec2:DescribeRouteTables",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("ec2:DescribeRouteTables",),
    "aws:ec2/securityGroup:SecurityGroup": ("ec2:DescribeSecurityGroups",),
    "aws:ec2/subnet:Subnet": ("ec2:DescribeSubnets",),
    "aws:ec2/vpc:Vpc": ("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("ec2:DescribeSecurityGroupRules",),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        "ec2:DescribeSecurityGroupRules",),
    "eks:index:Cluster": (
        "eks:DescribeCluster", "iam:GetRole", "iam:ListAttachedRolePolicies",
        "iam:GetOpenIDConnectProvider", "ec2:DescribeSecurityGroups"),
    "aws:eks/accessEntry:AccessEntry": ("eks:DescribeAccessEntry",),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (
        "eks:ListAssociatedAccessPolicies",),
    "aws:eks/addon:Addon": ("eks:DescribeAddon",),
    "aws:eks/nodeGroup:NodeGroup": ("eks:DescribeNodegroup",),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": (
        "eks:DescribePodIdentityAssociation",),
    "aws:elasticache/parameterGroup:ParameterGroup": (
        "elasticache:DescribeCacheParameterGroups", "elasticache:DescribeCacheParameters"),
    "aws:elasticache/subnetGroup:SubnetGroup": ("elasticache:DescribeCacheSubnetGroups",),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "elasticache:DescribeReplicationGroups", "elasticache:DescribeCacheClusters",
        "elasticache:ListTagsForResource"),
    "aws:iam/policy:Policy": ("iam:GetPolicy", "iam:GetPolicyVersion"),
    "aws:iam/role:Role": ("iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"),
    "aws:iam/rolePolicy:RolePolicy": ("iam:GetRolePolicy",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("iam:ListAttachedRolePolicies",),
    "aws:iam/instanceProfile:InstanceProfile": ("iam:GetInstanceProfile",),
    "aws:kms/key:Key": (
        "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
    "aws:kms/alias:Alias": ("kms:ListAliases",),
    "aws:msk/cluster:Cluster": (
        "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers", "kafka:ListTagsForResource"),
    "aws:msk/configuration:Configuration": (
        "kafka:DescribeConfiguration", "kafka:DescribeConfigurationRevision"),
    "aws:msk/topic:Topic": (
        "kafka:DescribeTopic", "kafka-cluster:Connect", "kafka-cluster:DescribeTopic",
        "kafka-cluster:DescribeTopicDynamicConfiguration"),
    "aws:rds/cluster:Cluster": ("rds:DescribeDBClusters", "rds:ListTagsForResource"),
    "aws:rds/clusterInstance:ClusterInstance": ("rds:DescribeDBInstances",),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": (
        "rds:DescribeDBClusterParameterGroups", "rds:DescribeDBClusterParameters"),
    "aws:rds/subnetGroup:SubnetGroup": ("rds:DescribeDBSubnetGroups",),
    "aws:rds/proxy:Proxy": ("rds:DescribeDBProxies",),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": ("rds:DescribeDBProxyTargetGroups",),
    "aws:rds/proxyTarget:ProxyTarget": ("rds:DescribeDBProxyTargets",),
    "aws:s3/bucket:Bucket": (
        "s3:ListBucket", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS",
        "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration",
        "s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
        "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:GetLifecycleConfiguration",),
    "aws:s3/bucketLogging:BucketLogging": ("s3:GetBucketLogging",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:GetBucketOwnershipControls",),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:GetBucketPolicy",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:GetBucketPublicAccessBlock",),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": ("s3:GetReplicationConfiguration",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:GetEncryptionConfiguration",),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:GetBucketVersioning",),
    "aws:secretsmanager/secret:Secret": (
        "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"),
    "aws:sqs/queue:Queue": ("sqs:GetQueueAttributes", "sqs:ListQueueTags"),
    "aws:sqs/queuePolicy:QueuePolicy": ("sqs:GetQueueAttributes",),
    "aws:cloudwatch/eventRule:EventRule": ("events:DescribeRule", "events:ListTagsForResource"),
    "aws:cloudwatch/eventTarget:EventTarget": ("events:ListTargetsByRule",),
    "aws:index/getAvailabilityZones:getAvailabilityZones": ("ec2:DescribeAvailabilityZones",),
}  # fmt: skip
# Refreshing a secret version reads its value: a preview refresh of one fails, on purpose.
REFRESH_READS_DATA = {
    "aws:secretsmanager/secretVersion:SecretVersion": "secretsmanager:GetSecretValue",
}
# Concrete actions behind each wildcard of DATA_READ_ACTIONS (Service Authorization Reference).
DATA_WILDCARDS = {
    "s3:GetObject*": ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes",
                      "s3:GetObjectTorrent"),
    "kms:ReEncrypt*": ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
    "ssm:GetParameter*": ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
                          "ssm:GetParameterHistory"),
    "kafka-cluster:WriteData*": ("kafka-cluster:WriteData", "kafka-cluster:WriteDataIdempotently"),
    "rds-data:*": ("rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement"),
    "rds:Download*": ("rds:DownloadDBLogFilePortion", "rds:DownloadCompleteDBLogFile"),
    "backup-storage:*": ("backup-storage:GetChunk", "backup-storage:ListChunks"),
}  # fmt: skip


# The data reads a preview must never make, whatever DATA_READ_ACTIONS comes to say (issue 14).
NEVER_FOR_A_PREVIEW = (
    "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults",
    "logs:StartLiveTail", "s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue", "kms:Decrypt", "ssm:GetParameter",
    "ssm:GetParametersByPath", "kafka-cluster:ReadData", "kafka-cluster:WriteData",
    "rds-db:connect", "rds-data:ExecuteStatement", "elasticache:Connect", "kinesis:GetRecords",
    "sqs:ReceiveMessage", "rds:DownloadDBLogFilePortion", "backup:GetRecoveryPointRestoreMetadata",
    "ec2:GetPasswordData", "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot",
    "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
)  # fmt: skip


def _data_actions() -> list[str]:
    concrete = list(NEVER_FOR_A_PREVIEW)
    for action in DATA_READ_ACTIONS:
        if "*" in action or "?" in action:
            assert action in DATA_WILDCARDS, f"give DATA_WILDCARDS examples of {action}"
            assert all(matches(action, a, ignore_case=True) for a in DATA_WILDCARDS[action])
            concrete += DATA_WILDCARDS[action]
        else:
            concrete.append(action)
    return sorted(set(concrete))


@pytest.fixture(scope="module")
def preview() -> dict:
    return preview_policy(ARGS)


def test_every_refreshable_type_has_its_reads_listed():
    calling = {token for token, row in PERMISSIONS.items() if row.prefixes}
    assert set(REFRESH_READS) | set(REFRESH_READS_DATA) == calling


@pytest.mark.parametrize("token", sorted(REFRESH_READS))
def test_the_preview_reads_what_a_refresh_reads(preview, token):
    for action in REFRESH_READS[token]:
        assert evaluate(preview, action) == ALLOW, f"{token}: {action}"


@pytest.mark.parametrize("action", _data_actions())
def test_the_preview_never_reads_data(preview, action):
    assert evaluate(preview, action) == DENY
    # … even with ReadOnlyAccess-style wildcards attached beside it
    assert evaluate([preview, _doc(_allow("*"))], action) == DENY


def test_a_preview_refresh_of_a_secret_version_is_refused(preview):
    for token, action in REFRESH_READS_DATA.items():
        assert action in DATA_READ_ACTIONS, token
        assert evaluate(preview, action, "arn:aws:secretsmanager:eu-west-1:1:secret:x") == DENY


def test_objects_only_from_the_state_bucket_and_decryption_only_with_the_secrets_key(preview):
    assert evaluate(preview, "s3:GetObject", STATE_OBJECT) == ALLOW
    assert evaluate(preview, "s3:GetObject", "arn:aws:s3:::acme-data/export.csv") == DENY
    assert evaluate(preview, "s3:GetObject", "arn:aws:s3:::acme-pulumi-state-2/x") == DENY
    assert evaluate(preview, "s3:PutObject", STATE_OBJECT) == IMPLICIT
    assert evaluate(preview, "kms:Decrypt", ARGS.secrets_key_arn) == ALLOW
    assert evaluate(preview, "kms:Decrypt", OTHER_KEY) == DENY
    assert evaluate(preview, "kms:Encrypt", ARGS.secrets_key_arn) == IMPLICIT
    # Without a self-managed backend nothing is carved out.
    bare = preview_policy(GithubOidcArgs(repository="a/b", environments=["dev"], regions=["x"]))
    assert evaluate(bare, "s3:GetObject", STATE_OBJECT) == DENY
    assert evaluate(bare, "kms:Decrypt", ARGS.secrets_key_arn) == DENY


def test_the_preview_is_written_out_not_readonlyaccess(preview):
    text = json.dumps(preview)
    assert "ReadOnlyAccess" not in text
    allowed = [
        action
        for s in preview["Statement"]
        if s["Effect"] == "Allow"
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert "*" not in allowed and not any(a.startswith("*") or a.endswith(":*") for a in allowed)
    for action in allowed:  # reads only, plus the Kafka handshake and the backend's decrypt
        verb = action.split(":", 1)[1]
        assert verb.startswith(("Describe", "Get", "List")) or action in {
            "kafka-cluster:Connect", "kms:Decrypt"}, action  # fmt: skip
    assert evaluate(preview, "ec2:RunInstances") == IMPLICIT
    assert evaluate(preview, "iam:PassRole") == IMPLICIT


def test_every_read_pattern_belongs_to_its_service():
    for prefix, actions in READ_ACTIONS.items():
        assert all(a.startswith(f"{prefix}:") for a in actions), prefix


def test_the_policies_fit_iams_managed_policy_limit(preview):
    assert policy_size(preview) <= MANAGED_POLICY_MAX_CHARS
    deploy = deploy_policy(ARGS, "arn:aws:iam::123456789012:oidc-provider/github")
    assert policy_size(deploy) <= MANAGED_POLICY_MAX_CHARS
    assert policy_size(preview) == len(json.dumps(preview, separators=(",", ":")))
