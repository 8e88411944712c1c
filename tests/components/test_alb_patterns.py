"""The ALB's pattern algebra and rule order (components/alb_patterns.py, components/alb.py):
tables of how two patterns relate as sets, and of members the shared ALB orders and refuses."""

from __future__ import annotations

import pytest

from components.alb import (
    CATCH_ALL_ORDER,
    EXACT_HOST_ORDER,
    EXACT_HOST_PATHS_ORDER,
    PATHS_ORDER,
    WILDCARD_HOST_ORDER,
    WILDCARD_HOST_PATHS_ORDER,
    GroupMember,
    evaluation_order,
    member_problems,
    route_problems,
    rule_order,
)
from components.alb_patterns import covers, intersects, path_pattern_problems, relation

RELATIONS = [
    ("*", "api.example.com", "wider"),
    ("*.example.com", "grafana.ops.example.com", "wider"),  # an ALB `*` crosses dots
    ("*.example.com", "example.com", "disjoint"),
    ("*.example.com", "*.api.example.com", "wider"),
    ("api.*", "*.example.com", "overlapping"),
    ("a.example.com", "a.example.com", "equal"),
    ("/api/*", "/api/users", "wider"),
    ("/api/*", "/api", "disjoint"),  # `/api/*` needs the slash
    ("/api*", "/api/*", "wider"),
    ("/api/*", "/*/admin", "overlapping"),
    ("/v?/*", "/v2/orders", "wider"),
    ("/v?/*", "/v10/orders", "disjoint"),  # `?` is exactly one character
    ("/v?", "/v10", "disjoint"),
    ("/a/*/c", "/a/b/c", "wider"),
    ("/a/*/c", "/a/*", "narrower"),
    ("/**", "/*", "equal"),
    ("/API/*", "/api/*", "disjoint"),  # paths are case-sensitive
]


@pytest.mark.parametrize("a, b, expected", RELATIONS)
def test_patterns_relate_as_the_sets_of_strings_they_match(a, b, expected):
    assert relation(a, b) == expected
    opposite = {"wider": "narrower", "narrower": "wider"}.get(expected, expected)
    assert relation(b, a) == opposite
    assert intersects(a, b) is (expected != "disjoint")
    assert covers(a, b) is (expected in ("wider", "equal"))


@pytest.mark.parametrize(
    "path",
    ["/", "/*", "/api/*", "/v?/status", "/static/app.*", "/a-b_c.d~e@f:g+h&i'j\"k$l/m"],
)
def test_globs_the_alb_takes_are_accepted(path):
    assert path_pattern_problems(path) == []


@pytest.mark.parametrize(
    "path, text",
    [
        ("api", "must start with '/' (did you mean '/api'?)"),
        ("/api/.*", "e.g. '/api/*'"),
        (".*", "regular expression"),
        ("/api/.+", "regular expression"),
        ("/a|b", "regular expression"),
        ("/a{1,2}", "regular expression"),
        ("/\\d+", "regular expression"),
        ("/q?a=1&b=2", "query string"),
        ("/a/**/b", "'**'"),
        ("/a#frag", "['#']"),
        ("/caf\u00e9", "not allowed"),
        (" /api", "must start with '/'"),
        ("/" + "x" * 200, "201 characters"),
        (None, "text, not empty"),
        (17, "text, not empty"),
    ],
)
def test_paths_an_operator_gets_wrong_are_named_with_the_fix(path, text):
    problems = path_pattern_problems(path)
    assert len(problems) == 1 and text in problems[0], problems


def test_route_problems_name_the_keys_of_one_members_own_rules():
    found = route_problems(["*.example.com"], ["/a/*", "/a/*", "/a/b", "/*/*/*/*/*"])
    assert ("paths[0] and paths[1]", "'/a/*' is listed twice; remove one") in found
    assert any(k == "paths[0] and paths[2]" and "already matched" in p for k, p in found)
    assert any(k == "hostnames[0] and paths[3]" and "6 wildcards" in p for k, p in found)
    assert route_problems(["a.example.com"], ["/a/*", "/b/*"]) == []


ORDERS = [
    ([], [], CATCH_ALL_ORDER),
    ([], ["/api/*"], PATHS_ORDER),
    (["a.example.com"], [], EXACT_HOST_ORDER),
    (["a.example.com"], ["/api/*"], EXACT_HOST_PATHS_ORDER),
    (["a.example.com", "*.example.com"], [], WILDCARD_HOST_ORDER),
    (["*.example.com"], ["/api/*"], WILDCARD_HOST_PATHS_ORDER),
]


@pytest.mark.parametrize("hosts, paths, order", ORDERS)
def test_the_more_specific_member_is_evaluated_first(hosts, paths, order):
    assert rule_order(hosts, paths) == order


def test_evaluation_order_is_the_controllers_order_then_namespace_and_name():
    members = [
        GroupMember("b", ["*.x.io"], tls=True, namespace="apps"),
        GroupMember("a", ["*.x.io"], tls=True, namespace="jobs"),
        GroupMember("c", ["*.x.io"], tls=True, namespace="apps"),
        GroupMember("ui", ["g.x.io"], tls=True, order=500),
        GroupMember("z", ["z.x.io"], tls=True, namespace="apps"),
    ]
    assert [m.name for m in evaluation_order(members)] == ["z", "ui", "b", "c", "a"]


def test_a_platform_member_keeps_its_host_even_from_a_narrower_rule_before_it():
    ui = GroupMember("grafana UI", ["grafana.ops.io"], True, order=500, where="ui",
                     fields=False, reserved=True)  # fmt: skip
    carve = GroupMember("a", ["grafana.ops.io"], True, paths=["/api/*"], where="services[0]")
    (problem,) = member_problems("internal", [ui, carve])
    assert problem.keys == ("services[0].hostnames[0]", "services[0].paths[0]", "ui")
    assert "UI hosts are its own" in problem.message
    # The same carve-out from an ordinary service is what paths are for.
    web = GroupMember("web", ["grafana.ops.io"], True, where="services[1]")
    assert member_problems("internal", [web, carve]) == []
