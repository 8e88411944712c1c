"""Properties checked by content, not presence: a weakened promise fails here.

* A default-deny NetworkPolicy has exactly no ingress rules (a rule with an empty or missing
  `from` admits every source), and no policy of any stack admits everyone by accident.
* Deny lists equal their expected sets: one member missing is a hole, not a detail.
* Grafana's anonymous access and sign-up are off in the config Grafana itself receives (the
  rendered grafana.ini of the pinned chart), not only in the values the program writes.

The database grants (exactly the login and the administrator, never PUBLIC) are checked
against a real PostgreSQL in tests/components/test_database_logins_sql.py.
"""

from __future__ import annotations

import configparser

import pytest

from components.bucket_policies import bucket_policy
from components.github_oidc import GithubOidcArgs, deploy_policy
from infra.drill import permissions as drill_permissions
from tests.conftest import ENVIRONMENTS, planned
from tests.test_helm_render import charts, stack  # noqa: F401  (the `charts` fixture)

POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DENY_ALL_INGRESS = {"podSelector": {"matchLabels": {}}, "policyTypes": ["Ingress"], "ingress": []}


# -- NetworkPolicies ------------------------------------------------------------------------------
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_default_deny_policy_has_exactly_no_ingress_rule(env):
    denies = [
        p for p in planned(env)[1].of_type(POLICY)
        if p.inputs["metadata"]["name"] == "default-deny-ingress"
    ]  # fmt: skip
    assert denies
    for policy in denies:
        assert policy.inputs["spec"] == DENY_ALL_INGRESS, policy.name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_policy_rule_admits_every_source_by_omission(env):
    """`from: []` or no `from` admits every source; a rule meaning "every namespace" says so
    with an explicit selector (`namespaceSelector: {}`), which is reviewed where it is built."""
    for policy in planned(env)[1].of_type(POLICY):
        spec = policy.inputs["spec"]
        assert spec["policyTypes"] == ["Ingress"], policy.name
        for rule in spec["ingress"]:
            assert rule.get("from"), f"{policy.name}: an ingress rule without sources"
            for peer in rule["from"]:
                assert peer, f"{policy.name}: an empty peer"


# -- deny lists -----------------------------------------------------------------------------------
GITHUB = GithubOidcArgs(
    repository="acme/platform", environments=["dev", "uat"], regions=["eu-west-1", "eu-central-1"],
    repository_ids=(1234, 5678), state_bucket="acme-pulumi-state",
)  # fmt: skip
OIDC_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


def _statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_the_deploy_roles_deny_statements_are_exactly_these():
    denies = {
        sid: s for sid, s in _statements(deploy_policy(GITHUB, OIDC_PROVIDER)).items()
        if s["Effect"] == "Deny"
    }  # fmt: skip
    assert denies == {
        "OnlyTheStacksRegions": {
            "Sid": "OnlyTheStacksRegions", "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*", "tag:*", "organizations:*", "support:*",
                          "cloudfront:*", "route53:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1",
                                                                      "eu-central-1"]}},
        },
        "NoLongLivedCredentials": {
            "Sid": "NoLongLivedCredentials", "Effect": "Deny",
            "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile",
                       "iam:UpdateLoginProfile", "iam:CreateServiceSpecificCredential"],
            "Resource": "*",
        },
        "NoTamperingWithTheTrustItself": {
            "Sid": "NoTamperingWithTheTrustItself", "Effect": "Deny",
            "Action": ["iam:DeleteOpenIDConnectProvider",
                       "iam:UpdateOpenIDConnectProviderThumbprint",
                       "iam:AddClientIDToOpenIDConnectProvider", "iam:UpdateAssumeRolePolicy",
                       "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRolePolicy",
                       "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
                       "iam:DeleteRolePermissionsBoundary", "iam:DeleteRole"],
            "Resource": [OIDC_PROVIDER, "arn:*:iam::*:role/github-actions-*"],
        },
    }  # fmt: skip


BUCKET = "arn:aws:s3:::acme-data"
TLS_DENIES = [
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Sid": "DenyOutdatedTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": [BUCKET, f"{BUCKET}/*"],
     "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}},
]  # fmt: skip


@pytest.mark.parametrize("logs", [False, True])
def test_every_bucket_policy_denies_exactly_plain_and_old_tls_for_everyone(logs):
    document = bucket_policy(BUCKET, "123456789012", accepts_access_logs=logs)
    assert [s for s in document["Statement"] if s["Effect"] == "Deny"] == TLS_DENIES


def test_the_drill_roles_deny_statements_are_exactly_these():
    denies = [s for s in drill_permissions.policy("prod")["Statement"] if s["Effect"] == "Deny"]
    assert denies == [
        {
            "Sid": "DeleteOnlyWhatTheDrillCreated", "Effect": "Deny",
            "Action": ["rds:DeleteDBCluster", "rds:DeleteDBInstance",
                       "elasticache:DeleteReplicationGroup", "s3:DeleteBucket"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:ResourceTag/platform:created-by": "drill"}},
        },
        {
            "Sid": "OnlyThisEnvironmentsSecrets", "Effect": "Deny",
            "Action": "secretsmanager:GetSecretValue", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:ResourceTag/environment": "prod"}},
        },
    ]  # fmt: skip
    # Every store-removing call the drill makes is one the tag condition guards.
    removing = {a for a in drill_permissions.actions() if ":Delete" in a and "Object" not in a}
    assert removing == set(denies[0]["Action"])


# -- Grafana: what the chart receives, and what the server itself is configured with --------------
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_chart_receives_anonymous_access_and_sign_up_off(env):
    (kps,) = [
        r for r in planned(env)[1].of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "kube-prometheus-stack"
    ]  # fmt: skip
    ini = kps.inputs["values"]["grafana"]["grafana.ini"]
    assert ini["auth.anonymous"] == {"enabled": False}
    assert ini["users"] == {"allow_sign_up": False}
    assert "auth.proxy" not in ini and "auth.basic" not in ini


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_grafana_receives_anonymous_access_and_sign_up_off(env, charts):  # noqa: F811
    """The chart's rendered grafana.ini (needs the chart cache; CI has it)."""
    rendered = stack(env)
    (kps,) = [r for r in rendered.releases if r.chart == "kube-prometheus-stack"]
    configs = [
        o.manifest for o in rendered.objects(kps)
        if o.kind == "ConfigMap" and "grafana.ini" in (o.manifest.get("data") or {})
    ]  # fmt: skip
    assert len(configs) == 1
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(configs[0]["data"]["grafana.ini"])
    assert ini.get("auth.anonymous", "enabled") == "false"
    assert ini.get("users", "allow_sign_up") == "false"
    # No other way in without an account: basic auth stays the admin's, no auth proxy.
    assert not ini.has_section("auth.proxy") or ini.get("auth.proxy", "enabled") == "false"
