"""Shared Application Load Balancers through the AWS Load Balancer Controller's IngressGroups.

Every Ingress of one IngressGroup becomes a rule set on one ALB. The controller refuses to
build a group whose members disagree on a group-wide setting (scheme, load balancer
attributes, inbound CIDRs, SSL policy, WAF ACL): the whole ALB then stops updating. So every
member's group-wide annotations come from `group_annotations`, the one place they are made.
Rules are evaluated in `group.order` (lower first), members of the same order by
`<namespace>/<name>` (the controller's tie-break), and within one Ingress in the order of its
rules and paths (it keeps ImplementationSpecific paths as written). `rule_order` puts the
more specific members first (exact hosts before the platform's own UIs, wildcard hosts after
them, host-less path rules after every host, the catch-all last), and `member_problems`
refuses what that order still gets wrong: a rule that takes requests a later, more specific
rule was written for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components import alb_patterns as patterns
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
# group.order by what a member matches, most specific first (see `rule_order`).
EXACT_HOST_PATHS_ORDER = 50  # exact hosts, some paths of them
EXACT_HOST_ORDER = 100  # exact hosts, every path
RESERVED_ORDER = 500  # the platform's own UIs (exact hosts): nothing may take their requests
WILDCARD_HOST_PATHS_ORDER = 600  # a wildcard host (`*.example.com`), some paths
WILDCARD_HOST_ORDER = 700
PATHS_ORDER = 900  # paths on any host: after every host rule
CATCH_ALL_ORDER = 1000  # a member without host or path rules matches every request: last
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


def rule_order(hostnames: Sequence[str], paths: Sequence[str]) -> int:
    """The group.order of a member with these rules: the more specific, the earlier."""
    if not hostnames:
        return PATHS_ORDER if paths else CATCH_ALL_ORDER
    if any(patterns.wildcards(host) for host in hostnames):
        return WILDCARD_HOST_PATHS_ORDER if paths else WILDCARD_HOST_ORDER
    return EXACT_HOST_PATHS_ORDER if paths else EXACT_HOST_ORDER


@dataclass(frozen=True)
class GroupMember:
    """What the group rules need to know about one Ingress of a shared ALB.

    Attributes:
        name: who the member is in messages (a service name, "grafana UI").
        hostnames: its host rules; empty matches any host.
        tls: whether it serves HTTPS.
        paths: its ALB path patterns; empty matches every path.
        namespace: the Ingress's namespace (the controller's tie-break within one order).
        order: its group.order; None derives it with `rule_order`.
        where: the config key that holds its rules (`services[0]`); messages name
            `<where>.hostnames[i]` / `<where>.paths[j]`, or `where` itself when `fields` is
            False (the UIs' hosts all come from one key).
        fields: whether `where` has `hostnames` and `paths` below it.
        reserved: platform-owned (the monitoring UIs): no other member may take any of its
            requests, whatever the order.
    """

    name: str
    hostnames: Sequence[str]
    tls: bool
    paths: Sequence[str] = ()
    namespace: str = ""
    order: int | None = None
    where: str = ""
    fields: bool = True
    reserved: bool = False

    @property
    def rule_order(self) -> int:
        return self.order if self.order is not None else rule_order(self.hostnames, self.paths)


@dataclass(frozen=True)
class GroupProblem:
    """One reason members cannot share an ALB, with every config key involved."""

    keys: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{' and '.join(self.keys)}: {self.message}" if self.keys else self.message


@dataclass(frozen=True)
class _Rule:
    member: GroupMember
    host: str | None
    path: str | None
    keys: tuple[str, ...]

    @property
    def host_pattern(self) -> str:
        return (self.host or patterns.ANY).lower()

    @property
    def path_pattern(self) -> str:
        return self.path or "/*"

    def describe(self) -> str:
        host = f"host {self.host!r}" if self.host else "any host"
        path = f"path {self.path!r}" if self.path else "every path"
        return f"{host}, {path}"


def _rules(member: GroupMember) -> list[_Rule]:
    """The member's listener rules in the order the controller writes them."""
    where = member.where or member.name

    def key(field: str, index: int) -> tuple[str, ...]:
        return (f"{where}.{field}[{index}]",) if member.fields else (where,)

    hosts = [(h, key("hostnames", i)) for i, h in enumerate(member.hostnames)] or [(None, ())]
    paths = [(p, key("paths", i)) for i, p in enumerate(member.paths)] or [(None, ())]
    return [
        _Rule(member, host, path, tuple(dict.fromkeys(hk + pk)) or (where,))
        for host, hk in hosts
        for path, pk in paths
    ]


def evaluation_order(members: Sequence[GroupMember]) -> list[GroupMember]:
    """Members as the controller orders them: group.order, then `<namespace>/<name>`."""
    return sorted(members, key=lambda m: (m.rule_order, f"{m.namespace}/{m.name}"))


def _overlap(first: _Rule, later: _Rule) -> str | None:
    """Why `first` (evaluated earlier) takes requests `later` was written for, if it does."""
    host = patterns.relation(first.host_pattern, later.host_pattern)
    path = patterns.relation(first.path_pattern, later.path_pattern)
    if "disjoint" in (host, path):
        return None
    if host == path == "equal":
        return "collision"
    # The earlier rule may carve a narrower part out of a later one: a narrower host, or the
    # same host and a narrower path. Anything else takes requests meant for the later rule.
    if not later.member.reserved and (
        host == "narrower" or (host == "equal" and path == "narrower")
    ):
        return None
    return "all" if host in ("equal", "wider") and path in ("equal", "wider") else "some"


def member_problems(group: str, members: Sequence[GroupMember]) -> list[GroupProblem]:
    """Why these Ingresses cannot share one ALB.

    * Two members without host or path rules both match every request: only the first would
      get any traffic. Two members claiming the same host and path likewise.
    * A rule evaluated first that matches requests a later rule was written for takes them:
      a wildcard host before an exact one, `/api/*` before `/api/users` on the same host,
      anything before a platform UI's host.
    * `ssl-redirect` on one member redirects port 80 for the whole group, so a plain-HTTP
      member next to a TLS one would become unreachable: members agree on TLS.
    * The listener's rule quota.
    """
    problems = []
    catch_all = [m for m in members if not m.hostnames and not m.paths]
    if len(catch_all) > 1:
        problems.append(
            GroupProblem(
                tuple(m.where or m.name for m in catch_all),
                f"ALB group {group}: services {[m.name for m in catch_all]} have no hostnames "
                "and no paths, so each would match every request on the shared ALB; give all "
                "but one of them hostnames or paths",
            )
        )
    rules = [rule for member in evaluation_order(members) for rule in _rules(member)]
    reported: set[tuple[str, str]] = set()
    for index, first in enumerate(rules):
        for later in rules[index + 1 :]:
            pair = (first.member.name, later.member.name)
            if first.member is later.member or pair in reported:
                continue
            if first.member in catch_all and later.member in catch_all:
                continue
            found = _overlap(first, later)
            if found is None:
                continue
            reported.add(pair)
            message = _message(group, first, later, found)
            problems.append(GroupProblem(first.keys + later.keys, message))
    if len({m.tls for m in members}) > 1:
        plain = [m for m in members if not m.tls]
        problems.append(
            GroupProblem(
                tuple(m.where or m.name for m in plain),
                f"ALB group {group}: {[m.name for m in plain]} serve plain HTTP next to TLS "
                "services; the group's HTTP->HTTPS redirect would make them unreachable. Give "
                "them a certificateArn",
            )
        )
    if len(rules) > patterns.MAX_RULES:
        counts = {m.name: len(_rules(m)) for m in members}
        problems.append(
            GroupProblem(
                tuple(dict.fromkeys(m.where or m.name for m in members)),
                f"ALB group {group}: {len(rules)} listener rules (one per hostname x path: "
                f"{counts}), above the ALB's quota of {patterns.MAX_RULES}; use fewer "
                "hostnames or paths per service, or raise the quota and this limit together",
            )
        )
    return problems


def _message(group: str, first: _Rule, later: _Rule, found: str) -> str:
    a, b = first.member.name, later.member.name
    ways = "Ways out: give them distinct hostnames, or paths that do not overlap"
    if found == "collision":
        return (
            f"ALB group {group}: {first.describe()} is claimed by both {a!r} and {b!r}; only "
            f"{a!r} would get its requests. {ways}"
        )
    if later.member.reserved:
        ways = (
            f"The platform's UI hosts are its own: give {a!r} hostnames or paths that do not "
            "match them"
        )
    what = "every request" if found == "all" else "the requests that match both, among those"
    one, two = first.member.rule_order, later.member.rule_order
    why = (
        f"group.order {one} before {two}"
        if one != two
        else f"both at group.order {one}, then by namespace/name: "
        f"{first.member.namespace}/{a} first"
    )
    return (
        f"ALB group {group}: {a!r} ({first.describe()}) is evaluated before {b!r} "
        f"({later.describe()}) and would take {what} meant for {b!r} (the ALB stops at the "
        f"first rule that matches; {why}). {ways}"
    )


def route_problems(hostnames: Sequence[str], paths: Sequence[str]) -> list[tuple[str, str]]:
    """One member's own routing mistakes as (the keys involved, why): each path a glob the
    ALB takes, none repeated or already matched by another of the same member, every rule
    (hostname x path) within the ALB's per-rule limits."""
    found: list[tuple[str, str]] = []
    valid = []
    for index, path in enumerate(paths):
        problems = patterns.path_pattern_problems(path)
        found += [(f"paths[{index}]", problem) for problem in problems]
        if not problems:
            valid.append((index, path))
    found += _repeats("paths", valid)
    # Host names are checked by the Ingress rule (lowercase DNS names, optionally `*.`).
    found += _repeats("hostnames", [(i, h.lower()) for i, h in enumerate(hostnames)])
    for h_index, host in enumerate(hostnames or [None]):
        for p_index, path in [(i, p) for i, p in valid] or [(None, None)]:
            keys = [f"hostnames[{h_index}]"] if host is not None else []
            keys += [f"paths[{p_index}]"] if path is not None else []
            for problem in patterns.rule_problems(host, path):
                found.append((" and ".join(keys) or "hostnames", problem))
    return found


def _repeats(field: str, values: Sequence[tuple[int, str]]) -> list[tuple[str, str]]:
    """Entries of one member's list that another entry already matches (same backend)."""
    found = []
    for position, (index, value) in enumerate(values):
        for other, earlier in values[:position]:
            if earlier == value:
                found.append(
                    (
                        f"{field}[{other}] and {field}[{index}]",
                        f"{value!r} is listed twice; remove one",
                    )
                )
                break
            wide, narrow = (other, index) if patterns.covers(earlier, value) else (index, other)
            if patterns.covers(earlier, value) or patterns.covers(value, earlier):
                texts = dict(values)
                found.append(
                    (
                        f"{field}[{wide}] and {field}[{narrow}]",
                        f"{texts[narrow]!r} is already matched by {texts[wide]!r} of the same "
                        "service (one backend); remove the narrower one",
                    )
                )
                break
    return found
