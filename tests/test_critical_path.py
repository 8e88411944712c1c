"""The deploy critical path (infra/offline/critical_path.py): the algorithm on small graphs
whose answer is known, and the bound on the committed stacks: a first `up` is bounded by MSK."""

from __future__ import annotations

import pytest

from infra.config import ENVIRONMENTS
from infra.offline import critical_path as cp
from infra.offline.mockengine import RecordedResource, Recording
from tests.conftest import planned

MSK = "aws:msk/cluster:Cluster"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
EKS = "eks:index:Cluster"
RELEASE = "kubernetes:helm.sh/v3:Release"


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::p::{type_}::{name}"


def _resource(type_, name, deps=(), *, parent="", provider="", props=None, custom=True, **inputs):
    return RecordedResource(
        type=type_, name=name, urn=_urn(type_, name), parent=parent, custom=custom,
        inputs=inputs, protect=False, retain_on_delete=False, provider=provider,
        ignore_changes=[], dependencies=[_urn(*d) for d in deps],
        property_dependencies={k: [_urn(*d) for d in v] for k, v in (props or {}).items()},
    )  # fmt: skip


def _recording(*resources: RecordedResource) -> Recording:
    return Recording(list(resources), {}, set())


def _names(chain: cp.Chain) -> list[str]:
    return [r.name for r in chain.resources]


W = {t: cp.TYPICAL[t].minutes for t in (MSK, VPC, SUBNET, EKS, RELEASE)}


def test_the_longest_chain_sums_typical_times_and_picks_the_heavier_branch():
    rec = _recording(
        _resource(VPC, "vpc"),
        _resource(SUBNET, "a", [(VPC, "vpc")]),
        _resource(MSK, "kafka", [(SUBNET, "a")]),
        _resource(EKS, "eks", [(SUBNET, "a")], custom=False),
    )
    chain = cp.longest_chain(rec)
    assert _names(chain) == ["vpc", "a", "kafka"]
    assert chain.minutes == pytest.approx(W[VPC] + W[SUBNET] + W[MSK])
    assert W[MSK] > W[EKS]  # else the test would prove nothing


def test_a_chain_through_a_resource_is_the_longest_that_contains_it():
    rec = _recording(
        _resource(VPC, "vpc"),
        _resource(SUBNET, "a", [(VPC, "vpc")]),
        _resource(MSK, "kafka", [(SUBNET, "a")]),
        _resource(EKS, "eks", [(SUBNET, "a")], custom=False),
        _resource(RELEASE, "chart", [(EKS, "eks")], chart="other"),
    )
    chain = cp.longest_chain(rec, through=lambda r: r.name == "eks")
    assert _names(chain) == ["vpc", "a", "eks", "chart"]
    assert chain.minutes == pytest.approx(W[VPC] + W[SUBNET] + W[EKS] + W[RELEASE])
    assert cp.longest_chain(rec, through=lambda r: r.name == "none") == cp.Chain((), 0.0)


def test_property_dependencies_providers_and_parents_are_waits_too():
    provider_urn = _urn("pulumi:providers:kubernetes", "k8s")
    component = _urn("platform:x:Thing", "thing")
    rec = _recording(
        _resource(EKS, "eks", custom=False),
        _resource("pulumi:providers:kubernetes", "k8s", props={"kubeconfig": [(EKS, "eks")]}),
        _resource(MSK, "kafka"),
        # A component waits for its depends_on; its children wait for it (the SDK registers a
        # child only once its parent is registered).
        _resource("platform:x:Thing", "thing", [(MSK, "kafka")], custom=False),
        _resource(RELEASE, "child", parent=component, chart="other"),
        _resource(RELEASE, "via-provider", provider=f"{provider_urn}::id", chart="other"),
    )
    graph = cp.waits_for(rec)
    assert graph[_urn(RELEASE, "child")] == [component]
    assert graph[_urn(RELEASE, "via-provider")] == [provider_urn]
    assert graph[provider_urn] == [_urn(EKS, "eks")]
    assert _names(cp.longest_chain(rec)) == ["kafka", "thing", "child"]
    via = cp.longest_chain(rec, through=lambda r: r.name == "via-provider")
    assert _names(via) == ["eks", "k8s", "via-provider"]
    assert via.minutes == pytest.approx(W[EKS] + W[RELEASE])  # providers and components: 0


def test_unknown_custom_types_cost_an_api_call_and_charts_have_their_own_times():
    rec = _recording(
        _resource("aws:iam/role:Role", "role"),
        _resource(RELEASE, "kps", [("aws:iam/role:Role", "role")], chart="kube-prometheus-stack"),
    )
    chain = cp.longest_chain(rec)
    assert chain.minutes == pytest.approx(
        cp.API_CALL.minutes + cp.CHART_TYPICAL["kube-prometheus-stack"].minutes
    )
    assert [t for _, t in chain.steps()] == [cp.API_CALL, cp.CHART_TYPICAL["kube-prometheus-stack"]]


def test_a_cycle_is_refused_not_looped_over():
    rec = _recording(_resource(VPC, "a", [(SUBNET, "b")]), _resource(SUBNET, "b", [(VPC, "a")]))
    with pytest.raises(ValueError, match="dependency cycle"):
        cp.longest_chain(rec)


def test_every_time_has_a_source_and_every_type_in_the_table_is_in_a_plan():
    table = {**cp.TYPICAL, **{f"chart {c}": t for c, t in cp.CHART_TYPICAL.items()}}
    for key, typical in table.items():
        assert typical.minutes > 0 and typical.source.strip(), key
        assert "github.com/" in typical.source or typical.source.startswith("estimate:"), key
    registered = {r.type for env in ENVIRONMENTS for r in planned(env)[1].resources}
    charts = {r.inputs["chart"] for env in ENVIRONMENTS for r in planned(env)[1].of_type(RELEASE)}
    assert set(cp.TYPICAL) - registered == set()
    assert set(cp.CHART_TYPICAL) - charts == set()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_first_up_is_bounded_by_the_longest_chain_through_msk(env):
    """Issue 18's goal: the in-cluster layer installs in parallel, so nothing but MSK's own
    chain (VPC -> subnets -> MSK -> topics -> services) sets the time of a first `up`."""
    _, recording = planned(env)
    msk = cp.longest_chain(recording, through=cp.is_msk)
    assert msk.resources and any(cp.is_msk(r) for r in msk.resources)
    assert cp.longest_chain(recording).minutes <= 1.05 * msk.minutes
    # And the cluster side (EKS -> nodes -> add-ons -> releases) finishes before MSK does.
    assert cp.longest_chain(recording, through=lambda r: r.type == EKS).minutes < msk.minutes


def test_the_cluster_side_chain_no_longer_runs_through_every_controller(recording):
    """The chain through EKS: the observability releases wait for nodes, DNS and volumes, not
    for the load balancer controller and metrics-server."""
    chain = cp.longest_chain(recording, through=lambda r: r.type == EKS)
    names = [r.name for r in chain.resources]
    assert "cluster-aws-load-balancer-controller" not in names
    assert "cluster-metrics-server" not in names


def test_the_plan_prints_the_chain_and_the_msk_chain_beside_it(recording):
    chain = cp.longest_chain(recording)
    msk = cp.longest_chain(recording, through=cp.is_msk)
    lines = cp.render(recording)
    assert lines[0] == (
        f"Deploy critical path (first `up`, typical creation times): {chain.minutes:.1f} min"
    )
    assert lines[1 : 1 + len(chain.steps())] == [
        f"    {t.minutes:5.1f}  {r.type} {r.name!r}" for r, t in chain.steps()
    ]
    ratio = chain.minutes / msk.minutes
    through = f"{msk.minutes:.1f} min (the path is {ratio:.2f} of it)"
    assert f"    longest chain through MSK: {through}" in lines
    document = cp.to_json(recording)
    assert document["minutes"] == round(chain.minutes, 2)
    assert document["chain"] == [r.urn for r, _ in chain.steps()]
