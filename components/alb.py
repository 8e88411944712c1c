"""Shared Application Load Balancers through the AWS Load Balancer Controller's IngressGroups.

Every Ingress of one IngressGroup becomes a rule set on one ALB. The controller refuses to
build a group whose members disagree on a group-wide setting (scheme, load balancer
attributes, inbound CIDRs, SSL policy, WAF ACL): the whole ALB then stops updating. So every
member's group-wide annotations come from `group_annotations`, the one place they are made.
Rules are evaluated in `group.order` (lower first); a member without host rules is the
catch-all and must go last.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.cidr import is_cidr

__all__ = [
    "ACCESS_LOG_PREFIX",
    "ALB",
    "CATCH_ALL_ORDER",
    "DEFAULT_SSL_POLICY",
    "ORDER_RANGE",
    "SCHEMES",
    "AlbGroup",
    "GroupMember",
    "group_annotations",
    "group_name_problems",
    "load_balancer_attributes",
    "member_problems",
    "validate",
    "waf_acl_problems",
]


ALB = "alb.ingress.kubernetes.io"
SCHEMES = ("internal", "internet-facing")
# TLS 1.3 + TLS 1.2 with forward-secret AEAD ciphers only (AWS "restricted" 2021-06 policy).
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
ORDER_RANGE = (-1000, 1000)  # the controller's group.order bounds
CATCH_ALL_ORDER = 1000  # a member without host rules matches every request: evaluate it last
ACCESS_LOG_PREFIX = "alb"  # <bucket>/alb/<group>/AWSLogs/<account>/...
_GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")
_WAF_ACL = re.compile(r"^arn:aws[a-z-]*:wafv2:([a-z0-9-]+):\d{12}:regional/webacl/[^/]+/[^/]+$")


@dataclass(frozen=True, kw_only=True)
class AlbGroup:
    """One shared ALB (an IngressGroup) and the settings all its members must agree on.

    Attributes:
        name: IngressGroup name (lowercase DNS-label-like, at most 63).
        scheme: "internal" or "internet-facing".
        access_logs_bucket: S3 bucket for access logs (its policy must admit ELB log delivery);
            logs go under `alb/<name>/`. None disables access logs.
        ssl_policy: TLS policy of the HTTPS listener (TLS 1.2/1.3 only).
        inbound_cidrs: client CIDRs allowed to reach the listeners; empty leaves the
            controller's default (0.0.0.0/0; for an internal ALB, whatever routes into the VPC).
        waf_acl_arn: regional WAFv2 web ACL to attach (internet-facing ALBs), or None.
    """

    name: str
    scheme: str = "internal"
    access_logs_bucket: pulumi.Input[str] | None = None
    ssl_policy: str = DEFAULT_SSL_POLICY
    inbound_cidrs: Sequence[str] = ()
    waf_acl_arn: pulumi.Input[str] | None = None


def group_name_problems(name: object) -> list[str]:
    if isinstance(name, str) and _GROUP_NAME.fullmatch(name):
        return []
    return [f"ALB group name {name!r}: lowercase letters, digits, '-' and '.', at most 63"]


def waf_acl_problems(arn: object, region: str | None = None) -> list[str]:
    """Why `arn` is not a regional WAFv2 web ACL usable by an ALB in `region`."""
    match = _WAF_ACL.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        return [
            f"WAF ACL {arn!r}: a regional WAFv2 web ACL ARN "
            "(arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)"
        ]
    if region is not None and match.group(1) != region:
        return [f"WAF ACL is in {match.group(1)}, the ALB in {region}: web ACLs are regional"]
    return []


def validate(group: AlbGroup) -> list[str]:
    problems = group_name_problems(group.name)
    if group.scheme not in SCHEMES:
        problems.append(f"scheme {group.scheme!r}: one of {', '.join(SCHEMES)}")
    if not group.ssl_policy.startswith("ELBSecurityPolicy-TLS13"):
        problems.append(f"ssl_policy {group.ssl_policy!r}: an ELBSecurityPolicy-TLS13-* policy")
    if isinstance(group.waf_acl_arn, str):
        problems += waf_acl_problems(group.waf_acl_arn)
    if isinstance(group.inbound_cidrs, str):
        problems.append("inbound_cidrs: a list of CIDR blocks, not one string")
    else:
        problems += [
            f"inbound_cidrs {cidr!r}: a CIDR block such as '203.0.113.0/24'"
            for cidr in group.inbound_cidrs
            if not is_cidr(cidr)
        ]
    return problems


def load_balancer_attributes(group: AlbGroup) -> pulumi.Input[str]:
    """Group-wide ALB attributes: drop invalid headers, and access logs when a bucket is set."""
    base = "routing.http.drop_invalid_header_fields.enabled=true"

    def with_logs(bucket: str) -> str:
        return (
            f"{base},access_logs.s3.enabled=true,access_logs.s3.bucket={bucket}"
            f",access_logs.s3.prefix={ACCESS_LOG_PREFIX}/{group.name}"
        )

    if group.access_logs_bucket is None:
        return base
    if isinstance(group.access_logs_bucket, str):  # plain manifests stay plain
        return with_logs(group.access_logs_bucket)
    return pulumi.Output.from_input(group.access_logs_bucket).apply(with_logs)


def group_annotations(group: AlbGroup, *, order: int, tls: bool) -> dict[str, pulumi.Input[str]]:
    """Annotations every member of `group` carries: identical across members but `order`.

    `tls` adds the HTTPS listener and the redirect from HTTP; the certificate itself is
    per member (the controller merges them onto the listener).
    """
    annotations: dict[str, pulumi.Input[str]] = {
        f"{ALB}/group.name": group.name,
        f"{ALB}/group.order": str(order),
        f"{ALB}/scheme": group.scheme,
        f"{ALB}/load-balancer-attributes": load_balancer_attributes(group),
    }
    if tls:
        annotations |= {
            f"{ALB}/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
            f"{ALB}/ssl-redirect": "443",
            f"{ALB}/ssl-policy": group.ssl_policy,
        }
    else:
        annotations[f"{ALB}/listen-ports"] = json.dumps([{"HTTP": 80}])
    if group.inbound_cidrs:
        annotations[f"{ALB}/inbound-cidrs"] = ",".join(group.inbound_cidrs)
    if group.waf_acl_arn is not None:
        annotations[f"{ALB}/wafv2-acl-arn"] = group.waf_acl_arn
    return annotations


@dataclass(frozen=True)
class GroupMember:
    """What the group rules need to know about one Ingress of a shared ALB."""

    name: str
    hostnames: Sequence[str]
    tls: bool


def member_problems(group: str, members: Sequence[GroupMember]) -> list[str]:
    """Why these Ingresses cannot share one ALB.

    * Two members without host rules both match every request: only the first would get any
      traffic. Two members claiming the same host likewise.
    * `ssl-redirect` on one member redirects port 80 for the whole group, so a plain-HTTP
      member next to a TLS one would become unreachable: members agree on TLS.
    """
    problems = []
    catch_all = [m.name for m in members if not m.hostnames]
    if len(catch_all) > 1:
        problems.append(
            f"ALB group {group}: services {catch_all} have no hostnames, so each would match "
            "every request on the shared ALB; give all but one of them hostnames"
        )
    owners: dict[str, list[str]] = {}
    for member in members:
        for host in member.hostnames:
            owners.setdefault(host.lower(), []).append(member.name)
    for host, names in sorted(owners.items()):
        if len(names) > 1:
            problems.append(f"ALB group {group}: hostname {host!r} is claimed by {names}")
    if len({m.tls for m in members}) > 1:
        plain = [m.name for m in members if not m.tls]
        problems.append(
            f"ALB group {group}: {plain} serve plain HTTP next to TLS services; the group's "
            "HTTP->HTTPS redirect would make them unreachable. Give them a certificateArn"
        )
    return problems
