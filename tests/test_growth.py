"""The plan grows linearly with the number of services: 1, 10 and 40 services (the committed
prod and `make bench`'s copies of its service). Structural, not timed: resources per type and
the dependency edges the engine is told about must be exactly a + b x services, so no service
waits for every other service's resources (N x N edges) and nothing is registered per pair."""

from __future__ import annotations

from collections import Counter
from functools import cache

from infra.config import read_stack_config
from infra.offline.bench import SERVICE_COUNTS, services_config
from infra.offline.mockengine import Recording
from infra.offline.run import plan
from tests.conftest import planned


@cache
def _recording(count: int) -> Recording:
    if count == 1:
        return planned("prod")[1]
    return plan("prod", services_config("prod", count))[1]


def _linear(values: dict[int, int]) -> bool:
    (n0, v0), (n1, v1), (n2, v2) = sorted(values.items())
    return (v1 - v0) * (n2 - n1) == (v2 - v1) * (n1 - n0)


def test_one_service_is_the_committed_prod():
    assert SERVICE_COUNTS == (1, 10, 40)
    assert services_config("prod", 1) == read_stack_config("prod")
    forty = services_config("prod", 40)["platform:services"]
    assert len({s["name"] for s in forty}) == 40
    assert len({t["name"] for s in forty for t in s["topics"]}) == 40


def test_resources_of_every_type_grow_linearly_with_services():
    counts = {n: Counter(r.type for r in _recording(n).resources) for n in SERVICE_COUNTS}
    types = set().union(*counts.values())
    nonlinear = {t for t in types if not _linear({n: counts[n][t] for n in SERVICE_COUNTS})}
    assert nonlinear == set()
    # Each service adds its own objects (its Deployments, topic, role...), nothing shared.
    per_service = {t for t in types if counts[10][t] != counts[1][t]}
    assert {"kubernetes:apps/v1:Deployment", "aws:msk/topic:Topic"} <= per_service
    assert "kubernetes:helm.sh/v3:Release" not in per_service


def test_dependency_edges_grow_linearly_so_no_service_waits_for_every_other():
    edges = {n: sum(len(r.dependencies) for r in _recording(n).resources) for n in SERVICE_COUNTS}
    assert _linear(edges), edges
    topics = {t.urn for t in _recording(40).of_type("aws:msk/topic:Topic")}
    for deployment in _recording(40).of_type("kubernetes:apps/v1:Deployment"):
        chain = [deployment, *_recording(40).ancestors(deployment)]
        waited = {u for r in chain for u in r.dependencies} & topics
        assert len(waited) == 1, deployment.name  # its own topic only
