"""Routing several services on one shared ALB (issue 15, "Routing several services without
DNS", and class 6, "Overlaps on a shared ALB"): path patterns, rules compared as patterns in
the order the ALB evaluates them, and workers without an Ingress. Each refused case exits 2
through `make plan`, registers nothing through the program, and names every key involved."""

from __future__ import annotations

import pytest

from components.alb import (
    CATCH_ALL_ORDER,
    EXACT_HOST_ORDER,
    EXACT_HOST_PATHS_ORDER,
    PATHS_ORDER,
    RESERVED_ORDER,
    WILDCARD_HOST_ORDER,
)
from components.observability.ui import UI_ORDER
from infra.offline.run import plan
from tests.config_cases import assert_accepted, assert_refused
from tests.helpers import minimum

CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"
UI_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/ui-1"
S = "platform:services"


def svc(name: str, **fields) -> dict:
    return {
        "name": name,
        "image": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{name}",
        "tags": {"blue": "1.4.2", "green": "1.4.2"},
        "certificateArn": CERT,
        **fields,
    }


def services(*entries: dict, **config) -> dict:
    return {S: list(entries), **config}


UIS = {"platform:observability": {"uiDomain": "ops.example.com", "uiCertificateArn": UI_CERT}}


def _ids(table):
    return [case[0] for case in table]


# -- one service's paths: what the ALB takes, as the operator means it ---------------------------
PATHS = [
    ("no leading slash", services(svc("api", paths=["api/*"])),
     [(f"{S}[0].paths[0]", "must start with '/'"), (f"{S}[0].paths[0]", "'/api/*'")]),
    ("regex .*", services(svc("api", paths=["/api/.*"])),
     [(f"{S}[0].paths[0]", "looks like a regular expression")]),
    ("regex anchor", services(svc("api", paths=["^/api"])),
     [(f"{S}[0].paths[0]", "regular expression")]),
    ("regex class", services(svc("api", paths=["/web/*", "/users/[0-9]+"])),
     [(f"{S}[0].paths[1]", "regular expression")]),
    ("regex alternation", services(svc("api", paths=["/(v1|v2)/*"])),
     [(f"{S}[0].paths[0]", "globs")]),
    ("regex end anchor", services(svc("api", paths=["/healthz$"])),
     [(f"{S}[0].paths[0]", "e.g. '/healthz'")]),
    ("query string", services(svc("api", paths=["/search?q=1"])),
     [(f"{S}[0].paths[0]", "query string is not part of the path")]),
    ("globstar", services(svc("api", paths=["/static/**"])),
     [(f"{S}[0].paths[0]", "'**' is '*' on an ALB")]),
    ("percent escape", services(svc("api", paths=["/a%20b"])),
     [(f"{S}[0].paths[0]", "not allowed in an ALB path pattern")]),
    ("empty", services(svc("api", paths=[""])), [(f"{S}[0].paths[0]", "not empty")]),
    ("longer than 128", services(svc("api", paths=["/" + "a" * 128])),
     [(f"{S}[0].paths[0]", "129 characters, an ALB allows 128")]),
    ("listed twice", services(svc("api", paths=["/api/*", "/web/*", "/api/*"])),
     [(f"{S}[0].paths[0]", "listed twice"), (f"{S}[0].paths[2]", "listed twice")]),
    ("already matched by a wider one", services(svc("api", paths=["/api/v1/*", "/api/*"])),
     [(f"{S}[0].paths[1]", "already matched by '/api/*'"),
      (f"{S}[0].paths[0]", "already matched by '/api/*'")]),
    ("too many wildcards in one rule",
     services(svc("api", hostnames=["*.example.com"], paths=["/*/v?/*/x/*/y?"])),
     [(f"{S}[0].hostnames[0]", "6 wildcards"), (f"{S}[0].paths[0]", "allows 5")]),
    ("a host listed twice", services(svc("api", hostnames=["a.example.com", "a.example.com"])),
     [(f"{S}[0].hostnames[0]", "listed twice"), (f"{S}[0].hostnames[1]", "listed twice")]),
    ("a host already matched by a wildcard of the same service",
     services(svc("api", hostnames=["api.example.com", "*.example.com"])),
     [(f"{S}[0].hostnames[1]", "'api.example.com' is already matched by '*.example.com'"),
      (f"{S}[0].hostnames[0]", "remove the narrower one")]),
    ("one string, not a list", services(svc("api", paths="/api/*")),
     [(f"{S}[0].paths", "list")]),
]  # fmt: skip


@pytest.mark.parametrize("case", PATHS, ids=_ids(PATHS))
def test_a_path_the_alb_would_not_read_as_meant_is_refused(case, tmp_path, capsys):
    _, config, expected = case
    assert_refused(tmp_path, capsys, "dev", config, expected)


# -- rules of different services, in the order the ALB evaluates them -----------------------------
OVERLAPS = [
    ("the same host twice",
     services(svc("a", hostnames=["app.example.com"]), svc("b", hostnames=["app.example.com"])),
     [(f"{S}[0].hostnames[0]", "claimed by both 'a' and 'b'"),
      (f"{S}[1].hostnames[0]", "Ways out: give them distinct hostnames, or paths")]),
    ("the same host and path",
     services(svc("a", hostnames=["app.example.com"], paths=["/api/*"]),
              svc("b", hostnames=["app.example.com"], paths=["/api/*"])),
     [(f"{S}[0].paths[0]", "claimed by both"), (f"{S}[1].hostnames[0]", "claimed by both"),
      (f"{S}[1].paths[0]", "claimed by both")]),
    ("a wider path first on the same host",
     services(svc("a", hostnames=["app.example.com"], paths=["/api/*"]),
              svc("b", hostnames=["app.example.com"], paths=["/api/users"])),
     [(f"{S}[0].paths[0]", "would take every request meant for 'b'"),
      (f"{S}[1].paths[0]", "'a' (host 'app.example.com', path '/api/*') is evaluated before")]),
    ("a wildcard host first takes another's exact host",
     services(svc("a", hostnames=["*.example.com"]),
              svc("b", hostnames=["*.shop.io", "shop.example.com"])),
     [(f"{S}[0].hostnames[0]", "would take every request meant for 'b'"),
      (f"{S}[1].hostnames[1]", "host 'shop.example.com'")]),
    ("a wider wildcard host first",
     services(svc("a", hostnames=["*.example.com"]), svc("b", hostnames=["*.api.example.com"])),
     [(f"{S}[0].hostnames[0]", "every request meant for 'b'"),
      (f"{S}[1].hostnames[0]", "every request meant for 'b'")]),
    ("a wider path first on any host",
     services(svc("a", paths=["/api/*"]), svc("b", paths=["/api/v1/*"])),
     [(f"{S}[0].paths[0]", "every request meant for 'b'"), (f"{S}[1].paths[0]", "'b'")]),
    ("paths that partly overlap",
     services(svc("a", paths=["/api/*"]), svc("b", paths=["/*/admin"])),
     [(f"{S}[0].paths[0]", "the requests that match both"),
      (f"{S}[1].paths[0]", "the requests that match both")]),
    ("a '?' that takes a sibling path",
     services(svc("a", paths=["/v?/*"]), svc("b", paths=["/v2/orders"])),
     [(f"{S}[0].paths[0]", "every request meant for 'b'"), (f"{S}[1].paths[0]", "'b'")]),
    ("a service claims a monitoring UI's host",
     services(svc("a", hostnames=["grafana.ops.example.com"]), **UIS),
     [(f"{S}[0].hostnames[0]", "claimed by both 'a' and 'grafana UI'"),
      ("platform:observability.uiDomain", "claimed by both 'a' and 'grafana UI'")]),
    ("a service carves paths out of a monitoring UI's host",
     services(svc("a", hostnames=["grafana.ops.example.com"], paths=["/api/*"]), **UIS),
     [(f"{S}[0].paths[0]", "The platform's UI hosts are its own"),
      ("platform:observability.uiDomain", "would take the requests that match both")]),
    ("two catch-alls",
     services(svc("a"), svc("b")),
     [(f"{S}[0]", "no hostnames and no paths"), (f"{S}[1]", "give all but one of them")]),
    ("more rules than the listener holds",
     services(svc("a", hostnames=[f"h{i}.example.com" for i in range(11)],
                  paths=[f"/p{i}/*" for i in range(10)])),
     [(f"{S}[0]", "110 listener rules"), (f"{S}[0]", "quota of 100")]),
]  # fmt: skip


@pytest.mark.parametrize("case", OVERLAPS, ids=_ids(OVERLAPS))
def test_a_rule_that_takes_another_services_requests_is_refused(case, tmp_path, capsys):
    _, config, expected = case
    assert_refused(tmp_path, capsys, "dev", config, expected)


ACCEPTED = [
    # Exact hosts are evaluated before the UIs, and wildcard hosts after them.
    ("a wildcard host beside the UIs' hosts",
     services(svc("a", hostnames=["*.example.com"]), **UIS)),
    ("an exact host before a wildcard one, whatever the names",
     services(svc("z", hostnames=["api.example.com"]), svc("a", hostnames=["*.example.com"]))),
    ("paths carved out of a host another service keeps",
     services(svc("z", hostnames=["app.example.com"], paths=["/api/*"]),
              svc("a", hostnames=["app.example.com"]))),
    ("an API on a path next to the catch-all, no DNS names",
     services(svc("api", paths=["/api/*", "/healthz"]), svc("web"))),
    ("host-less paths after the UIs' hosts", services(svc("api", paths=["/api/*"]), **UIS)),
    ("disjoint paths", services(svc("a", paths=["/a/*"]), svc("b", paths=["/b/*"]))),
    ("the same paths on distinct hosts",
     services(svc("a", hostnames=["a.example.com"], paths=["/api/*"]),
              svc("b", hostnames=["b.example.com"], paths=["/api/*"]))),
    ("a worker next to a catch-all web service",
     services(svc("web"), {**svc("jobs", kind="worker", idleReplicas=0), "certificateArn": None})),
]  # fmt: skip


def _clean(config: dict) -> dict:
    # `certificateArn: None` in a case means "not set": drop it.
    return {
        key: [{k: v for k, v in e.items() if v is not None} for e in value] if key == S else value
        for key, value in config.items()
    }


@pytest.mark.parametrize("case", ACCEPTED, ids=_ids(ACCEPTED))
def test_rules_that_agree_are_accepted(case, tmp_path, capsys):
    assert_accepted(tmp_path, capsys, "dev", _clean(case[1]))


def test_the_order_tiers_put_the_specific_first():
    assert (
        EXACT_HOST_PATHS_ORDER
        < EXACT_HOST_ORDER
        < RESERVED_ORDER
        < WILDCARD_HOST_ORDER
        < PATHS_ORDER
        < CATCH_ALL_ORDER
    )
    assert UI_ORDER == RESERVED_ORDER


# -- workers: no Ingress, so every routing key is a mistake --------------------------------------
def worker(**fields) -> dict:
    entry = {k: v for k, v in svc("jobs", kind="worker", **fields).items() if v is not None}
    return entry


WORKERS = [
    ("hostnames", services(worker(certificateArn=None, hostnames=["jobs.example.com"])),
     [(f"{S}[0].hostnames", "a worker (kind: worker) has no Ingress")]),
    ("paths", services(worker(certificateArn=None, paths=["/jobs/*"])),
     [(f"{S}[0].paths", "remove it, or make the service kind: web")]),
    ("certificate", services(worker()), [(f"{S}[0].certificateArn", "a worker")]),
    ("public", services(worker(certificateArn=None, public=True)),
     [(f"{S}[0].public", "a worker")]),
    ("plain http opt-out", services(worker(certificateArn=None, allowPlainHttp=True)),
     [(f"{S}[0].allowPlainHttp", "a worker")]),
    ("traffic split", services(worker(certificateArn=None, trafficSplit=10)),
     [(f"{S}[0].trafficSplit", "no traffic to split")]),
    ("several at once", services(worker(hostnames=["j.example.com"], paths=["/j/*"])),
     [(f"{S}[0].hostnames", "a worker"), (f"{S}[0].paths", "a worker"),
      (f"{S}[0].certificateArn", "a worker")]),
    ("an unknown kind", services(svc("jobs", kind="cron")), [(f"{S}[0].kind", "worker")]),
]  # fmt: skip


@pytest.mark.parametrize("case", WORKERS, ids=_ids(WORKERS))
def test_a_worker_with_routing_keys_is_refused(case, tmp_path, capsys):
    _, config, expected = case
    assert_refused(tmp_path, capsys, "dev", config, expected)


def _objects(config: dict) -> dict[str, dict]:
    _, recording = plan("dev", {**minimum("dev"), **config})
    return {resource.name: resource.inputs for resource in recording.resources}


def test_a_worker_gets_its_deployments_and_no_ingress_service_or_alb_policy():
    recorded = _objects(services(svc("web"), worker(certificateArn=None, idleReplicas=0)))
    jobs = {name for name in recorded if name.startswith("jobs-")}
    assert "jobs-deployment-blue" in jobs and "jobs-deployment-green" in jobs
    assert not {n for n in jobs if "ingress" in n or n.startswith("jobs-service-")}, jobs
    assert "jobs-netpol-metrics" in jobs and "jobs-netpol-ingress" not in jobs
    assert recorded["jobs-deployment-green"]["spec"]["replicas"] == 0  # idle colour: no pods
    probe = recorded["jobs-deployment-blue"]["spec"]["template"]["spec"]["containers"][0]
    assert probe["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert "web-ingress" in recorded


def test_paths_reach_the_ingress_as_written_in_their_order():
    recorded = _objects(services(svc("api", paths=["/api/*", "/v?/status"]), svc("web")))
    rules = recorded["api-ingress"]["spec"]["rules"]
    assert [(p["path"], p["pathType"]) for p in rules[0]["http"]["paths"]] == [
        ("/api/*", "ImplementationSpecific"),
        ("/v?/status", "ImplementationSpecific"),
    ]
    annotations = recorded["api-ingress"]["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/group.order"] == str(PATHS_ORDER)
    web = recorded["web-ingress"]["metadata"]["annotations"]
    assert web["alb.ingress.kubernetes.io/group.order"] == str(CATCH_ALL_ORDER)
