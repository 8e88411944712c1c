"""Shared load balancers: services of one visibility share one ALB (an IngressGroup).

The controller builds one ALB per `group.name`, so "one ALB per visibility" is: every
Ingress of a scheme names the same group and agrees on every group-wide annotation.
Bucket and WAF wiring is checked over the whole stack.
"""

from __future__ import annotations

import copy
import json
from functools import cache

import pytest

from components.alb import ALB, CATCH_ALL_ORDER, EXACT_HOST_ORDER
from infra.config import Settings, read_stack_config
from infra.offline.mockengine import Recording
from infra.offline.run import plan
from tests.helpers import rejected

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c"
WAF = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/edge/1234abcd"
GROUP_WIDE = ("scheme", "load-balancer-attributes", "ssl-policy", "inbound-cidrs", "wafv2-acl-arn")
SERVICES_PER_VISIBILITY = 20


def _service(name: str, public: bool, hostnames: list[str]) -> dict:
    return {
        "name": name,
        "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
        "tags": {"blue": "1.0.0", "green": "1.0.0"},
        "public": public,
        "certificateArn": CERT,
        "hostnames": hostnames,
    }


@cache
def _many_services_plan() -> tuple[Settings, Recording]:
    """prod with 40 services: 20 internal (one of them the catch-all) and 20 public."""
    config = copy.deepcopy(read_stack_config("prod"))
    config["platform:alb"] = {"wafAclArn": WAF}
    services = []
    for i in range(SERVICES_PER_VISIBILITY):
        internal_hosts = [] if i == 0 else [f"svc{i}.internal.example.com"]
        services.append(_service(f"int{i}", False, internal_hosts))
        services.append(_service(f"pub{i}", True, [f"pub{i}.example.com"]))
    config["platform:services"] = services
    return plan("prod", config)


def _many_services() -> Recording:
    return _many_services_plan()[1]


def _annotations(ingress) -> dict[str, str]:
    return {
        key.removeprefix(f"{ALB}/"): value
        for key, value in ingress.inputs["metadata"]["annotations"].items()
        if key.startswith(ALB)
    }


def test_forty_services_make_one_alb_per_visibility():
    ingresses = _many_services().of_type(INGRESS)
    assert len(ingresses) == 2 * SERVICES_PER_VISIBILITY
    groups: dict[str, set[str]] = {}
    for ingress in ingresses:
        annotations = _annotations(ingress)
        groups.setdefault(annotations["scheme"], set()).add(annotations["group.name"])
    prefix = _many_services_plan()[0].name_prefix
    assert groups == {"internal": {f"{prefix}-internal"}, "internet-facing": {f"{prefix}-public"}}


def test_members_of_a_group_agree_on_every_group_wide_setting():
    by_group: dict[str, set[tuple]] = {}
    for ingress in _many_services().of_type(INGRESS):
        annotations = _annotations(ingress)
        wide = tuple(annotations.get(key) for key in GROUP_WIDE)
        by_group.setdefault(annotations["group.name"], set()).add(wide)
    assert len(by_group) == 2
    assert all(len(variants) == 1 for variants in by_group.values()), by_group


def test_each_member_keeps_its_weighted_forwarding_and_the_catch_all_goes_last():
    for ingress in _many_services().of_type(INGRESS):
        annotations = _annotations(ingress)
        service = ingress.name.removesuffix("-ingress")
        action = json.loads(annotations[f"actions.{service}-weighted"])
        groups = action["forwardConfig"]["targetGroups"]
        assert {g["serviceName"] for g in groups} == {f"{service}-blue", f"{service}-green"}
        rules = ingress.inputs["spec"]["rules"]
        has_host = all("host" in rule for rule in rules)
        order = int(annotations["group.order"])
        assert order == (CATCH_ALL_ORDER if not has_host else EXACT_HOST_ORDER), service


def test_only_the_public_alb_takes_the_waf_acl_and_both_log_to_the_log_bucket():
    recording = _many_services()
    log_bucket = recording.one(BUCKET, "buckets-logs").inputs["bucket"]
    for ingress in _many_services().of_type(INGRESS):
        annotations = _annotations(ingress)
        public = annotations["scheme"] == "internet-facing"
        assert (annotations.get("wafv2-acl-arn") == WAF) is public
        attributes = dict(
            pair.split("=", 1) for pair in annotations["load-balancer-attributes"].split(",")
        )
        assert attributes["access_logs.s3.enabled"] == "true"
        assert attributes["access_logs.s3.bucket"] == log_bucket
        assert attributes["access_logs.s3.prefix"] == f"alb/{annotations['group.name']}"
        assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_the_log_bucket_admits_elb_log_delivery_for_this_account_only(recording):
    policies = {p.name: json.loads(p.inputs["policy"]) for p in recording.of_type(BUCKET_POLICY)}
    log_policy = policies["buckets-logs"]
    statements = {s["Sid"]: s for s in log_policy["Statement"]}
    delivery = statements["AlbAccessLogsDelivery"]
    assert delivery["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"].endswith("/alb/*/AWSLogs/123456789012/*")
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    # eu-west-1 launched before August 2022: its ELB account delivers the logs there.
    assert statements["AlbAccessLogsDeliveryLegacyRegion"]["Principal"] == {
        "AWS": "arn:aws:iam::156460612806:root"
    }
    others = [name for name in policies if name != "buckets-logs"]
    for name in others:
        sids = {s["Sid"] for s in policies[name]["Statement"]}
        assert not sids & {"AlbAccessLogsDelivery", "AlbAccessLogsDeliveryLegacyRegion"}, name


PLAIN = {"allowPlainHttp": True}
ALB_MISTAKES = {
    "two catch-all services on one ALB": (
        [{"name": "a", **PLAIN}, {"name": "b", **PLAIN}],
        "have no hostnames",
    ),
    "one hostname claimed twice": (
        [
            {"name": "a", "hostnames": ["app.example.com"], **PLAIN},
            {"name": "b", "hostnames": ["app.example.com"], **PLAIN},
        ],
        "host 'app.example.com', every path is claimed by both 'a' and 'b'",
    ),
    "plain HTTP next to TLS": (
        [
            {"name": "a", "hostnames": ["a.example.com"], **PLAIN},
            {"name": "b", "hostnames": ["b.example.com"], "certificateArn": CERT},
        ],
        "serve plain HTTP next to TLS",
    ),
}


@pytest.mark.parametrize("services, message", ALB_MISTAKES.values(), ids=list(ALB_MISTAKES))
def test_services_that_cannot_share_an_alb_are_refused(services, message):
    image = {"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/a"}
    full = [image | {"tags": {"blue": "1", "green": "1"}} | s for s in services]
    assert message in rejected("dev", {"platform:services": full})


@pytest.mark.parametrize(
    "arn, message",
    [
        ("arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1", "regional WAFv2 web ACL"),
        ("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/edge/1", "web ACLs are regional"),
        ("edge-acl", "regional WAFv2 web ACL"),
    ],
    ids=["cloudfront-scope", "other-region", "a-name-not-an-arn"],
)
def test_a_waf_acl_the_alb_cannot_use_is_refused(arn, message):
    text = rejected("dev", {"platform:alb": {"wafAclArn": arn}})
    assert "alb.wafAclArn" in text and message in text
